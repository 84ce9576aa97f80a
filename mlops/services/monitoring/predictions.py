"""Official forecasts: one per target draw and forecaster, frozen once drawn.

A forecast is recorded the first time one is made for a draw (after a model is
activated, or when the first recommendation for the draw is served). It is the
evidence the accuracy monitor is computed from, so it can only be recorded
before the draw's result is stored and can't be altered afterwards: this
service refuses it, `Prediction.save()` and its queryset refuse it below the
service, and database triggers (migration mlops 0003) refuse it below the ORM.
Only the score fields (and the served count) stay writable.
"""

import datetime as dt
import json
import logging
import math
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from draws.models import LottoDraw
from draws.timefmt import iso_kst
from mlops.ml import metrics
from mlops.models import FrozenForecastError, ModelVersion, Prediction
from mlops.services.monitoring.ledger import ledger_append
from mlops.services.registry.storage import METADATA_DIR, get_storage
from mlops.signals import forecast_due

logger = logging.getLogger(__name__)

PREDICTIONS_DIR = f"{METADATA_DIR}/predictions"


def forecast_mirror_path(prediction: Prediction) -> str:
    """The mirror's path under MODEL_ROOT: metadata/predictions/<draw>_<forecaster>."""
    return f"{PREDICTIONS_DIR}/{prediction.target_draw_no}_{prediction.forecaster}.json"


def forecast_as_dict(prediction: Prediction) -> dict:
    """The forecast and, once scored, its score, as plain JSON-ready values."""
    return {
        "id": prediction.pk,
        "target_draw_no": prediction.target_draw_no,
        "target_draw_date": str(prediction.target_draw_date),
        "mode": prediction.mode,
        "forecaster": prediction.forecaster,
        "model_version": prediction.model_version.version
        if prediction.model_version_id
        else None,
        "created_at": iso_kst(prediction.created_at) if prediction.created_at else None,
        "top_numbers": prediction.top_numbers,
        "probabilities": prediction.probabilities,
        "combinations": prediction.combinations,
        "served_count": prediction.served_count,
        "scored_at": iso_kst(prediction.scored_at),
        "hits": prediction.hits,
        "bonus_hit": prediction.bonus_hit,
        "brier_score": prediction.brier_score,
        "combination_results": prediction.combination_results,
    }


def forecast_write_mirror(prediction: Prediction) -> None:
    """Rewrite the operator's JSON copy; a failure is logged, never raised.

    The database is the source of truth: a full disk must not lose a forecast.
    """
    try:
        payload = json.dumps(forecast_as_dict(prediction), indent=2)
        get_storage().write_bytes(forecast_mirror_path(prediction), payload.encode())
    except Exception:
        logger.exception("Could not write the mirror of %s", prediction)


def _clean_probabilities(probabilities: Sequence[float]) -> list[float]:
    try:
        values = [float(value) for value in probabilities]
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"probabilities must be numbers: {exc}") from exc
    if len(values) != metrics.POOL_SIZE:
        raise ValidationError(
            f"probabilities must hold {metrics.POOL_SIZE} values (numbers 1-45), "
            f"got {len(values)}."
        )
    if not all(math.isfinite(value) and 0.0 <= value <= 1.0 for value in values):
        raise ValidationError("probabilities must all lie between 0 and 1.")
    return values


def _clean_combinations(combinations) -> list[list[int]]:
    cleaned = []
    for index, combination in enumerate(combinations or []):
        try:
            numbers = sorted(int(number) for number in combination)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"combination {index + 1}: {exc}") from exc
        if (
            len(numbers) != metrics.PICKS
            or len(set(numbers)) != metrics.PICKS
            or numbers[0] < 1
            or numbers[-1] > metrics.POOL_SIZE
        ):
            raise ValidationError(
                f"combination {index + 1} must be {metrics.PICKS} distinct numbers "
                f"in 1-{metrics.POOL_SIZE}, got {list(combination)}."
            )
        cleaned.append(numbers)
    return cleaned


