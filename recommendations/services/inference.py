"""The forecast for the next draw: from the active model, or statistical mode.

The forecast comes from the active model ("ml" mode) or, whenever the model can't
be trusted or is switched off, from `statistical.statistical_probabilities`
("statistical" mode, with a `fallback_reason`). Both give 45 values P(number k is
drawn) summing to 6.

The forecast for the next draw depends only on the active model and the stored
history, so each process computes it once and caches it (see forecast_cache.py).
Games are sampled from it by sampling.py; recommendation.py answers the API.
docs/ML_ENGINE.md, "Inference and fallback", describes the whole behaviour.
"""

import logging
import time
from dataclasses import replace

import numpy as np
from django.conf import settings

from draws.models import LottoDraw, expected_draw_date
from draws.schedule import next_scheduled_draw
from mlops.fallback_reasons import FallbackReason
from mlops.messages import message
from mlops.ml import features, pipeline
from mlops.ml.sampling import OFFICIAL_SLIP_GAMES, sample_games
from mlops.ml.statistical import statistical_probabilities
from mlops.models import ModelVersion
from mlops.observability.metrics import observe_inference

# Called through its module: a test injects a recording failure there.
from mlops.services.monitoring import predictions
from mlops.services.operations.self_heal import model_self_heal
from mlops.services.registry.registry import (
    ModelIntegrityError,
    model_download_context,
    model_version_check_stored,
    model_version_load,
)
from recommendations.services.fallback import FallbackError, fallback_note_outcome
from recommendations.services.forecast_cache import (
    Forecast,
    ForecastState,
    forecast_cache_get,
    forecast_cache_hold_model,
    forecast_cache_model,
)

logger = logging.getLogger(__name__)

ML = "ml"
STATISTICAL = "statistical"
POOL_SIZE = features.POOL_SIZE
PICKS = features.NUMBERS_PER_DRAW


class NoDrawsError(Exception):
    """No draws are stored: there is nothing to forecast from."""


def ml_enabled(use_ml_model: bool = True) -> bool:
    return bool(use_ml_model and settings.RECOMMENDATIONS_USE_ML)


def forecast_target_draw(latest_draw_no: int | None) -> int:
    """The draw a forecast is for: the calendar's next one (Saturday 20:35 KST).

    From the clock, never from the last stored draw: a history that stopped
    growing must not make the service forecast a draw already broadcast. A
    stored draw beyond the calendar (test data) moves it past that one.
    """
    return max(next_scheduled_draw().draw_no, (latest_draw_no or 0) + 1)


def _targets_next_draw(forecast: Forecast, state: ForecastState) -> bool:
    """The cached forecast still targets the next draw (the calendar moves on)."""
    return forecast.target_draw_no == forecast_target_draw(state.latest_draw_no)


def forecast_current(*, use_ml_model: bool = True) -> Forecast:
    """The forecast for the next draw; computed once per (model, history), cached.

    Raises NoDrawsError when no draws are stored.
    """
    want_ml = ml_enabled(use_ml_model)
    return forecast_cache_get(
        want_ml=want_ml,
        compute=lambda state: _compute(want_ml=want_ml, state=state),
        still_current=_targets_next_draw,
    )


def _history() -> tuple[list[int], np.ndarray]:
    rows = list(
        LottoDraw.objects.order_by("draw_no").values_list(
            "draw_no", "n1", "n2", "n3", "n4", "n5", "n6"
        )
    )
    numbers = np.array([row[1:] for row in rows], dtype=np.int64).reshape(-1, PICKS)
    return [row[0] for row in rows], numbers


def _compute(*, want_ml: bool, state: ForecastState) -> tuple[Forecast, bool]:
    """Compute the forecast; returns it and whether to retry the model later."""
    draw_nos, numbers = _history()
    if not draw_nos:
        raise NoDrawsError("No draws are stored yet: import the draw history first.")
    target = forecast_target_draw(draw_nos[-1])
    if not want_ml:
        fallback = FallbackError(FallbackReason.FORCED, message("fallback.forced"))
        return _statistical(numbers, target, fallback), False
    try:
        if len(draw_nos) < settings.ML_MIN_DRAWS:
            raise FallbackError(
                FallbackReason.INSUFFICIENT_DRAWS,
                message(
                    "fallback.insufficient_draws",
                    count=len(draw_nos),
                    minimum=settings.ML_MIN_DRAWS,
                ),
            )
        version = ModelVersion.objects.filter(pk=state.active_id).first()
        if version is None or not version.is_active:
            raise FallbackError(FallbackReason.NO_MODEL, message("fallback.no_model"))
        with model_download_context("request", unless_set=True):
            model, loaded = _load(version)
        probabilities = _predict(model, loaded, numbers)
    except FallbackError as fallback:
        forecast = _statistical(numbers, target, fallback)
        fallback_note_outcome(
            fallback.reason.value,
            fallback.detail,
            fallback.version,
            fallback.detail_message,
        )
        return forecast, fallback.reason.retryable
    forecast = _record(
        Forecast(
            probabilities=_read_only(probabilities),
            mode=ML,
            model_version=loaded.version,
            model_version_id=loaded.pk,
            feature_set_version=loaded.feature_set_version,
            validation_metrics=loaded.validation_metrics or None,
            target_draw_no=target,
            target_draw_date=expected_draw_date(target),
            fallback_reason=None,
            fallback_detail="",
            prediction_id=None,
        ),
        loaded,
    )
    fallback_note_outcome(None, "", loaded)
    # If self-heal switched versions, the next state check sees a new active
    # version and computes again (with the restored model already in memory).
    return forecast, False


