"""When draws happen, from the clock alone: weekly on Saturday, broadcast at 20:35 KST.

"The next draw" everywhere (ticket check, staleness, recommendations' target draw) comes
from these functions, never from the last stored draw: a history that stopped growing
must not make the service believe time stopped too.
"""

import datetime as dt
import threading
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from croniter import croniter
from django.conf import settings
from django.utils import timezone

from draws.models import FIRST_DRAW_DATE, expected_draw_date

KST = ZoneInfo("Asia/Seoul")
DRAW_TIME_KST = dt.time(20, 35)


@dataclass(frozen=True)
class ScheduledDraw:
    """A draw as the calendar places it: its number, its Saturday and its broadcast."""

    draw_no: int
    draw_date: dt.date
    draws_at: dt.datetime  # aware, Asia/Seoul


def scheduled_draw(draw_no: int) -> ScheduledDraw:
    """The calendar entry of draw `draw_no` (1 = 2002-12-07)."""
    if draw_no < 1:
        raise ValueError("draw numbers start at 1")
    day = expected_draw_date(draw_no)
    return ScheduledDraw(
        draw_no=draw_no,
        draw_date=day,
        draws_at=dt.datetime.combine(day, DRAW_TIME_KST, tzinfo=KST),
    )


def _now_kst(now: dt.datetime | None) -> dt.datetime:
    moment = now if now is not None else timezone.now()
    if timezone.is_naive(moment):
        raise ValueError("schedule functions need an aware datetime")
    return moment.astimezone(KST)


def last_scheduled_draw(now: dt.datetime | None = None) -> ScheduledDraw | None:
    """The latest draw whose broadcast time is at or before `now` (None before draw 1)."""
    moment = _now_kst(now)
    weeks = (moment.date() - FIRST_DRAW_DATE).days // 7
    candidate = scheduled_draw(max(weeks + 1, 1))
    if candidate.draws_at > moment:
        if candidate.draw_no == 1:
            return None
        candidate = scheduled_draw(candidate.draw_no - 1)
    return candidate


# (from, draw): the answer for "now", kept while the clock is in [from, its broadcast).
_next_draw: tuple[dt.datetime, ScheduledDraw] | None = None
_BEFORE_ALL = dt.datetime.min.replace(tzinfo=dt.UTC)


def next_scheduled_draw(now: dt.datetime | None = None) -> ScheduledDraw:
    """The first draw whose broadcast time is after `now`.

    Without `now` (the current time, asked on every recommendation) the answer
    is remembered until the clock leaves the week it holds for, either way.
    """
    global _next_draw
    moment = timezone.now() if now is None else now
    held = _next_draw
    if now is None and held is not None and held[0] <= moment < held[1].draws_at:
        return held[1]
    last = last_scheduled_draw(moment)
    upcoming = scheduled_draw(1 if last is None else last.draw_no + 1)
    if now is None:
        _next_draw = (_BEFORE_ALL if last is None else last.draws_at, upcoming)
    return upcoming


_sync_lock = threading.Lock()
_next_sync: dict = {}  # (crons) -> the next sync time they give, reused until it passes


def next_scheduled_sync(now: dt.datetime | None = None) -> dt.datetime | None:
    """When the draw sync runs next (DRAW_SYNC_CRON or its follow-up, in KST).

    The Q2 cluster evaluates these crons in Asia/Seoul. None when neither cron is
    valid (setup_schedules refuses such a deploy; callers fall back to a default).
    """
    moment = _now_kst(now)
    crons = (settings.DRAW_SYNC_CRON, settings.DRAW_SYNC_FOLLOWUP_CRON)
    with _sync_lock:
        remembered = _next_sync.get(crons)
    if remembered is not None and moment < remembered and now is None:
        return remembered
    runs = [
        croniter(cron, moment).get_next(dt.datetime)
        for cron in crons
        if croniter.is_valid(cron)
    ]
    if not runs:
        return None
    upcoming = min(runs).astimezone(KST)
    if now is None:
        with _sync_lock:
            _next_sync.clear()
            _next_sync[crons] = upcoming
    return upcoming
