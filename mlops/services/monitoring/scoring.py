"""Score recorded forecasts against the drawn numbers, once each.

Runs when draws arrive (the `draws_imported` receiver) and as a catch-up before
every monitor check, so a missed signal only delays a score. The score fields
are the only ones the frozen-forecast guard lets through after the draw.
"""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from draws.models import LottoDraw
from mlops.ml import metrics
from mlops.models import Prediction
from mlops.services.monitoring.predictions import (
    forecast_record_next,
    forecast_write_mirror,
)

logger = logging.getLogger(__name__)


def forecast_score_fields(
    *, top_numbers, probabilities, combinations, winning: list[int], bonus: int
) -> dict:
    """The score of one forecast against one draw (pure; see ML_ENGINE.md)."""
    combination_results = []
    for combination in combinations or []:
        matches = len(set(combination) & set(winning))
        combination_results.append(
            {
                "numbers": list(combination),
                "matches": matches,
                "bonus_match": bonus in combination,
                "tier": metrics.prize_tier(combination, winning, bonus),
            }
        )
    return {
        "hits": metrics.hits(top_numbers, winning),
        "bonus_hit": bonus in top_numbers,
        "brier_score": metrics.brier_score(probabilities, winning),
        "combination_results": combination_results,
    }


def _score_one(prediction: Prediction, draw: LottoDraw) -> bool:
    try:
        fields = forecast_score_fields(
            top_numbers=prediction.top_numbers,
            probabilities=prediction.probabilities,
            combinations=prediction.combinations,
            winning=draw.numbers,
            bonus=draw.bonus,
        )
    except (TypeError, ValueError):
        # A malformed stored forecast is reported and skipped; the others still
        # get their scores.
        logger.exception("Could not score %s", prediction)
        return False
    scored_at = timezone.now()
    # scored_at IS NULL in the filter: a concurrent scorer can't score it twice.
    updated = Prediction.objects.filter(
        pk=prediction.pk, scored_at__isnull=True
    ).update(scored_at=scored_at, **fields)
    if updated:
        for name, value in {"scored_at": scored_at, **fields}.items():
            setattr(prediction, name, value)
        transaction.on_commit(lambda: forecast_write_mirror(prediction))
    return bool(updated)


def _score(predictions: Iterable[Prediction]) -> int:
    predictions = list(predictions)
    draws = LottoDraw.objects.in_bulk(
        {prediction.target_draw_no for prediction in predictions}, field_name="draw_no"
    )
    scored = 0
    for prediction in predictions:
        draw = draws.get(prediction.target_draw_no)
        if draw is not None and _score_one(prediction, draw):
            scored += 1
    if scored:
        logger.info("Scored %d forecast(s) against the drawn numbers", scored)
    return scored


def predictions_score_for_draws(draw_nos: Iterable[int]) -> int:
    """Score every unscored forecast for these draws; return how many were scored.

    Idempotent: a scored forecast is never scored again.
    """
    wanted = {int(draw_no) for draw_no in draw_nos}
    if not wanted:
        return 0
    # A range, not IN (...): an import of the whole history sends 1,200+ numbers.
    pending = Prediction.objects.filter(
        scored_at__isnull=True,
        target_draw_no__gte=min(wanted),
        target_draw_no__lte=max(wanted),
    ).select_related("model_version")
    return _score(p for p in pending if p.target_draw_no in wanted)


def predictions_score_pending() -> int:
    """Score every unscored forecast whose draw is stored (the catch-up)."""
    latest = LottoDraw.objects.order_by("-draw_no").values_list("draw_no", flat=True)
    latest_draw_no = latest.first()
    if latest_draw_no is None:
        return 0
    pending = Prediction.objects.filter(
        scored_at__isnull=True, target_draw_no__lte=latest_draw_no
    ).select_related("model_version")
    return _score(pending)


def on_draws_imported(sender, draw_nos=(), **kwargs) -> None:
    """Receiver of draws.signals.draws_imported: score, then forecast the next draw.

    Runs after the import committed, so it must not raise: a failure here is
    logged and the monitor's catch-up scores the forecasts later.
    """
    try:
        predictions_score_for_draws(draw_nos)
    except Exception:
        logger.exception("Could not score the forecasts for draws %s", draw_nos)
    forecast_record_next()
