"""Times as people and API clients read them: Korea Standard Time, always labelled.

People read `2026-12-08 00:00 KST` (the `kst` template filter, command output, admin);
the API writes ISO 8601 with the `+09:00` offset, one convention for every endpoint.
Machine values stay datetimes until the last moment: format only where text is made.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

KST = ZoneInfo("Asia/Seoul")
EMPTY = "—"


def to_kst(value: dt.datetime) -> dt.datetime:
    """The same instant on the Korean clock (a naive value is taken as KST)."""
    if timezone.is_naive(value):
        return value.replace(tzinfo=KST)
    return value.astimezone(KST)


def format_kst(value: dt.datetime | dt.date | None, *, seconds: bool = False) -> str:
    """`2026-12-08 00:00 KST` for a datetime, `2026-12-08` for a date, `—` for None."""
    if value is None:
        return EMPTY
    if not isinstance(value, dt.datetime):
        return value.isoformat()
    pattern = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return f"{to_kst(value).strftime(pattern)} KST"


def iso_kst(value: dt.datetime | dt.date | None) -> str | None:
    """ISO 8601 with the `+09:00` offset (the API's one convention); dates stay dates."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        return value.isoformat()
    return to_kst(value).isoformat()
