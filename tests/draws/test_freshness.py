"""Staleness: the newest stored draw against the Saturday 20:35 KST calendar."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from draws.freshness import draw_freshness
from draws.schedule import KST, last_scheduled_draw, scheduled_draw
from tests.factories import store_draws

pytestmark = pytest.mark.django_db

# Draw 1220 was broadcast on Saturday 2026-04-18 at 20:35 KST.
DRAW_1221_AT = dt.datetime(2026, 4, 25, 20, 35, tzinfo=KST)


def test_an_empty_history_is_reported_as_empty():
    freshness = draw_freshness(now=DRAW_1221_AT)
    assert (freshness.status, freshness.latest_draw_no) == ("empty", None)
    assert freshness.stale


def test_a_draw_not_stored_within_the_grace_period_is_not_stale_yet(settings):
    settings.DRAWS_STALE_GRACE_HOURS = 24
    store_draws(1220)
    just_inside = DRAW_1221_AT + dt.timedelta(hours=23, minutes=59)
    freshness = draw_freshness(now=just_inside)
    assert freshness.status == "ok"
    assert freshness.missing_draws == 1  # broadcast, not stored, still in grace
    assert freshness.overdue_since is None


def test_a_draw_missing_past_the_grace_period_makes_the_history_stale(settings):
    settings.DRAWS_STALE_GRACE_HOURS = 24
    store_draws(1220)
    freshness = draw_freshness(now=DRAW_1221_AT + dt.timedelta(hours=24))
    assert freshness.status == "stale"
    assert freshness.overdue_since == DRAW_1221_AT + dt.timedelta(hours=24)
    assert freshness.latest_age_seconds == (7 * 24 + 24) * 3600


def test_the_grace_period_comes_from_settings(settings):
    settings.DRAWS_STALE_GRACE_HOURS = 2
    store_draws(1220)
    assert draw_freshness(now=DRAW_1221_AT + dt.timedelta(hours=2)).stale
    assert not draw_freshness(now=DRAW_1221_AT + dt.timedelta(hours=1)).stale


def test_months_without_a_sync_count_every_missing_draw():
    store_draws(1220)
    december = dt.datetime(2026, 12, 1, 12, 0, tzinfo=KST)
    freshness = draw_freshness(now=december)
    assert freshness.status == "stale"
    assert freshness.last_scheduled.draw_no == 1252  # Saturday 2026-11-28
    assert freshness.missing_draws == 1252 - 1220


def test_check_draws_says_the_history_is_stale_and_fails(settings):
    store_draws(1220)  # the real clock is far past draw 1220
    out = io.StringIO()
    with pytest.raises(CommandError, match="stale. Run: python manage.py sync_draws"):
        call_command("check_draws", stdout=out)
    last = last_scheduled_draw()
    assert "No gaps; every date is on the weekly cadence." in out.getvalue()
    assert (
        f"Stale: draws 1221-{last.draw_no} ({last.draw_no - 1220} draws, the first "
        "broadcast 2026-04-25 20:35 KST) are not stored; the newest stored draw is "
        "1220 (2026-04-18)." in out.getvalue()
    )


def test_check_draws_says_an_up_to_date_history_is_up_to_date():
    store_draws(last_scheduled_draw().draw_no)
    out = io.StringIO()
    call_command("check_draws", stdout=out)
    assert out.getvalue().splitlines()[-1] == (
        "Up to date: the newest broadcast draw is stored."
    )


def test_the_broadcast_time_of_a_draw_is_saturday_evening_in_seoul():
    assert scheduled_draw(1221).draws_at == DRAW_1221_AT
