import datetime as dt
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q, QuerySet

from .models import ALL_PRIZE_FIELDS, NUMBER_FIELDS, LottoDraw
from .versioning import draw_history_version


def draw_latest() -> LottoDraw | None:
    """The newest stored draw, or None when the history is empty."""
    return LottoDraw.objects.order_by("-draw_no").first()


def draw_get(*, draw_no: int) -> LottoDraw | None:
    """The stored draw with this number, or None."""
    return LottoDraw.objects.filter(draw_no=draw_no).first()


_known: dict = {"version": None, "draws": {}}
_known_lock = threading.Lock()
KNOWN_DRAWS_MAX = 5000


def draw_get_known(*, draw_no: int) -> LottoDraw | None:
    """draw_get, remembered in this process while the history version holds.

    The ticket check asks for the same few draws all day; the version (read at
    most every DRAWS_VERSION_CHECK_SECONDS) says when the answers may be stale.
    Callers must not change the returned draw.
    """
    version = draw_history_version()
    with _known_lock:
        if _known["version"] != version:
            _known.update(version=version, draws={})
        draws = _known["draws"]
        if draw_no in draws:
            return draws[draw_no]
    draw = draw_get(draw_no=draw_no)
    with _known_lock:
        if _known["version"] == version:
            if len(draws) >= KNOWN_DRAWS_MAX:
                draws.clear()
            draws[draw_no] = draw
    return draw


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


_numbers: dict = {"version": None, "lists": OrderedDict()}
KNOWN_NUMBER_LISTS_MAX = 16


def draw_numbers_known(**filters) -> array:
    """The numbers of the draws `draw_search(**filters)` finds, in its order.

    Remembered in this process per filter set while the history version holds
    (at most KNOWN_NUMBER_LISTS_MAX sets, least recently used dropped first): a
    page is then a slice of it, its length the count, so neither COUNT(*) nor
    OFFSET runs per request. 20,000 draws are 160 kB.
    """
    version = draw_history_version()
    key = tuple(sorted(filters.items()))
    with _known_lock:
        if _numbers["version"] != version:
            _numbers.update(version=version, lists=OrderedDict())
        lists = _numbers["lists"]
        if key in lists:
            lists.move_to_end(key)
            return lists[key]
    numbers = array("q", draw_search(**filters).values_list("draw_no", flat=True))
    with _known_lock:
        if _numbers["version"] == version:
            lists[key] = numbers
            while len(lists) > KNOWN_NUMBER_LISTS_MAX:
                lists.popitem(last=False)
    return numbers


# The columns the draws API shows, in the model's order (Model.from_db wants it);
# draws_by_numbers' draws carry only these.
_SHOWN = {"draw_no", "draw_date", *NUMBER_FIELDS, "bonus", "total_sales"}
SHOWN_FIELDS = tuple(
    field.attname
    for field in LottoDraw._meta.concrete_fields
    if field.attname in _SHOWN or field.attname in ALL_PRIZE_FIELDS
)
_DRAW_NO_AT = SHOWN_FIELDS.index("draw_no")
_rows: dict = {"version": None, "rows": None}


def draws_by_numbers(numbers: Sequence[int]) -> list[LottoDraw]:
    """The stored draws with these numbers, in the given order; a number no longer
    stored is left out. Only SHOWN_FIELDS are loaded; callers must not save them.

    Up to DRAWS_ROWS_IN_MEMORY_MAX draws, from this process's copy of those columns
    of the whole history (read in one query once per history version, about 300
    bytes a draw): no query per page. A longer history: one query by the unique
    draw_no index.
    """
    if not numbers:
        return []
    rows = _shown_rows()
    if rows is None:
        found = LottoDraw.objects.only(*SHOWN_FIELDS).in_bulk(
            list(numbers), field_name="draw_no"
        )
        return [found[number] for number in numbers if number in found]
    return [
        LottoDraw.from_db(DEFAULT_DB_ALIAS, SHOWN_FIELDS, rows[number])
        for number in numbers
        if number in rows
    ]


def _shown_rows() -> dict | None:
    """draw_no -> the SHOWN_FIELDS values, for the current history version; None
    when the history is longer than DRAWS_ROWS_IN_MEMORY_MAX."""
    version = draw_history_version()
    with _known_lock:
        if _rows["version"] == version:
            return _rows["rows"]
    if len(draw_numbers_known()) > settings.DRAWS_ROWS_IN_MEMORY_MAX:
        rows = None
    else:
        rows = {
            row[_DRAW_NO_AT]: row
            for row in LottoDraw.objects.values_list(*SHOWN_FIELDS)
        }
    with _known_lock:
        _rows.update(version=version, rows=rows)
    return rows
