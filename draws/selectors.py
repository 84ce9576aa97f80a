import datetime as dt
from collections.abc import Iterable
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from .models import ALL_PRIZE_FIELDS, LottoDraw


def draw_latest() -> LottoDraw | None:
    """The newest stored draw, or None when the history is empty."""
    return LottoDraw.objects.order_by("-draw_no").first()


def draw_get(*, draw_no: int) -> LottoDraw | None:
    """The stored draw with this number, or None."""
    return LottoDraw.objects.filter(draw_no=draw_no).first()


def draw_search(
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    draw_from: int | None = None,
    draw_to: int | None = None,
    ordering: str = "-draw_no",
) -> QuerySet[LottoDraw]:
    """Stored draws within the given date and number ranges, in `ordering`."""
    draws = LottoDraw.objects.all()
    if date_from is not None:
        draws = draws.filter(draw_date__gte=date_from)
    if date_to is not None:
        draws = draws.filter(draw_date__lte=date_to)
    if draw_from is not None:
        draws = draws.filter(draw_no__gte=draw_from)
    if draw_to is not None:
        draws = draws.filter(draw_no__lte=draw_to)
    return draws.order_by(ordering)


def draws_missing_prizes(*, limit: int, exclude: Iterable[int] = ()) -> list[int]:
    """The newest `limit` stored draws lacking any prize figure, newest first."""
    if limit < 1:
        return []
    lacking = reduce(or_, (Q(**{f"{f}__isnull": True}) for f in ALL_PRIZE_FIELDS))
    return list(
        LottoDraw.objects.filter(lacking)
        .exclude(draw_no__in=list(exclude))
        .order_by("-draw_no")
        .values_list("draw_no", flat=True)[:limit]
    )
