"""What every mlops admin shares: read-only pages, 403 for forbidden actions."""

import json
import re

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


def pretty_json(value) -> str:
    """A JSON value as an indented, wrapped <pre> block for a read-only field."""
    return format_html(
        '<pre style="white-space: pre-wrap; margin: 0">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True, default=str),
    )


def breakable_path(path: str) -> str:
    """A long path that may wrap after each "/" and "_" (lists stay in the window)."""
    parts = re.split(r"(?<=[/_])", path)
    return format_html_join(mark_safe("<wbr>"), "{}", ((part,) for part in parts))


# The largest value a PostgreSQL integer column holds: a bigger number matches
# nothing, it must not reach the database (DataError, a 500).
MAX_INTEGER = 2**31 - 1


def whole_number(text: str | None) -> int | None:
    """`text` as a non-negative integer if it is ASCII digits, else None.

    str.isdigit() is no test: it accepts "²", which int() refuses.
    """
    text = (text or "").strip()
    return int(text) if re.fullmatch(r"[0-9]{1,20}", text) else None


def error_text(exc: ValidationError) -> str:
    """A ValidationError's messages as one line for message_user."""
    return " ".join(exc.messages)


class ReadOnlyAdmin(admin.ModelAdmin):
    """The service writes the row; the admin shows it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ActionPermissionMixin:
    """403 instead of Django's "No action selected" for a forbidden action.

    Django hides an action the user may not run, and silently ignores it when it
    is posted anyway; a refusal should say so.
    """

    action_permissions: dict[str, str] = {}

    def changelist_view(self, request, extra_context=None):
        action = request.POST.get("action") if request.method == "POST" else None
        needed = self.action_permissions.get(action)
        if needed and not request.user.has_perm(needed):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)
