import datetime as dt
import threading
from collections.abc import Iterable
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from .models import ALL_PRIZE_FIELDS, LottoDraw
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


_counts: dict = {"version": None, "counts": {}}


def draw_count_known(*, key, count) -> int:
    """`count()` of a filter set named `key`, remembered while the version holds."""
    version = draw_history_version()
    with _known_lock:
        if _counts["version"] != version:
            _counts.update(version=version, counts={})
        if key in _counts["counts"]:
            return _counts["counts"][key]
    value = count()
    with _known_lock:
        if _counts["version"] == version:
            if len(_counts["counts"]) >= KNOWN_DRAWS_MAX:
                _counts["counts"].clear()
            _counts["counts"][key] = value
    return value
