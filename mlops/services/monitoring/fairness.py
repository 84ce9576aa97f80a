"""Fairness of the draw process, recorded after each import (docs/STATISTICS.md).

After every import the tests of `draws.fairness` run over three windows of the
history (all draws, the last 52, the last 260) and one `DrawFairnessCheck` row
per window is stored under the newest draw number. /metrics, the operations page
and the alert read the newest row of each window.
"""

import logging

from django.db import transaction
from django.db.models import Subquery
from django.utils.translation import gettext

from draws import fairness
from draws.statistics import VERDICT_TEXT, history_arrays
from mlops.models import DrawFairnessCheck

logger = logging.getLogger(__name__)

WINDOWS = (
    (DrawFairnessCheck.Window.ALL, None),
    (DrawFairnessCheck.Window.LAST_52, 52),
    (DrawFairnessCheck.Window.LAST_260, 260),
)


def draw_fairness_record() -> list[DrawFairnessCheck]:
    """Test every window of the stored history that is long enough; store the rows."""
    draw_nos, main, bonus = history_arrays()
    checks = []
    for window, size in WINDOWS:
        length = len(draw_nos) if size is None else size
        if len(draw_nos) < max(length, fairness.MIN_WINDOW):
            continue
        result = fairness.fairness_test(main[-length:], bonus[-length:])
        with transaction.atomic():
            check, _ = DrawFairnessCheck.objects.update_or_create(
                draw_no=draw_nos[-1],
                window=window,
                defaults={
                    "draws": length,
                    "first_draw": draw_nos[-length],
                    "p_value": result["p_value"],
                    "main_p_value": result["main_uniformity"]["p_value"],
                    "bonus_p_value": result["bonus_uniformity"]["p_value"],
                    "per_number_p_value": result["per_number"]["min_adjusted_p_value"],
                    "overlap_p_value": result["consecutive_overlap"]["p_value"],
                    "verdict_code": result["verdict_code"],
                    "result": result,
                },
            )
        checks.append(check)
    return checks


def draw_fairness_latest() -> list[DrawFairnessCheck]:
    """The newest check of each window (one query), in the order all, 52, 260."""
    newest = DrawFairnessCheck.objects.order_by("-draw_no").values("draw_no")[:1]
    rows = DrawFairnessCheck.objects.filter(draw_no=Subquery(newest))
    order = [window for window, _ in WINDOWS]
    return sorted(rows, key=lambda check: order.index(check.window))


def draw_fairness_summary() -> list[dict]:
    """The newest checks for people: each window's p-values and verdict in words."""
    return [
        {
            "window": check.window,
            "draw_no": check.draw_no,
            "draws": check.draws,
            "first_draw": check.first_draw,
            "p_value": check.p_value,
            "main_p_value": check.main_p_value,
            "bonus_p_value": check.bonus_p_value,
            "per_number_p_value": check.per_number_p_value,
            "overlap_p_value": check.overlap_p_value,
            "biased_numbers": check.result.get("per_number", {}).get("rejected", []),
            "verdict_code": check.verdict_code,
            "verdict": gettext(VERDICT_TEXT[check.verdict_code]),
        }
        for check in draw_fairness_latest()
    ]


def on_draws_imported(sender, **kwargs) -> None:
    """Receiver of draws.signals.draws_imported: test the new history's fairness.

    A failure is logged and never undoes or blocks the import.
    """
    try:
        checks = draw_fairness_record()
    except Exception:
        logger.exception("The fairness tests after an import failed")
        return
    for check in checks:
        if check.verdict_code == fairness.BIAS:
            logger.warning(
                "Draw fairness: window %s at draw %s shows evidence of bias (p = %.3g)",
                check.window,
                check.draw_no,
                check.p_value,
            )
