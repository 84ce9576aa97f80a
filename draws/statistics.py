"""Number statistics of the draw history, next to what a fair draw would give.

What other lotto apps call hot and cold numbers: how often each number 1-45 was
drawn (as a main number and as the bonus) in a window of the latest draws, the
count a fair draw leads one to expect, how many draws ago it last came up and its
longest absence. Beside them, the window's fairness test (draws/fairness.py),
whose verdict says whether the differences mean anything. They almost never do:
a fair draw has no memory, so none of these figures changes the odds of the
next draw.

Computed once per window and per stored history (cached under the newest draw
number and the count), translated at the last moment.
"""

import numpy as np
from django.core.cache import cache
from django.db.models import Count, Max
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import fairness
from .models import LottoDraw

WINDOW_ALL = "all"
CACHE_PREFIX = "draws:number-statistics:v1"
CACHE_SECONDS = 7 * 24 * 3600  # the key changes with the next draw anyway

DISCLAIMER = _(
    "Lottery draws are random and independent: how often or how recently a number "
    "came up does not change its chance in the next draw (6 in 45 for every number)."
)
VERDICT_TEXT = {
    fairness.CONSISTENT: _("consistent with a fair draw"),
    fairness.BIAS: _("evidence of bias"),
}
INSUFFICIENT_TEXT = _("insufficient data")
INSUFFICIENT = "insufficient_data"


def history_stamp() -> tuple[int, int]:
    """(newest draw number, number of stored draws): the cache key of the history."""
    stamp = LottoDraw.objects.aggregate(newest=Max("draw_no"), count=Count("id"))
    return (stamp["newest"] or 0, stamp["count"])


def history_arrays(last: int | None = None) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Draw numbers, (n, 6) main numbers and (n,) bonuses, oldest first."""
    rows = LottoDraw.objects.order_by("-draw_no").values_list(
        "draw_no", "n1", "n2", "n3", "n4", "n5", "n6", "bonus"
    )
    if last is not None:
        rows = rows[:last]
    ordered = list(rows)[::-1]
    table = np.asarray(ordered, dtype=np.int64).reshape(len(ordered), 8)
    return [int(no) for no in table[:, 0]], table[:, 1:7], table[:, 7]


def gaps(incidence: np.ndarray) -> tuple[list[int | None], list[int]]:
    """Per number: draws since last seen (None if never in the window) and the
    longest run of draws without it (leading and trailing runs count)."""
    draws = incidence.shape[0]
    since, longest = [], []
    for column in incidence.T:
        seen = np.flatnonzero(column)
        if seen.size == 0:
            since.append(None)
            longest.append(draws)
            continue
        since.append(int(draws - 1 - seen[-1]))
        edges = np.concatenate([[-1], seen, [draws]])
        longest.append(int((np.diff(edges) - 1).max()))
    return since, longest


def number_statistics_compute(draw_nos, main: np.ndarray, bonus: np.ndarray) -> dict:
    """The language-free figures of one window (pure: arrays in, plain JSON out)."""
    n = len(draw_nos)
    incidence = np.zeros((n, fairness.POOL_SIZE + 1), dtype=bool)
    if n:
        np.put_along_axis(incidence, main, True, axis=1)
    main_counts = incidence[:, 1:].sum(axis=0)
    bonus_counts = fairness.number_counts(bonus[:, None]) if n else np.zeros(45, int)
    since, longest = gaps(incidence[:, 1:])
    test = fairness.fairness_test(main, bonus) if n >= fairness.MIN_WINDOW else None
    adjusted = test["per_number"]["adjusted_p_values"] if test else [None] * 45
    numbers = [
        {
            "number": number,
            "main_count": int(main_counts[number - 1]),
            "bonus_count": int(bonus_counts[number - 1]),
            "expected_main_count": n * fairness.NUMBERS_PER_DRAW / fairness.POOL_SIZE,
            "expected_bonus_count": n / fairness.POOL_SIZE,
            "draws_since_last_seen": since[number - 1],
            "longest_gap": longest[number - 1],
            "adjusted_p_value": adjusted[number - 1],
        }
        for number in range(1, fairness.POOL_SIZE + 1)
    ]
    return {
        "draws": n,
        "first_draw": draw_nos[0] if n else None,
        "last_draw": draw_nos[-1] if n else None,
        "numbers": numbers,
        "fairness": test,
    }


def number_statistics_get(
    *, window: int | None, stamp: tuple[int, int] | None = None
) -> dict:
    """The statistics of the last `window` draws (None: all), cached per history.

    `stamp` is `history_stamp()` when the caller has just read it.
    """
    latest, count = stamp or history_stamp()
    label = WINDOW_ALL if window is None else str(window)
    key = f"{CACHE_PREFIX}:{latest}:{count}:{label}"
    figures = cache.get(key)
    if figures is None:
        draw_nos, main, bonus = history_arrays(last=window)
        figures = {"window": label, **number_statistics_compute(draw_nos, main, bonus)}
        cache.set(key, figures, CACHE_SECONDS)
    return figures


def fairness_summary(test: dict | None) -> dict:
    """The window's fairness test for people: the verdict in words beside its code."""
    if test is None:
        return {
            "verdict_code": INSUFFICIENT,
            "verdict": gettext(INSUFFICIENT_TEXT),
            "min_draws": fairness.MIN_WINDOW,
        }
    code = test["verdict_code"]
    overlap = test["consecutive_overlap"]
    return {
        "verdict_code": code,
        "verdict": gettext(VERDICT_TEXT[code]),
        "alpha": test["alpha"],
        "p_value": test["p_value"],
        "main_uniformity": test["main_uniformity"],
        "bonus_uniformity": test["bonus_uniformity"],
        "biased_numbers": test["per_number"]["rejected"],
        "min_adjusted_p_value": test["per_number"]["min_adjusted_p_value"],
        "consecutive_overlap": {
            key: overlap[key]
            for key in ("pairs", "mean", "expected_mean", "observed", "expected")
        }
        | {"p_value": overlap["p_value"]},
    }
