"""One short value that changes whenever the stored draw history changes.

HTTP caching (ETags, rendered pages) keys on it. Each process keeps the value it
read for at most DRAWS_VERSION_CHECK_SECONDS, so a draw stored by another process
(the sync worker, a command) is seen within that time; a write in this process is
seen at once (`draw_history_changed` runs when its transaction commits).
"""

import threading
import time

from django.conf import settings
from django.db.models import Count, Max

from .models import LottoDraw

_lock = threading.Lock()
_memo: dict = {"value": None, "read_at": 0.0}


def draw_history_version() -> str:
    """`<latest draw_no>-<count>-<last change, µs>`; "empty" with no draw stored."""
    now = time.monotonic()
    with _lock:
        value, read_at = _memo["value"], _memo["read_at"]
    if value is not None and now - read_at < settings.DRAWS_VERSION_CHECK_SECONDS:
        return value
    figures = LottoDraw.objects.aggregate(
        latest=Max("draw_no"), count=Count("id"), changed=Max("updated_at")
    )
    if not figures["count"]:
        value = "empty"
    else:
        changed = figures["changed"]  # None for rows stored before 0002
        stamp = int(changed.timestamp() * 1_000_000) if changed else 0
        value = f"{figures['latest']}-{figures['count']}-{stamp}"
    with _lock:
        _memo.update(value=value, read_at=now)
    return value


def draw_history_changed() -> None:
    """Forget the remembered version: the next request reads it again."""
    with _lock:
        _memo.update(value=None, read_at=0.0)
