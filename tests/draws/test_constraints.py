"""The database itself refuses bad draws, whatever code writes them (SQLite and PG)."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from draws.models import LottoDraw

pytestmark = pytest.mark.django_db

VALID = {
    "draw_no": 7,
    "draw_date": dt.date(2003, 1, 18),
    "n1": 5,
    "n2": 10,
    "n3": 15,
    "n4": 20,
    "n5": 25,
    "n6": 30,
    "bonus": 35,
}
BAD_ROWS = {
    "draw number zero": {"draw_no": 0},
    "a number below 1": {"n1": 0},
    "a number above 45": {"n6": 46},
    "a bonus below 1": {"bonus": 0},
    "a bonus above 45": {"bonus": 46},
    "numbers out of order": {"n1": 12},
    "a duplicate number": {"n2": 5},
    "the bonus among the numbers": {"bonus": 20},
}


def test_a_valid_row_written_with_the_orm_is_accepted():
    LottoDraw.objects.create(**VALID)

    assert LottoDraw.objects.count() == 1


@pytest.mark.parametrize("case", BAD_ROWS, ids=list(BAD_ROWS))
def test_the_database_refuses_a_bad_row_created_with_the_orm(case):
    with pytest.raises(IntegrityError), transaction.atomic():
        LottoDraw.objects.create(**{**VALID, **BAD_ROWS[case]})

    assert LottoDraw.objects.count() == 0


@pytest.mark.parametrize("case", BAD_ROWS, ids=list(BAD_ROWS))
def test_the_database_refuses_an_update_that_breaks_a_stored_row(case):
    draw = LottoDraw.objects.create(**VALID)

    with pytest.raises(IntegrityError), transaction.atomic():
        LottoDraw.objects.filter(pk=draw.pk).update(**BAD_ROWS[case])

    draw.refresh_from_db()
    assert draw.numbers == [5, 10, 15, 20, 25, 30]
    assert (draw.draw_no, draw.bonus) == (7, 35)


def test_the_database_refuses_a_second_row_for_the_same_draw():
    LottoDraw.objects.create(**VALID)

    with pytest.raises(IntegrityError), transaction.atomic():
        LottoDraw.objects.create(**{**VALID, "bonus": 40})

    assert LottoDraw.objects.count() == 1


def test_bulk_create_cannot_slip_a_bad_row_past_the_database():
    rows = [LottoDraw(**VALID), LottoDraw(**{**VALID, "draw_no": 8, "n6": 99})]

    with pytest.raises(IntegrityError), transaction.atomic():
        LottoDraw.objects.bulk_create(rows)

    assert LottoDraw.objects.count() == 0
