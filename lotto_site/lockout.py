"""What a locked-out login sees (django-axes calls this, AXES_LOCKOUT_CALLABLE)."""

import math

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext as _


def login_locked_out(request, original_response=None, credentials=None):
    """429 with Retry-After and a page that says when to try again."""
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    response = render(
        request,
        "registration/login_locked_out.html",
        {"cooloff_minutes": minutes, "title": _("Too many failed logins")},
        status=429,
    )
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
