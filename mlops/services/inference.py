"""The recommendation engine: the forecast for the next draw, and games drawn from it.

The forecast comes from the active model ("ml" mode) or, whenever the model can't
be trusted or is switched off, from `statistical.statistical_probabilities`
("statistical" mode, with a `fallback_reason`). Both give 45 values P(number k is
drawn) summing to 6.

The forecast for the next draw depends only on the active model and the stored
history, so each process computes it once and caches it (see `_ForecastCache`).
docs/ML_ENGINE.md, "Inference and fallback", describes the whole behaviour.
"""

import atexit
import datetime as dt
import logging
import math
import os
import threading
import time
from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from django.dispatch import receiver

from draws.models import LottoDraw, expected_draw_date
from draws.signals import draws_imported
from mlops.ml import features, pipeline
from mlops.models import AuditEvent, ModelVersion
from mlops.observability.metrics import (
    observe_inference,
    record_fallback,
    record_served,
)
from mlops.signals import model_activated

from .audit import SYSTEM, audit_record
from .registry import (
    ModelIntegrityError,
    model_version_load,
    model_version_read_verified,
)
from .statistical import statistical_probabilities

logger = logging.getLogger(__name__)

ML = "ml"
STATISTICAL = "statistical"
POOL_SIZE = features.POOL_SIZE
PICKS = features.NUMBERS_PER_DRAW
MAX_GAMES = 10
MAX_INCLUDED = 5
# The official slip recorded with each forecast: a Korean slip holds five games.
OFFICIAL_SLIP_GAMES = 5
DISCLAIMER = (
    "Lottery draws are random and independent: every combination of six numbers "
    f"has the same 1 in {math.comb(POOL_SIZE, PICKS):,} chance of winning the first "
    "prize, and no recommendation, model or statistic improves the odds. These "
    "numbers describe past draws only; play for fun, with money you can afford "
    "to lose."
)
# Fallbacks that a retry can cure without a new draw or a new activation (a file
# put back, a transient error): a process tries the model again after this long.
RETRYABLE_FALLBACKS = frozenset(
    {"file_missing", "checksum_mismatch", "load_failed", "inference_error"}
    | {"memory_error"}
)


class NoDrawsError(Exception):
    """No draws are stored: there is nothing to forecast from."""


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
class Recommendation:
    """What the engine answers: the forecast, the sampled games and the caveat."""

    probabilities: np.ndarray
    combinations: list[list[int]]
    mode: str
    model_version: str | None
    feature_set_version: str | None
    validation_metrics: dict | None
    target_draw_no: int
    target_draw_date: dt.date
    fallback_reason: str | None
    disclaimer: str
    seed: int | None
    prediction_id: int | None


@dataclass(frozen=True)
class _State:
    """What the cached forecast depends on, as read from the database."""

    active_id: int | None
    active_sha256: str
    latest_draw_no: int | None
    draw_count: int
    # Changes when the draws are deleted and stored again with the same numbers.
    draws_changed_at: dt.datetime | None


@dataclass(frozen=True)
class _Entry:
    state: _State
    forecast: Forecast
    computed_at: float  # monotonic
    retry: bool  # a retryable fallback: try the model again after a while


class _Fallback(Exception):
    def __init__(self, reason: str, detail: str = "", version=None):
        self.reason, self.detail, self.version = reason, detail, version
        super().__init__(f"{reason}: {detail}")


_UNSET = object()


class _ForecastCache:
    """Per-process cache of the forecast, the loaded model and the state check.

    Reads are lock-free (each attribute is replaced whole, never mutated in
    place); computing a forecast holds `lock`, so concurrent threads compute it
    once. An RLock: self-heal activates a version while the lock is held, and the
    model_activated receiver runs in the same thread.
    """

    def __init__(self):
        self.lock = threading.RLock()
        self.state: tuple[float, _State] | None = None  # (checked at, state)
        self.entries: dict[bool, _Entry] = {}  # keyed by "ML wanted"
        self.model: tuple[tuple[int, str], object] | None = None
        self.last_outcome = _UNSET  # fallback reason or None, ML-wanted path


_cache = _ForecastCache()


def forecast_cache_clear() -> None:
    """Forget everything this process holds, unwritten served counts too (tests)."""
    global _cache, _served
    _cache = _ForecastCache()
    _served = _ServedCounts()


def forecast_cache_invalidate() -> None:
    """Drop the cached forecasts and re-read the state on the next request."""
    _cache.state = None
    _cache.entries = {}


