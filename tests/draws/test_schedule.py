import datetime as dt

import pytest

from draws.schedule import (
    KST,
    last_scheduled_draw,
    next_scheduled_draw,
    scheduled_draw,
)


def kst(*args):
    return dt.datetime(*args, tzinfo=KST)


def test_draw_1220_is_broadcast_on_2026_04_18_at_20_35_kst():
    draw = scheduled_draw(1220)
    assert draw.draw_date == dt.date(2026, 4, 18)
    assert draw.draws_at == kst(2026, 4, 18, 20, 35)


@pytest.mark.parametrize(
    ("moment", "last", "next_"),
    [
        (kst(2026, 4, 18, 20, 34, 59), 1219, 1220),
        (kst(2026, 4, 18, 20, 35), 1220, 1221),
        (kst(2026, 4, 19, 9, 0), 1220, 1221),
        (kst(2026, 4, 25, 20, 34), 1220, 1221),
        (kst(2026, 12, 1, 13, 0), 1252, 1253),
    ],
)
def test_the_next_draw_turns_over_at_saturday_20_35_kst(moment, last, next_):
    assert last_scheduled_draw(moment).draw_no == last
    assert next_scheduled_draw(moment).draw_no == next_


def test_utc_instants_are_read_in_kst():
    # 11:35 UTC on Saturday is 20:35 KST: the draw has just been broadcast.
    moment = dt.datetime(2026, 4, 18, 11, 35, tzinfo=dt.UTC)
    assert last_scheduled_draw(moment).draw_no == 1220


def test_before_the_first_draw_there_is_no_last_draw():
    assert last_scheduled_draw(kst(2002, 12, 7, 20, 0)) is None
    assert next_scheduled_draw(kst(2002, 12, 1)).draw_no == 1


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="aware"):
        next_scheduled_draw(dt.datetime(2026, 4, 18, 12, 0))  # noqa: DTZ001


def test_the_next_draw_by_the_clock_follows_the_clock_both_ways(clock_at):
    # Remembered between calls, but never past the broadcast nor before the last.
    for moment, expected in [
        (kst(2026, 4, 18, 20, 34, 59), 1220),
        (kst(2026, 4, 18, 12, 0), 1220),
        (kst(2026, 4, 18, 20, 35), 1221),
        (kst(2026, 4, 25, 20, 34), 1221),
        (kst(2026, 4, 18, 20, 34, 59), 1220),
        (kst(2026, 4, 11, 20, 34, 59), 1219),
        (kst(2002, 12, 1), 1),
    ]:
        clock_at(moment)
        assert next_scheduled_draw().draw_no == expected, moment
