"""What every mlops admin shares: read-only pages, 403 for forbidden actions."""

import json
import re

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


def _pretty_json(value) -> str:
    return format_html(
        '<pre style="white-space: pre-wrap; margin: 0">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True, default=str),
    )


def breakable_path(path: str) -> str:
    """A long path that may wrap after each "/" and "_" (lists stay in the window)."""
    parts = re.split(r"(?<=[/_])", path)
    return format_html_join(mark_safe("<wbr>"), "{}", ((part,) for part in parts))


def _errors(exc: ValidationError) -> str:
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