@receiver(model_activated, dispatch_uid="mlops.inference.on_model_activated")
def _invalidate_on_activation(sender, **kwargs):
    forecast_cache_invalidate()


@receiver(draws_imported, dispatch_uid="mlops.inference.on_draws_imported")
def _invalidate_on_draws_imported(sender, **kwargs):
    forecast_cache_invalidate()


def _read_state() -> _State:
    draws = LottoDraw.objects.aggregate(
        latest=Max("draw_no"), count=Count("pk"), changed=Max("created_at")
    )
    active = (
        ModelVersion.objects.filter(state=ModelVersion.State.ACTIVE)
        .values_list("pk", "sha256")
        .first()
    )
    return _State(
        active_id=active[0] if active else None,
        active_sha256=active[1] if active else "",
        latest_draw_no=draws["latest"],
        draw_count=draws["count"],
        draws_changed_at=draws["changed"],
    )


def _current_state() -> _State:
    """The state, re-read at most every ML_ACTIVE_CHECK_SECONDS (0 = every call)."""
    now = time.monotonic()
    checked = _cache.state
    if checked is None or now - checked[0] >= settings.ML_ACTIVE_CHECK_SECONDS:
        state = _read_state()
        _cache.state = (now, state)
        return state
    return checked[1]


def _fresh(entry: _Entry | None, state: _State) -> bool:
    if entry is None or entry.state != state:
        return False
    if not entry.retry:
        return True
    return time.monotonic() - entry.computed_at < settings.ML_FALLBACK_RETRY_SECONDS


def ml_enabled(use_ml_model: bool = True) -> bool:
    return bool(use_ml_model and settings.RECOMMENDATIONS_USE_ML)


def forecast_current(*, use_ml_model: bool = True) -> Forecast:
    """The forecast for the next draw; computed once per (model, history), cached.

    Raises NoDrawsError when no draws are stored.
    """
    want_ml = ml_enabled(use_ml_model)
    cache = _cache
    entry = cache.entries.get(want_ml)
    if _fresh(entry, _current_state()):
        return entry.forecast
    with cache.lock:
        state = _current_state()
        entry = cache.entries.get(want_ml)
        if _fresh(entry, state):
            return entry.forecast
        forecast, retry = _compute(want_ml=want_ml, state=state)
        entry = _Entry(state, forecast, time.monotonic(), retry)
        cache.entries = {**cache.entries, want_ml: entry}
        return forecast


def _history() -> tuple[list[int], np.ndarray]:
    rows = list(
        LottoDraw.objects.order_by("draw_no").values_list(
            "draw_no", "n1", "n2", "n3", "n4", "n5", "n6"
        )
    )
    numbers = np.array([row[1:] for row in rows], dtype=np.int64).reshape(-1, PICKS)
    return [row[0] for row in rows], numbers


def _compute(*, want_ml: bool, state: _State) -> tuple[Forecast, bool]:
    """Compute the forecast; returns it and whether to retry the model later."""
    draw_nos, numbers = _history()
    if not draw_nos:
        raise NoDrawsError("No draws are stored yet: import the draw history first.")
    target = draw_nos[-1] + 1
    if not want_ml:
        fallback = _Fallback(
            "forced", "ML disabled (use_ml_model=False or RECOMMENDATIONS_USE_ML=0)"
        )
        return _statistical(numbers, target, fallback), False
    try:
        if len(draw_nos) < settings.ML_MIN_DRAWS:
            raise _Fallback(
                "insufficient_draws",
                f"{len(draw_nos)} draws stored, ML_MIN_DRAWS is "
                f"{settings.ML_MIN_DRAWS}",
            )
        version = ModelVersion.objects.filter(pk=state.active_id).first()
        if version is None or not version.is_active:
            raise _Fallback("no_model", "no model version is active")
        model, loaded = _load(version)
        probabilities = _predict(model, loaded, numbers)
    except _Fallback as fallback:
        forecast = _statistical(numbers, target, fallback)
        _note_outcome(fallback.reason, fallback.detail, fallback.version)
        return forecast, fallback.reason in RETRYABLE_FALLBACKS
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
    _note_outcome(None, "", loaded)
    # If self-heal switched versions, the next state check sees a new active
    # version and computes again (with the restored model already in memory).
    return forecast, False


