"""The audit trail: append-only, one line of details per event in lists."""

import json

from django.contrib import admin

from mlops.models import AuditEvent

from .base import ReadOnlyAdmin, pretty_json


def audit_summary(event: AuditEvent) -> str:
    """One line of an event's details for lists."""
    details = event.details or {}
    if event.action == AuditEvent.Action.DRAW_IMPORTED:
        return (
            f"{details.get('count')} draw(s), {details.get('first')}–"
            f"{details.get('last')} from {details.get('source')}"
        )
    for key in ("summary", "reason", "outcome"):
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

    @admin.display(description="Details")
    def summary(self, obj):
        return audit_summary(obj)

    @admin.display(description="Details")
    def details_pretty(self, obj):
        return pretty_json(obj.details)
