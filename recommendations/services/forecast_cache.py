"""The per-process cache of the forecast for the next draw.

The forecast for the next draw depends only on the active model and the stored
history, so each process computes it once (inference.py) and caches it here,
with the loaded model, until the state it was computed from changes.
"""

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from django.conf import settings
from django.db.models import Count, Max

from draws.models import LottoDraw
from mlops.models import ModelVersion
from mlops.services.registry.prefetch import model_prefetch_ready
from mlops.serving_state import ServingState, model_file_checks_forget
from recommendations.services.served_counts import forecast_served_forget


@dataclass(frozen=True)
class Forecast:
    """The forecast for one target draw by one forecaster, as cached."""

    probabilities: np.ndarray  # (45,), read-only; index k-1 is number k
    mode: str  # "ml" | "statistical"
    model_version: str | None
    model_version_id: int | None
    feature_set_version: str | None
    validation_metrics: dict | None  # the active model's, as stored at training
    target_draw_no: int
    target_draw_date: dt.date
    fallback_reason: str | None
    fallback_detail: str
    prediction_id: int | None  # the mlops.Prediction row recorded for it


@dataclass(frozen=True)
class ForecastState:
    """What the cached forecast depends on, as read from the database."""

    active_id: int | None
    active_sha256: str
    latest_draw_no: int | None
    draw_count: int
    # Changes when the draws are deleted and stored again with the same numbers.
    draws_changed_at: dt.datetime | None


@dataclass(frozen=True)
class _Entry:
    state: ForecastState
    forecast: Forecast
    computed_at: float  # monotonic
    retry: bool  # a retryable fallback: try the model again after a while


_UNSET = object()


class _ForecastCache:
    """Per-process cache of the forecast, the loaded model and the state check.

    Reads are lock-free (each attribute is replaced whole, never mutated in
    place); computing a forecast holds `lock`, so concurrent threads compute it
    once. An RLock: self-heal activates a version while the lock is held, and the
    forecast_due receiver runs in the same thread.
    """

    def __init__(self):
        self.lock = threading.RLock()
        self.state: tuple[float, ForecastState] | None = None  # (checked at, state)
        self.entries: dict[bool, _Entry] = {}  # keyed by "ML wanted"
        self.model: tuple[tuple[int, str], object] | None = None
        self.last_outcome = _UNSET  # fallback reason or None, ML-wanted path


_cache = _ForecastCache()


def forecast_cache_clear() -> None:
    """Forget everything this process holds, unwritten served counts too (tests)."""
    global _cache
    _cache = _ForecastCache()
    forecast_served_forget()
    model_file_checks_forget()


def forecast_cache_invalidate() -> None:
    """Drop the cached forecasts and re-read the state on the next request."""
    _cache.state = None
    _cache.entries = {}


def forecast_cache_get(
    *,
    want_ml: bool,
    compute: Callable[[ForecastState], tuple[Forecast, bool]],
    still_current: Callable[[Forecast, ForecastState], bool] | None = None,
) -> Forecast:
    """The cached forecast, or `compute(state)` -> (forecast, retry) once, cached.

    `retry` marks a fallback a retry can cure: the model is tried again after
    ML_FALLBACK_RETRY_SECONDS even if nothing changed.
    """

    def usable(entry, state) -> bool:
        return _fresh(entry, state) and (
            still_current is None or still_current(entry.forecast, state)
        )

    entry = _cache.entries.get(want_ml)
    if usable(entry, _current_state()):
        return entry.forecast
    with _cache.lock:
        state = _current_state()
        entry = _cache.entries.get(want_ml)
        if usable(entry, state):
            return entry.forecast
        forecast, retry = compute(state)
        entry = _Entry(state, forecast, time.monotonic(), retry)
        _cache.entries = {**_cache.entries, want_ml: entry}
        return forecast


def forecast_cache_model(key: tuple[int, str]) -> object | None:
    """The model this process holds for (pk, sha256), or None."""
    held = _cache.model
    return held[1] if held is not None and held[0] == key else None


def forecast_cache_hold_model(key: tuple[int, str] | None, model=None) -> None:
    """Hold `model` for (pk, sha256); None drops the one held (one at a time)."""
    _cache.model = None if key is None else (key, model)


def forecast_cache_outcome_changed(reason: str | None) -> bool:
    """Remember the last ML-wanted outcome; True when it differs from the one before."""
    if _cache.last_outcome is not _UNSET and _cache.last_outcome == reason:
        return False
    _cache.last_outcome = reason
    return True


def forecast_cache_serving_state() -> ServingState:
    """What this process serves now (the ML-wanted forecast, else the forced one).

    mlops' one serving-state provider (/readyz, /metrics, the operations page and
    the model file check read it; registered in RecommendationsConfig.ready).
    """
    entries = _cache.entries
    entry = entries.get(True) or entries.get(False)
    if entry is None:
        return ServingState()
    forecast = entry.forecast
    return ServingState(
        mode=forecast.mode,
        model_version=forecast.model_version,
        model_version_id=forecast.model_version_id,
        # The bytes held are the active ones the forecast was computed from.
        model_sha256=entry.state.active_sha256 if forecast.model_version else None,
        fallback_reason=forecast.fallback_reason,
        target_draw_no=forecast.target_draw_no,
    )


def _read_state() -> ForecastState:
    draws = LottoDraw.objects.aggregate(
        latest=Max("draw_no"), count=Count("pk"), changed=Max("created_at")
    )
    active = (
        ModelVersion.objects.filter(state=ModelVersion.State.ACTIVE)
        .values_list("pk", "sha256")
        .first()
    )
    return ForecastState(
        active_id=active[0] if active else None,
        active_sha256=active[1] if active else "",
        latest_draw_no=draws["latest"],
        draw_count=draws["count"],
        draws_changed_at=draws["changed"],
    )


# While the prefetch fetches a new model, the state is re-read this often.
PREFETCH_RECHECK_SECONDS = 0.2


def _current_state() -> ForecastState:
    """The state, re-read at most every ML_ACTIVE_CHECK_SECONDS (0 = every call)."""
    now = time.monotonic()
    checked = _cache.state
    if checked is None or now - checked[0] >= settings.ML_ACTIVE_CHECK_SECONDS:
        state = _read_state()
        if checked is not None and not model_prefetch_ready(state.active_sha256):
            # A new active version this host has not downloaded yet: keep
            # serving the model it holds (no request downloads a model) and
            # look again shortly; the prefetch is fetching it.
            state = replace(
                state,
                active_id=checked[1].active_id,
                active_sha256=checked[1].active_sha256,
            )
            now -= max(0.0, settings.ML_ACTIVE_CHECK_SECONDS - PREFETCH_RECHECK_SECONDS)
        _cache.state = (now, state)
        return state
    return checked[1]


def _fresh(entry: _Entry | None, state: ForecastState) -> bool:
    if entry is None or entry.state != state:
        return False
    if not entry.retry:
        return True
    return time.monotonic() - entry.computed_at < settings.ML_FALLBACK_RETRY_SECONDS