def _load(version: ModelVersion) -> tuple[object, ModelVersion]:
    """The model and the version it is (the self-healed one if self-heal ran).

    The file is read and checked against its sha256 on every computation (a few
    ms), so a file removed or changed since the last one is noticed; only the
    unpickling is skipped when this process already holds that (pk, sha256).
    """
    try:
        try:
            return _load_verified(version), version
        except ModelIntegrityError as error:
            healed = _self_heal(version, error)
            if healed is None:
                raise _Fallback(error.reason, str(error), version) from error
            try:
                return _load_verified(healed), healed
            except ModelIntegrityError as second:
                raise _Fallback(
                    error.reason,
                    f"{error}; the self-healed {healed.version} failed too: {second}",
                    version,
                ) from second
    except MemoryError as error:
        detail = "MemoryError while loading the model"
        raise _Fallback("memory_error", detail, version) from error


def _load_verified(version: ModelVersion):
    key = (version.pk, version.sha256)
    cached = _cache.model
    if cached is not None and cached[0] == key:
        model_version_read_verified(version)  # still there and unchanged?
        return cached[1]
    _cache.model = None  # one model in memory at a time
    model = model_version_load(version)
    _cache.model = (key, model)
    return model


def _self_heal(version: ModelVersion, error: ModelIntegrityError):
    """Ask operations to restore a good copy; the restored version, or None."""
    # Imported here: self_heal imports the registry and retraining, which import
    # this module's neighbours; a top-level import would be circular.
    from mlops.services.self_heal import model_self_heal

    try:
        return model_self_heal(version=version, error=error)
    except MemoryError:
        return None
    except Exception:
        logger.exception("Self-heal of model %s failed", version.version)
        return None


def _predict(model, version: ModelVersion, numbers: np.ndarray) -> np.ndarray:
    if version.feature_set_version != features.FEATURE_SET_VERSION:
        raise _Fallback(
            "inference_error",
            f"model {version.version} was trained on feature set "
            f"{version.feature_set_version}, this code builds "
            f"{features.FEATURE_SET_VERSION}",
            version,
        )
    started = time.perf_counter()
    try:
        row = features.build_feature_matrix(numbers)[-1]
        probabilities = np.asarray(pipeline.predict_probabilities(model, row), float)
    except MemoryError as exc:
        detail = "MemoryError during inference"
        raise _Fallback("memory_error", detail, version) from exc
    except Exception as exc:
        raise _Fallback("inference_error", repr(exc), version) from exc
    observe_inference(time.perf_counter() - started)
    valid = probabilities.shape == (POOL_SIZE,) and np.all(np.isfinite(probabilities))
    if not valid or probabilities.min() < 0 or probabilities.max() > 1:
        raise _Fallback(
            "inference_error",
            f"model returned invalid probabilities (shape {probabilities.shape})",
            version,
        )
    return probabilities


