"""The audit trail: append-only, one line of details per event in lists."""

import json

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from mlops.messages import is_message, render
from mlops.models import AuditEvent

from .base import ReadOnlyAdmin, pretty_json


def audit_summary(event: AuditEvent) -> str:
    """One line of an event's details for lists."""
    details = event.details or {}
    if event.action == AuditEvent.Action.DRAW_IMPORTED:
        return _("%(count)s draw(s), %(first)s–%(last)s from %(source)s") % {
            "count": details.get("count"),
            "first": details.get("first"),
            "last": details.get("last"),
            "source": details.get("source"),
        }
    for key in ("summary", "reason", "outcome"):
        # The service's own words are stored as a code: shown in the reader's
        # language. Older rows (and a person's typed reason) read as stored.
        if is_message(details.get(f"{key}_message")):
            return render(details[f"{key}_message"])[:120]
        if details.get(key):
            return str(details[key])[:120]
    return json.dumps(details, default=str)[:120]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Append-only: not even a superuser can add, change or delete an event here."""

    list_display = (
        "created_at",
        "actor_type",
        "actor",
        "action",
        "object_repr",
        "summary",
    )
    list_filter = ("action", "actor_type")
    search_fields = ("actor", "object_repr", "object_id")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "actor_type",
        "actor",
        "user",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "details_pretty",
    )
    readonly_fields = fields
    actions = None

    @admin.display(description=_("Details"))
    def summary(self, obj):
        return audit_summary(obj)

    @admin.display(description=_("Details"))
    def details_pretty(self, obj):
        return pretty_json(obj.details)