def _load(version: ModelVersion) -> tuple[object, ModelVersion]:
    """The model and the version it is (the self-healed one if self-heal ran).

    The stored file is checked on every computation (local: read and hashed, a
    few ms; S3: a HEAD request), so a file removed or changed since the last one
    is noticed; only the unpickling is skipped when this process already holds
    that (pk, sha256).
    """
    try:
        try:
            return _load_verified(version), version
        except ModelIntegrityError as error:
            if error.reason == FallbackReason.STORAGE_UNAVAILABLE:
                # The store did not answer: the file may be fine, heal nothing.
                raise FallbackError(error.reason, _detail(error), version) from error
            healed = _self_heal(version, error)
            if healed is None:
                raise FallbackError(error.reason, _detail(error), version) from error
            try:
                return _load_verified(healed), healed
            except ModelIntegrityError as second:
                raise FallbackError(
                    error.reason,
                    message(
                        "fallback.healed_failed_too",
                        error=_detail(error),
                        version=healed.version,
                        second=_detail(second),
                    ),
                    version,
                ) from second
    except MemoryError as error:
        detail = message("fallback.memory_loading")
        raise FallbackError(FallbackReason.MEMORY_ERROR, detail, version) from error


def _detail(error: ModelIntegrityError) -> dict | str:
    """An integrity error's detail as a stored message (its text if it has none)."""
    return error.detail_message or str(error)


def _load_verified(version: ModelVersion):
    key = (version.pk, version.sha256)
    held = forecast_cache_model(key)
    if held is not None:
        model_version_check_stored(version)  # still there and unchanged?
        return held
    forecast_cache_hold_model(None)  # one model in memory at a time
    model = model_version_load(version)
    forecast_cache_hold_model(key, model)
    return model


def _self_heal(version: ModelVersion, error: ModelIntegrityError):
    """Ask operations to restore a good copy; the restored version, or None."""
    try:
        return model_self_heal(version=version, error=error)
    except MemoryError:
        return None
    except Exception:
        logger.exception("Self-heal of model %s failed", version.version)
        return None


def _predict(model, version: ModelVersion, numbers: np.ndarray) -> np.ndarray:
    if version.feature_set_version != features.FEATURE_SET_VERSION:
        raise FallbackError(
            FallbackReason.INFERENCE_ERROR,
            message(
                "fallback.feature_set",
                version=version.version,
                trained=version.feature_set_version,
                current=features.FEATURE_SET_VERSION,
            ),
            version,
        )
    started = time.perf_counter()
    try:
        row = features.build_feature_matrix(numbers)[-1]
        probabilities = np.asarray(pipeline.predict_probabilities(model, row), float)
    except MemoryError as exc:
        detail = message("fallback.memory_inference")
        raise FallbackError(FallbackReason.MEMORY_ERROR, detail, version) from exc
    except Exception as exc:
        detail = message("fallback.inference_error", error=repr(exc))
        raise FallbackError(FallbackReason.INFERENCE_ERROR, detail, version) from exc
    observe_inference(time.perf_counter() - started)
    valid = probabilities.shape == (POOL_SIZE,) and np.all(np.isfinite(probabilities))
    if not valid or probabilities.min() < 0 or probabilities.max() > 1:
        raise FallbackError(
            FallbackReason.INFERENCE_ERROR,
            message("fallback.invalid_probabilities", shape=str(probabilities.shape)),
            version,
        )
    return probabilities


def _statistical(numbers: np.ndarray, target: int, fallback: FallbackError) -> Forecast:
    logger.warning(
        "Falling back to statistical mode (reason: %s): %s",
        fallback.reason.value,
        fallback.detail,
    )
    started = time.perf_counter()
    probabilities = statistical_probabilities(numbers)
    observe_inference(time.perf_counter() - started)
    return _record(
        Forecast(
            probabilities=_read_only(probabilities),
            mode=STATISTICAL,
            model_version=None,
            model_version_id=None,
            feature_set_version=None,
            validation_metrics=None,
            target_draw_no=target,
            target_draw_date=expected_draw_date(target),
            fallback_reason=fallback.reason.value,
            fallback_detail=fallback.detail,
            prediction_id=None,
        ),
        None,
    )


def _read_only(values: np.ndarray) -> np.ndarray:
    array = np.array(values, dtype=np.float64)
    array.setflags(write=False)
    return array


def _record(forecast: Forecast, version: ModelVersion | None) -> Forecast:
    """Record the official forecast (once per computation); never fails serving.

    The official slip is OFFICIAL_SLIP_GAMES games sampled with seed =
    target_draw_no, so anyone can re-derive it from the stored probabilities.
    """
    try:
        prediction = predictions.forecast_record(
            target_draw_no=forecast.target_draw_no,
            target_draw_date=forecast.target_draw_date,
            mode=forecast.mode,
            model_version=version,
            probabilities=[float(p) for p in forecast.probabilities],
            combinations=sample_games(
                forecast.probabilities,
                count=OFFICIAL_SLIP_GAMES,
                seed=forecast.target_draw_no,
            ),
        )
    except Exception:
        logger.exception(
            "Could not record the forecast for draw %d; serving it anyway",
            forecast.target_draw_no,
        )
        return forecast
    return replace(forecast, prediction_id=prediction.pk)
