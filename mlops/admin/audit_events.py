"""The audit trail: append-only, one line of details per event in lists."""

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
    for key in ("summary", "reason", "detail", "outcome"):
        # The service's own words are stored as a code: shown in the reader's
        # language. Older rows (and a person's typed reason) read as stored.
        if is_message(details.get(f"{key}_message")):
            return render(details[f"{key}_message"])[:120]
        if details.get(key):
            return _readable(details[key])
    # Never JSON cut mid-string: the first few fields, each readable.
    return "; ".join(f"{k}: {v}" for k, v in audit_details_rows(event)[:3])


DETAIL_VALUE_LIMIT = 160


def _with_messages(details: dict) -> list[tuple[str, object]]:
    """(key, value) pairs where a stored message stands in for its English text.

    A service stores `reason` (English) beside `reason_message` (a code with
    parameters): the reader sees the message in their language under `reason`.
    """
    pairs = []
    for key, value in details.items():
        name = str(key)
        if name.endswith("_message") and (value is None or is_message(value)):
            if value is not None and name[: -len("_message")] not in details:
                pairs.append((name[: -len("_message")], value))
            continue
        stored = details.get(f"{name}_message")
        pairs.append((name, stored if is_message(stored) else value))
    return pairs


def _readable(value) -> str:
    """A detail value as text: lists joined, dicts as "key: value", long text cut."""
    if value is None or value == "" or value == []:
        return "—"
    if is_message(value):
        text = render(value)
    elif isinstance(value, dict):
        text = "; ".join(f"{k}: {_readable(v)}" for k, v in _with_messages(value))
    elif isinstance(value, list):
        text = ", ".join(_readable(item) for item in value)
    elif isinstance(value, float):
        text = f"{value:.4g}"
    else:
        text = str(value)
    if len(text) > DETAIL_VALUE_LIMIT:
        text = text[: DETAIL_VALUE_LIMIT - 1].rstrip() + "…"
    return text


def audit_details_rows(event: AuditEvent) -> list[tuple[str, str]]:
    """An event's details as (name, readable value) rows, for tables."""
    details = event.details or {}
    if not isinstance(details, dict):
        return [("details", _readable(details))]
    return [(key.replace("_", " "), _readable(v)) for key, v in _with_messages(details)]


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