def _forecaster(mode: str, model_version: ModelVersion | None) -> str:
    if mode == Prediction.Mode.ML:
        if model_version is None:
            raise ValidationError(
                "An ml forecast needs the model version that made it."
            )
        return model_version.version
    if mode == Prediction.Mode.STATISTICAL:
        if model_version is not None:
            raise ValidationError("A statistical forecast has no model version.")
        return Prediction.STATISTICAL_FORECASTER
    raise ValidationError(
        f"mode must be one of {Prediction.Mode.values}, got {mode!r}."
    )


def _refuse_if_not_ahead(target_draw_no: int) -> None:
    latest = (
        LottoDraw.objects.filter(draw_no__gte=target_draw_no)
        .order_by("-draw_no")
        .values_list("draw_no", flat=True)
        .first()
    )
    if latest is not None:
        raise FrozenForecastError(
            f"Draw {target_draw_no} can no longer be forecast: draw {latest} is "
            "already stored (a forecast made after the fact is not a forecast)."
        )


def forecast_record(
    *,
    target_draw_no: int,
    target_draw_date: dt.date,
    mode: str,
    model_version: ModelVersion | None,
    probabilities: Sequence[float],
    combinations: Sequence[Sequence[int]] = (),
) -> Prediction:
    """Record the official forecast of a draw by a forecaster; the first one wins.

    A later call for the same draw and forecaster returns the stored row
    unchanged. Refused (FrozenForecastError, a ValidationError) when the target
    draw, or any later one, is already stored; the model's save() refuses the
    insert too if the draw arrives between this check and the insert.
    """
    if int(target_draw_no) < 1:
        raise ValidationError(f"target_draw_no must be >= 1, got {target_draw_no}.")
    if not isinstance(target_draw_date, dt.date):
        raise ValidationError("target_draw_date must be a date.")
    forecaster = _forecaster(mode, model_version)
    values = _clean_probabilities(probabilities)
    cleaned_combinations = _clean_combinations(combinations)
    _refuse_if_not_ahead(int(target_draw_no))
    existing = Prediction.objects.filter(
        target_draw_no=target_draw_no, forecaster=forecaster
    ).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            prediction = Prediction.objects.create(
                target_draw_no=target_draw_no,
                target_draw_date=target_draw_date,
                mode=mode,
                model_version=model_version,
                forecaster=forecaster,
                probabilities=values,
                top_numbers=metrics.top_numbers(values),
                combinations=cleaned_combinations,
            )
            # Linked in the same transaction: a forecast is never recorded
            # without its place in the ledger.
            ledger_append(prediction)
    except IntegrityError:
        # Another process recorded it between our read and our insert: theirs wins.
        existing = Prediction.objects.filter(
            target_draw_no=target_draw_no, forecaster=forecaster
        ).first()
        if existing is None:
            raise
        return existing
    transaction.on_commit(lambda: forecast_write_mirror(prediction))
    logger.info("Recorded %s (top-6 %s)", prediction, prediction.top_numbers)
    return prediction


def forecast_note_served(prediction_id: int, count: int = 1) -> int:
    """Add `count` served recommendations to a forecast; return rows updated (0/1)."""
    if int(count) < 1:
        raise ValidationError(f"count must be >= 1, got {count}.")
    return Prediction.objects.filter(pk=prediction_id).update(
        served_count=F("served_count") + int(count)
    )


def forecast_record_next() -> None:
    """Ask serving to compute (and so record) the forecast for the next draw.

    Called after an activation and after new draws are stored, so that every
    draw gets its official forecast whether or not anyone asks for numbers.
    Sends `forecast_due` (serving listens; mlops never imports it). Never
    raises: an activation or an import must not fail because of it.
    """
    for receiver, result in forecast_due.send_robust(sender=Prediction):
        if isinstance(result, Exception):
            logger.error(
                "Could not record the forecast for the next draw (%s)",
                receiver,
                exc_info=result,
            )


def on_model_activated(sender, **kwargs) -> None:
    """Receiver of mlops.signals.model_activated: record the new model's forecast."""
    forecast_record_next()