def _statistical(numbers: np.ndarray, target: int, fallback: _Fallback) -> Forecast:
    logger.warning(
        "Falling back to statistical mode (reason: %s): %s",
        fallback.reason,
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
            fallback_reason=fallback.reason,
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
    from mlops.services.predictions import forecast_record

    try:
        prediction = forecast_record(
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


def _note_outcome(reason: str | None, detail: str, version) -> None:
    """Audit a change of fallback state (entering, changing reason, recovering).

    Per process, the engine remembers the outcome of its last ML-wanted
    computation; only when it differs does it read the latest "fallback" event
    of the audit trail, and it records one only if that event says otherwise.
    So N web workers that see the same change record it once (barring a race
    between two of them, which records it twice), and a steady state records
    nothing, however many requests it serves.
    """
    if _cache.last_outcome is not _UNSET and _cache.last_outcome == reason:
        return
    _cache.last_outcome = reason
    try:
        last = (
            AuditEvent.objects.filter(action=AuditEvent.Action.FALLBACK)
            .values_list("details", flat=True)
            .first()
        )
        if (last or {}).get("reason") == reason:
            return
        audit_record(
            actor=SYSTEM,
            action=AuditEvent.Action.FALLBACK,
            obj=version,
            details={
                "state": "fallback" if reason else "recovered",
                "reason": reason,
                "previous_reason": (last or {}).get("reason"),
                "detail": detail,
                "model_version": getattr(version, "version", None),
                "pid": os.getpid(),
            },
        )
    except Exception:
        logger.exception("Could not audit the fallback state change to %s", reason)


# --- Games --------------------------------------------------------------------


def number_list_errors(field: str, numbers) -> list[str]:
    """What is wrong with one list of include/exclude numbers on its own."""
    numbers = list(numbers)
    errors = []
    wrong = sorted({n for n in numbers if not 1 <= n <= POOL_SIZE})
    repeated = sorted({n for n in numbers if numbers.count(n) > 1})
    if wrong:
        errors.append(f"Numbers must be between 1 and {POOL_SIZE}; got {wrong}.")
    if repeated:
        errors.append(f"Numbers repeated: {repeated}.")
    if field == "include" and len(set(numbers)) > MAX_INCLUDED:
        errors.append(
            f"At most {MAX_INCLUDED} numbers can be included; got {len(set(numbers))}."
        )
    if field == "exclude" and POOL_SIZE - len(set(numbers)) < PICKS:
        errors.append(
            f"At most {POOL_SIZE - PICKS} numbers can be excluded: a game needs "
            f"{PICKS} of the {POOL_SIZE}; got {len(set(numbers))}."
        )
    return errors


def recommendation_params_errors(
    *, count: int, include=(), exclude=()
) -> dict[str, list[str]]:
    """Field-level errors in the parameters of a recommendation ({} when valid)."""
    errors: dict[str, list[str]] = {}
    if not 1 <= count <= MAX_GAMES:
        errors["count"] = [f"Ask for between 1 and {MAX_GAMES} games."]
    for field, numbers in (("include", include), ("exclude", exclude)):
        if field_errors := number_list_errors(field, numbers):
            errors[field] = field_errors
    overlap = sorted(set(include) & set(exclude))
    if overlap:
        errors.setdefault("exclude", []).append(
            f"Numbers both included and excluded: {overlap}."
        )
    if not errors:
        possible = _possible_games(include, exclude)
        if possible < count:
            errors["count"] = [
                f"Only {possible} different game(s) are possible with these include "
                f"and exclude numbers; ask for at most {possible}."
            ]
    return errors


def _possible_games(include, exclude) -> int:
    free = POOL_SIZE - len(set(include)) - len(set(exclude))
    return math.comb(free, PICKS - len(set(include)))


# Duplicate games are drawn again, at most this many rounds; after that (only
# when few combinations are possible) the remaining ones are picked directly from
# the enumerated combinations, of which there are at most MAX_ENUMERATED then.
MAX_ROUNDS = 50
MAX_ENUMERATED = 50_000


def sample_games(
    probabilities, *, count: int, include=(), exclude=(), seed: int | None = None
) -> list[list[int]]:
    """`count` distinct games of six ascending numbers, sampled by probability.

    Each game is the included numbers plus 6 - len(include) numbers sampled
    without replacement from the numbers neither included nor excluded, as if
    drawn one at a time, each with a chance proportional to its forecast
    probability among those left. It is done with exponential keys: number i
    gets E_i / p_i with E_i ~ Exp(1), and the smallest keys win (a race of
    exponential clocks, so the first winner has chance p_i / sum(p), and so on:
    the same law as one-at-a-time drawing, Efraimidis & Spirakis 2006), all
    games at once. A game equal to an earlier one is drawn again. The generator
    is numpy's default (PCG64) seeded with `seed`: the same forecast, parameters
    and seed give the same games; no seed means fresh entropy from the OS.
    """
    include = sorted(set(include))
    excluded = set(exclude) | set(include)
    candidates = np.array([n for n in range(1, POOL_SIZE + 1) if n not in excluded])
    weights = np.asarray(probabilities, dtype=np.float64)[candidates - 1]
    # A number the model gives exactly 0 stays possible, if only barely, so that
    # include/exclude can never leave fewer candidates than a game needs.
    weights = np.clip(weights, 0.0, None) + 1e-12
    need = PICKS - len(include)
    rng = np.random.default_rng(seed)
    games: list[list[int]] = []
    seen: set[tuple[int, ...]] = set()
    for _ in range(MAX_ROUNDS):
        missing = count - len(games)
        if missing <= 0:
            break
        keys = rng.standard_exponential((missing, len(candidates))) / weights
        winners = np.argpartition(keys, need - 1, axis=1)[:, :need]
        for row in candidates[winners].tolist():
            game = tuple(sorted(include + row))
            if game not in seen:
                seen.add(game)
                games.append(list(game))
    if len(games) < count:
        games += _remaining_games(candidates, weights, include, need, seen, count, rng)
    return games


def _remaining_games(candidates, weights, include, need, seen, count, rng):
    if math.comb(len(candidates), need) > MAX_ENUMERATED:
        raise RuntimeError("could not sample distinct games")  # not reachable
    share = dict(zip(candidates.tolist(), weights.tolist(), strict=True))
    options = [
        tuple(sorted(include + list(combo)))
        for combo in combinations(candidates.tolist(), need)
    ]
    options = [game for game in options if game not in seen]
    chances = np.array(
        [math.prod(share[n] for n in game if n in share) for game in options]
    )
    size = min(count - len(seen), len(options))
    chosen = rng.choice(
        len(options), size=size, replace=False, p=chances / chances.sum()
    )
    return [list(options[i]) for i in chosen]


class RecommendationEngine:
    """Recommendations from the active model, or from statistical mode."""

    def __init__(self, use_ml_model: bool = True):
        self.use_ml_model = use_ml_model

    def forecast(self) -> Forecast:
        return forecast_current(use_ml_model=self.use_ml_model)

    def recommend(
        self, *, count: int = 5, include=(), exclude=(), seed: int | None = None
    ) -> Recommendation:
        """Sample `count` games from the cached forecast; ValidationError if bad."""
        include, exclude = list(include), list(exclude)
        errors = recommendation_params_errors(
            count=count, include=include, exclude=exclude
        )
        if seed is not None and seed < 0:
            errors["seed"] = ["The seed must be a whole number >= 0."]
        if errors:
            raise ValidationError(errors)
        forecast = self.forecast()
        games = sample_games(
            forecast.probabilities,
            count=count,
            include=include,
            exclude=exclude,
            seed=seed,
        )
        _count_served(forecast)
        return Recommendation(
            probabilities=forecast.probabilities,
            combinations=games,
            mode=forecast.mode,
            model_version=forecast.model_version,
            feature_set_version=forecast.feature_set_version,
            validation_metrics=forecast.validation_metrics,
            target_draw_no=forecast.target_draw_no,
            target_draw_date=forecast.target_draw_date,
            fallback_reason=forecast.fallback_reason,
            disclaimer=DISCLAIMER,
            seed=seed,
            prediction_id=forecast.prediction_id,
        )


def _count_served(forecast: Forecast) -> None:
    """Per response: the metrics, and the served count of the recorded forecast."""
    record_served(forecast.mode)
    if forecast.fallback_reason:
        record_fallback(forecast.fallback_reason)
    if forecast.prediction_id is not None:
        _served.add(forecast.prediction_id)


class _ServedCounts:
    """Servings per recorded forecast, written at most every ML_SERVED_FLUSH_SECONDS.

    One UPDATE per response made every response a write transaction: on SQLite
    that is an fsync (~15 ms, 14x a trivial endpoint) and a lock the Q2 worker
    waits on; on PostgreSQL every worker queues on the same row. So each
    process adds its servings up and writes them with one F() update per
    forecast when the interval has passed (0 = every response, exact at once),
    when the served forecast changes, and at exit. A crash loses at most the
    last interval's count, which only informs; the forecast itself is recorded
    when it is computed.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.pending: dict[int, int] = {}
        self.flushed_at = float("-inf")

    def add(self, prediction_id: int) -> None:
        with self.lock:
            changed = bool(self.pending) and prediction_id not in self.pending
            self.pending[prediction_id] = self.pending.get(prediction_id, 0) + 1
            elapsed = time.monotonic() - self.flushed_at
            due = changed or elapsed >= settings.ML_SERVED_FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        with self.lock:
            pending, self.pending = self.pending, {}
            self.flushed_at = time.monotonic()
        if not pending:
            return
        from mlops.services.predictions import forecast_note_served

        for prediction_id, count in pending.items():
            try:
                forecast_note_served(prediction_id, count=count)
            except Exception:
                logger.exception(
                    "Could not add %d serving(s) to forecast %d", count, prediction_id
                )


_served = _ServedCounts()


@atexit.register
def _flush_served_at_exit() -> None:
    try:
        _served.flush()
    except Exception:  # the database may already be gone at interpreter exit
        logger.warning("Served counts lost at exit", exc_info=True)


def forecast_served_flush() -> None:
    """Write this process's pending served counts now."""
    _served.flush()


def recommendation_generate(
    *,
    count: int = 5,
    include=(),
    exclude=(),
    seed: int | None = None,
    use_ml_model: bool = True,
) -> Recommendation:
    """Recommend `count` games for the next draw (the API's one call)."""
    return RecommendationEngine(use_ml_model=use_ml_model).recommend(
        count=count, include=include, exclude=exclude, seed=seed
    )
