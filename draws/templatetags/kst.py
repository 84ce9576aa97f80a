"""`{% load kst %}` then `{{ value|kst }}` (`2026-12-08 00:00 KST`) or `|kst:"seconds"`."""

import datetime as dt

from django import template

from draws.timefmt import format_kst

register = template.Library()


@register.filter(name="kst")
def kst(value, arg: str = ""):
    """A datetime as people read it here: Korea Standard Time, labelled."""
    if value in (None, ""):
        return format_kst(None)
    if isinstance(value, str):  # an ISO timestamp from a service's dict
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return format_kst(value, seconds=arg == "seconds")
