"""Is the stored history up to date? The clock says which draws should be stored.

A draw is due once its broadcast (Saturday 20:35 KST, `draws.schedule`) is
`DRAWS_STALE_GRACE_HOURS` behind us; the history is stale when the draw after the
newest stored one is due. The grace covers the scheduled syncs (Saturday 21:30 and
the Sunday follow-up): a few hours after the broadcast "not stored yet" is normal.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from .models import LottoDraw
from .schedule import ScheduledDraw, last_scheduled_draw, scheduled_draw

FRESH = "ok"
STALE = "stale"
EMPTY = "empty"


@dataclass(frozen=True)
class DrawFreshness:
    """The newest stored draw against the calendar, at one moment."""

    status: str  # "ok", "stale" or "empty": a machine code, never translated
    latest_draw_no: int | None
    latest_draw_date: dt.date | None
    last_scheduled: ScheduledDraw | None  # the newest draw already broadcast
    overdue_since: dt.datetime | None  # when the first missing draw became due
    grace: dt.timedelta
    checked_at: dt.datetime

    @property
    def stale(self) -> bool:
        return self.status != FRESH

    @property
    def missing_draws(self) -> int:
        """Draws already broadcast that are not stored (0 when none are)."""
        if self.last_scheduled is None:
            return 0
        return max(0, self.last_scheduled.draw_no - (self.latest_draw_no or 0))

    @property
    def latest_age_seconds(self) -> float | None:
        """Seconds since the newest stored draw was broadcast."""
        if self.latest_draw_no is None:
            return None
        drawn = scheduled_draw(self.latest_draw_no).draws_at
        return (self.checked_at - drawn).total_seconds()


def draw_freshness(now: dt.datetime | None = None) -> DrawFreshness:
    """Whether the newest stored draw is as new as the calendar says it should be."""
    now = now or timezone.now()
    grace = dt.timedelta(hours=settings.DRAWS_STALE_GRACE_HOURS)
    latest = (
        LottoDraw.objects.order_by("-draw_no").values("draw_no", "draw_date").first()
    )
    latest_no = latest["draw_no"] if latest else None
    due = scheduled_draw((latest_no or 0) + 1).draws_at + grace
    if latest is None:
        status = EMPTY
    else:
        status = STALE if now >= due else FRESH
    return DrawFreshness(
        status=status,
        latest_draw_no=latest_no,
        latest_draw_date=latest["draw_date"] if latest else None,
        last_scheduled=last_scheduled_draw(now),
        overdue_since=due if now >= due else None,
        grace=grace,
        checked_at=now,
    )
