"""check_draws: passes on the shipped history, reports gaps and off-cadence dates."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from draws.models import LottoDraw

pytestmark = pytest.mark.django_db


def check_draws() -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("check_draws", stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def test_the_shipped_history_has_no_gaps_and_keeps_the_cadence(shipped_draws):
    out, error = check_draws()

    assert out.splitlines()[:2] == [
        "1220 draw(s) stored, 1-1220.",
        "No gaps; every date is on the weekly cadence.",
    ]
    # It ends on 2026-04-18: by the clock of this round it is months behind.
    assert out.splitlines()[2].startswith("Stale: draws 1221-")
    assert str(error) == "The draw history is stale. Run: python manage.py sync_draws"


def test_it_lists_missing_draws_and_fails(draw_factory):
    for draw_no in (1, 2, 3, 5, 6, 8):
        draw_factory(draw_no=draw_no)

    out, error = check_draws()

    assert "Missing 2: 4, 7" in out
    assert str(error) == "The draw history has gaps or off-cadence dates."


def test_it_lists_draws_dated_off_the_weekly_cadence_and_fails(draw_factory):
    for draw_no in (1, 2, 3):
        draw_factory(draw_no=draw_no)
    LottoDraw.objects.filter(draw_no=2).update(draw_date=dt.date(2002, 12, 15))

    out, error = check_draws()

    assert "Draw 2: dated 2002-12-15, expected 2002-12-14" in out
    assert "Missing" not in out
    assert error is not None


def test_it_fails_on_an_empty_history_and_says_how_to_fill_it():
    out, error = check_draws()

    assert str(error) == "No draws stored. Run: python manage.py import_draws"
