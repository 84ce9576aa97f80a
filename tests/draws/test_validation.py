"""parse_draw: one set of rules for every source; no database needed."""

import datetime as dt

import pytest

from draws.validation import DrawRecord, RowError, parse_draw

EXPECTED = DrawRecord(
    draw_no=1,
    draw_date=dt.date(2002, 12, 7),
    numbers=(10, 23, 29, 33, 37, 40),
    bonus=16,
    total_sales=3681782000,
    first_prize_winners=0,
    first_prize_amount=0,
)
NAMINGS = {
    "our CSV": {
        "draw_no": "1",
        "draw_date": "2002-12-07",
        **{f"n{i}": str(n) for i, n in enumerate((10, 23, 29, 33, 37, 40), 1)},
        "bonus": "16",
        "total_sales": "3,681,782,000",
        "rank1_winners": "0",
        "rank1_prize_each": "0",
    },
    "the current official API": {
        "ltEpsd": 1,
        "ltRflYmd": "20021207",
        **{f"tm{i}WnNo": n for i, n in enumerate((10, 23, 29, 33, 37, 40), 1)},
        "bnsWnNo": 16,
        "wholEpsdSumNtslAmt": 3681782000,
        "rnk1WnNope": 0,
        "rnk1WnAmt": 0,
    },
    "the legacy official API": {
        "returnValue": "success",
        "drwNo": 1,
        "drwNoDate": "2002-12-07",
        **{f"drwtNo{i}": n for i, n in enumerate((10, 23, 29, 33, 37, 40), 1)},
        "bnusNo": 16,
        "totSellamnt": 3681782000,
        "firstPrzwnerCo": 0,
        "firstWinamnt": 0,
    },
}


@pytest.mark.parametrize("naming", NAMINGS, ids=list(NAMINGS))
def test_every_source_naming_gives_the_same_record(naming):
    assert parse_draw(NAMINGS[naming], row=2) == (EXPECTED, [])


def test_the_cadence_is_checked_only_when_asked():
    raw = {**NAMINGS["our CSV"], "draw_date": "2002-12-08"}

    assert parse_draw(raw, row=2)[1] == []
    assert parse_draw(raw, row=2, require_cadence=True)[1] == [
        RowError(
            2, "draw_date", "2002-12-08 is not the weekly date 2002-12-07 of draw 1"
        )
    ]


def test_a_missing_date_is_reported_as_missing():
    raw = {**NAMINGS["our CSV"], "draw_date": ""}

    assert parse_draw(raw, row=4) == (None, [RowError(4, "draw_date", "missing")])


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("12.5", "not a whole number: '12.5'"),
        (True, "not a whole number: True"),
        ("twelve", "not a whole number: 'twelve'"),
    ],
)
def test_a_number_must_be_a_whole_number(value, reason):
    raw = {**NAMINGS["our CSV"], "n1": value}

    assert parse_draw(raw, row=2) == (None, [RowError(2, "n1", reason)])


def test_a_whole_number_written_as_a_float_is_accepted():
    raw = {**NAMINGS["the current official API"], "tm1WnNo": 10.0}

    assert parse_draw(raw, row=1)[0] == EXPECTED


def test_negative_prize_figures_are_refused():
    raw = {**NAMINGS["our CSV"], "total_sales": "-1"}

    assert parse_draw(raw, row=2)[1] == [
        RowError(2, "total_sales", "must not be negative: -1")
    ]


def test_a_row_error_reads_as_one_line_naming_row_field_and_reason():
    error = RowError(7, "bonus", "missing")

    assert str(error) == "row 7, field bonus: missing"
    assert error.describe("draw") == "draw 7, field bonus: missing"
