"""Retraining: one service every door calls (schedule, API, CLI, monitoring).

A `RetrainRun` row is the audit of one attempt, from request to result. Single
flight is the database's job: a queued or running run holds `in_flight =
"retrain"`, a unique column, so a second request fails on the unique index in
any process on any machine; the lock is released (NULL) in every outcome. A
run whose worker died is recovered ("abandoned") the next time anything asks.

The run body trains a challenger with `activate=False`, so nothing that fails
can touch the active model; the promotion gate then compares the challenger's
validation metrics with the champion's and activates it or keeps it archived.
"""

import hashlib
import json
import logging
import math
import threading
import time
import traceback as traceback_module
from datetime import timedelta

import psutil
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from draws.models import LottoDraw
from mlops.ml import features, incremental, tuning
from mlops.models import ModelVersion, RetrainRun

from .audit import Actor, audit_record
from .registry import (
    model_version_activate,
    model_version_active,
    model_version_load,
    model_version_write_metadata,
)
from .storage import METADATA_DIR, get_storage
from .training import (
    InsufficientDrawsError,
    ensure_enough_draws,
    model_version_register_trained,
    model_version_train,
    training_history,
    training_params,
)

logger = logging.getLogger(__name__)

RETRAIN_METADATA_PATH = f"{METADATA_DIR}/retrain_metadata.json"
OPTION_NAMES = ("force", "tune", "warm_start", "reason")
DEFAULT_REASONS = {
    RetrainRun.Trigger.SCHEDULED: "weekly scheduled retrain",
    RetrainRun.Trigger.MANUAL: "manual retrain",
    RetrainRun.Trigger.EMERGENCY: "emergency retrain",
    RetrainRun.Trigger.CLI: "retrain from the command line",
}
# (metric in evaluate_forecasts' output, higher is better). any_hit_rate is the
# monitored accuracy; the Brier skill score checks the 45 probabilities too.
GATE_METRICS = (("any_hit_rate", True), ("brier_skill_score", True))
UNFINISHED = (RetrainRun.Status.QUEUED, RetrainRun.Status.RUNNING)


class RetrainAlreadyRunning(Exception):
    """A retrain is queued or running; `.run` is that run."""

    def __init__(self, run: RetrainRun):
        self.run = run
        since = run.started_at or run.created_at
        super().__init__(
            f"Retrain run {run.pk} is already {run.status} "
            f"(since {since:%Y-%m-%d %H:%M:%S %Z})."
        )


def retrain_in_flight() -> RetrainRun | None:
    """The queued or running retrain holding the single-flight lock, or None."""
    return RetrainRun.objects.filter(in_flight=RetrainRun.IN_FLIGHT).first()


def retrain_recover_abandoned() -> list[RetrainRun]:
    """Fail every queued/running run silent for RETRAIN_ABANDON_AFTER_SECONDS."""
    cutoff = timezone.now() - timedelta(seconds=settings.RETRAIN_ABANDON_AFTER_SECONDS)
    stale = RetrainRun.objects.annotate(
        last_sign=Coalesce("heartbeat_at", "started_at", "created_at")
    ).filter(status__in=UNFINISHED, last_sign__lt=cutoff)
    recovered = []
    for run in stale:
        message = (
            f"abandoned: no sign of life since {run.last_sign:%Y-%m-%d %H:%M:%S %Z} "
            f"(more than {settings.RETRAIN_ABANDON_AFTER_SECONDS} s); the worker "
            "probably died or the task was never picked up"
        )
        now = timezone.now()
        # Conditional: a worker finishing this very run right now wins.
        if not RetrainRun.objects.filter(pk=run.pk, status=run.status).update(
            status=RetrainRun.Status.FAILED,
            in_flight=None,
            finished_at=now,
            duration_seconds=(now - (run.started_at or run.created_at)).total_seconds(),
            error_message=message,
        ):
            continue
        run.refresh_from_db()
        logger.error(
            "Retraining failed: run %s (trigger %s, reason: %s)",
            run.pk,
            run.trigger,
            message,
        )
        retrain_write_metadata(run)
        recovered.append(run)
    return recovered


def _clean_options(options: dict | None) -> dict:
    options = dict(options or {})
    unknown = set(options) - set(OPTION_NAMES)
    if unknown:
        raise ValidationError(
            f"Unknown retrain option(s) {sorted(unknown)}; known: {list(OPTION_NAMES)}."
        )
    cleaned = {name: bool(options.get(name, False)) for name in OPTION_NAMES[:3]}
    if cleaned["tune"] and cleaned["warm_start"]:
        raise ValidationError(
            "Choose tune or warm_start, not both: warm start grows the active "
            "model with its own parameters."
        )
    cleaned["reason"] = str(options.get("reason") or "")[:500]
    return cleaned


def retrain_request(
    *,
    trigger: str,
    actor: Actor,
    options: dict | None = None,
    run_async: bool = True,
) -> RetrainRun:
    """Record a queued retrain and run it on the cluster (or here, if not async).

    Raises RetrainAlreadyRunning when one is queued or running.
    """
    if trigger not in RetrainRun.Trigger.values:
        raise ValidationError(
            f"Unknown trigger {trigger!r}; known: {RetrainRun.Trigger.values}."
        )
    options = _clean_options(options)
    retrain_recover_abandoned()
    for _attempt in range(2):
        try:
            with transaction.atomic():
                run = RetrainRun.objects.create(
                    trigger=trigger,
                    requested_by=actor.user if actor.type == "user" else None,
                    options=options,
                    in_flight=RetrainRun.IN_FLIGHT,
                    status=RetrainRun.Status.QUEUED,
                )
                audit_record(
                    actor=actor,
                    action="retrain_requested",
                    obj=run,
                    details={"trigger": trigger, "options": options},
                )
            break
        except IntegrityError:
            holder = retrain_in_flight()
            if holder is not None:
                raise RetrainAlreadyRunning(holder) from None
            # The holder finished between our insert and our look: try again.
    else:
        holder = retrain_in_flight()
        if holder is not None:
            raise RetrainAlreadyRunning(holder)
        raise ValidationError("Could not take the retrain lock; try again.")
    logger.info(
        "Retraining requested: run %s (trigger %s, by %s)", run.pk, trigger, actor.label
    )
    if not run_async:
        return retrain_execute(run_id=run.pk)
    transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(run_id: int) -> None:
    from django_q.tasks import async_task

    try:
        task_id = async_task(
            "mlops.tasks.retrain_task",
            run_id,
            task_name=f"retrain-run-{run_id}",
            group="retrain",
        )
    except Exception as exc:  # broker down: don't hold the lock for 30 minutes
        logger.exception("Could not queue retrain run %s", run_id)
        _finish_unstarted(run_id, f"could not queue the task: {exc!r}")
        return
    RetrainRun.objects.filter(pk=run_id).update(task_id=str(task_id or "")[:64])


def _finish_unstarted(run_id: int, message: str) -> None:
    now = timezone.now()
    RetrainRun.objects.filter(pk=run_id, status=RetrainRun.Status.QUEUED).update(
        status=RetrainRun.Status.FAILED,
        in_flight=None,
        finished_at=now,
        error_message=message,
    )
    run = RetrainRun.objects.get(pk=run_id)
    logger.error(
        "Retraining failed: run %s (trigger %s, reason: %s)",
        run_id,
        run.trigger,
        message,
    )
    retrain_write_metadata(run)


def retrain_run_now(
    *,
    trigger: str = "cli",
    actor: Actor,
    force: bool = False,
    tune: bool = False,
    warm_start: bool = False,
    reason: str = "",
) -> RetrainRun:
    """Request a retrain and run it in this process; return the finished run."""
    options = {"force": force, "tune": tune, "warm_start": warm_start, "reason": reason}
    return retrain_request(
        trigger=trigger, actor=actor, options=options, run_async=False
    )


class _RunWatch:
    """Heartbeat and peak memory of one run, from a background thread.

    Peak memory: the kernel's RSS high-water mark of this process (VmHWM, reset
    at the start of the run through /proc/self/clear_refs where Linux allows
    it), and psutil samples of this process plus its children every
    SAMPLE_SECONDS (GridSearchCV's workers are children). The larger wins.
    """

    SAMPLE_SECONDS = 0.2

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.peak = 0
        self._stop = threading.Event()
        self._process = psutil.Process()
        self._hwm_reset = self._reset_high_water()
        self._beat_every = max(
            1.0, min(60.0, settings.RETRAIN_ABANDON_AFTER_SECONDS / 6)
        )
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def _reset_high_water() -> bool:
        try:
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
            return True
        except OSError:
            return False

    def _sample(self) -> None:
        try:
            rss = self._process.memory_info().rss
            for child in self._process.children(recursive=True):
                try:
                    rss += child.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            return
        self.peak = max(self.peak, rss)

    def _loop(self) -> None:
        last_beat = time.monotonic()
        try:
            while not self._stop.wait(self.SAMPLE_SECONDS):
                self._sample()
                if time.monotonic() - last_beat >= self._beat_every:
                    last_beat = time.monotonic()
                    self._beat()
        finally:
            connection.close()

    def _beat(self) -> None:
        try:
            RetrainRun.objects.filter(
                pk=self.run_id, status=RetrainRun.Status.RUNNING
            ).update(heartbeat_at=timezone.now())
        except Exception:  # a missed beat is not worth failing the run for
            logger.warning(
                "Retrain run %s: heartbeat failed", self.run_id, exc_info=True
            )

    def __enter__(self):
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=5)
        self._sample()
        if self._hwm_reset:
            self.peak = max(self.peak, _vm_hwm_bytes())
        return False


def _vm_hwm_bytes() -> int:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def retrain_execute(*, run_id: int) -> RetrainRun:
    """Run a queued retrain: train, gate, promote or archive; record everything.

    A repeated delivery of the task for a run that is already running or
    finished changes nothing and returns the run as it is.
    """
    now = timezone.now()
    claimed = RetrainRun.objects.filter(
        pk=run_id, status=RetrainRun.Status.QUEUED, in_flight=RetrainRun.IN_FLIGHT
    ).update(status=RetrainRun.Status.RUNNING, started_at=now, heartbeat_at=now)
    run = RetrainRun.objects.filter(pk=run_id).first()
    if run is None:
        raise ValidationError(f"Unknown retrain run {run_id}.")
    if not claimed:
        logger.warning(
            "Retrain run %s is %s: ignoring a repeated delivery", run.pk, run.status
        )
        return run
    reason = run.options.get("reason") or DEFAULT_REASONS.get(run.trigger, run.trigger)
    logger.info(
        "Retraining started: run %s (trigger %s, reason: %s, options: %s)",
        run.pk,
        run.trigger,
        reason,
        {k: v for k, v in run.options.items() if k != "reason" and v},
    )
    started = time.perf_counter()
    outcome: dict = {}
    with _RunWatch(run.pk) as watch:
        try:
            outcome = _train_and_gate(run, reason=reason)
        except InsufficientDrawsError as exc:
            outcome = {
                "status": RetrainRun.Status.SKIPPED,
                "error_message": " ".join(exc.messages),
            }
        except MemoryError:
            outcome = _failure("out of memory (MemoryError) while training")
        except Exception as exc:
            outcome = _failure(f"{type(exc).__name__}: {exc}")
    outcome.setdefault("status", RetrainRun.Status.SUCCESS)
    outcome["peak_memory_bytes"] = watch.peak or None
    outcome["duration_seconds"] = time.perf_counter() - started
    return _finish(run, outcome, reason=reason)


def _failure(message: str) -> dict:
    return {
        "status": RetrainRun.Status.FAILED,
        "error_message": message[:2000],
        "traceback": traceback_module.format_exc()[-20000:],
    }


def _train_and_gate(run: RetrainRun, *, reason: str) -> dict:
    """Train the challenger (archived), then promote it if the gate says so."""
    draw_nos, numbers, data_hash = training_history()
    outcome = {
        "draw_count": len(draw_nos),
        "draw_from": draw_nos[0] if draw_nos else None,
        "draw_to": draw_nos[-1] if draw_nos else None,
    }
    try:
        ensure_enough_draws(len(draw_nos))
        actor = Actor("system", f"retrain run {run.pk}")
        if run.options.get("warm_start"):
            version = _warm_start_or_refit(run, draw_nos, numbers, data_hash, actor)
        else:
            version = _train_full(run, numbers, actor)
        outcome.update(
            model_version=version,
            validation_metrics=version.validation_metrics,
            tuning=run.tuning,
        )
        champion = model_version_active()
        promote, gate_reason = promotion_decision(
            challenger=version,
            champion=champion,
            tolerance=settings.RETRAIN_PROMOTION_TOLERANCE,
            force=bool(run.options.get("force")),
        )
        outcome["promotion_reason"] = gate_reason
        still_ours = RetrainRun.objects.filter(
            pk=run.pk, status=RetrainRun.Status.RUNNING
        ).exists()
        if promote and not still_ours:
            outcome["promotion_reason"] = (
                f"not promoted: the run was marked abandoned meanwhile ({gate_reason})"
            )
        elif promote:
            model_version_activate(
                version=version,
                actor=actor,
                reason=f"{reason}; {gate_reason}",
                activated_by="retrain",
                retrain_run=run,
            )
            outcome["promoted"] = True
    except BaseException:
        # The caller records the failure; keep what we know about the data.
        run.draw_count = outcome["draw_count"]
        run.draw_from, run.draw_to = outcome["draw_from"], outcome["draw_to"]
        if "model_version" in outcome:
            run.model_version = outcome["model_version"]
        raise
    return outcome


def _train_full(run: RetrainRun, numbers, actor: Actor) -> ModelVersion:
    params = None
    if run.options.get("tune"):
        run.tuning = tuning.tune_hyperparameters(
            numbers,
            base_params=training_params(),
            grid=settings.RETRAIN_TUNE_GRID or tuning.DEFAULT_GRID,
            n_splits=settings.RETRAIN_TUNE_SPLITS,
            n_jobs=settings.RETRAIN_TUNE_N_JOBS,
        )
        params = run.tuning["best_params"]
        logger.info(
            "Retrain run %s: tuning chose %s (CV %s %.4f) in %.1f s",
            run.pk,
            params,
            run.tuning["scoring"],
            run.tuning["best_score"],
            run.tuning["seconds"],
        )
    version = model_version_train(
        params=params, activate=False, actor=actor, retrain_run=run
    )
    if run.tuning:
        summary = {k: v for k, v in run.tuning.items() if k != "candidates"}
        version.training_info = {**version.training_info, "tuning": summary}
        version.save(update_fields=["training_info"])
        model_version_write_metadata(version)
    return version


def _history_hash(draw_count: int) -> str:
    """training_history's hash of the first `draw_count` stored draws."""
    rows = LottoDraw.objects.order_by("draw_no").values_list(
        "draw_no", "n1", "n2", "n3", "n4", "n5", "n6", "bonus"
    )[:draw_count]
    text = "\n".join(",".join(map(str, row)) for row in rows)
    return hashlib.sha256(text.encode()).hexdigest()


def _warm_start_or_refit(run, draw_nos, numbers, data_hash, actor) -> ModelVersion:
    """Grow the active forest with trees for the new draws, or say why not."""
    champion = model_version_active()
    why_not = _warm_start_obstacle(champion, draw_nos)
    if why_not is None:
        try:
            model, metrics, info = incremental.grow_and_validate(
                model_version_load(champion),
                numbers,
                base_draw_count=champion.draw_count,
                params=champion.hyperparameters,
            )
        except incremental.WarmStartNotPossible as exc:
            why_not = str(exc)
    if why_not is not None:
        logger.info(
            "Retrain run %s: full refit instead of warm start: %s", run.pk, why_not
        )
        run.tuning = {"warm_start": {"used": False, "reason": why_not}}
        return model_version_train(activate=False, actor=actor, retrain_run=run)
    info["warm_start"]["base_version"] = champion.version
    run.tuning = {"warm_start": {"used": True, **info["warm_start"]}}
    return model_version_register_trained(
        model=model,
        draw_nos=draw_nos,
        data_hash=data_hash,
        params=info["params"],
        validation_metrics=metrics,
        info=info,
        actor=actor,
        details={"warm_start": info["warm_start"]},
    )


def _warm_start_obstacle(champion: ModelVersion | None, draw_nos: list) -> str | None:
    if champion is None:
        return "no active model to grow"
    if champion.feature_set_version != features.FEATURE_SET_VERSION:
        return f"the active model uses feature set {champion.feature_set_version}"
    if champion.draw_count >= len(draw_nos):
        return "no new draws since the active model was trained"
    if _history_hash(champion.draw_count) != champion.training_data_hash:
        return "the draws the active model learned from have changed since"
    return None


def promotion_decision(
    *,
    challenger: ModelVersion,
    champion: ModelVersion | None,
    tolerance: float,
    force: bool = False,
) -> tuple[bool, str]:
    """Whether the challenger may replace the champion, and the reason in words.

    Worse means: on any gate metric, the challenger's validation figure is
    below the champion's by more than `tolerance` (absolute: rate points for
    the any-hit rate, skill points for the Brier skill score). Each figure was
    measured on its own model's held-out draws.
    """
    if champion is None:
        return True, "promoted: no model was active"
    comparisons, worse = [], []
    for name, _higher_is_better in GATE_METRICS:
        new = _metric_value(challenger.validation_metrics, name)
        old = _metric_value(champion.validation_metrics, name)
        if new is None or old is None:
            continue
        comparisons.append(f"{name} {new:.4f} vs {old:.4f}")
        if new < old - tolerance:
            worse.append(name)
    facts = (
        f"{'; '.join(comparisons)} (champion {champion.version}, tolerance {tolerance})"
    )
    if not comparisons:
        return True, (
            f"promoted: champion {champion.version} has no comparable validation "
            "metrics"
        )
    if not worse:
        return True, f"promoted: not worse than the champion: {facts}"
    if force:
        return True, f"promoted by force although worse on {', '.join(worse)}: {facts}"
    return False, (
        f"kept champion: challenger worse on {', '.join(worse)} beyond the "
        f"tolerance: {facts}"
    )


def _metric_value(metrics: dict, name: str) -> float | None:
    value = (metrics or {}).get(name, {})
    value = value.get("value") if isinstance(value, dict) else value
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _finish(run: RetrainRun, outcome: dict, *, reason: str) -> RetrainRun:
    """Write the outcome, release the lock, audit, log and rewrite the metadata."""
    fields = {
        "status": outcome["status"],
        "finished_at": timezone.now(),
        "in_flight": None,
        "duration_seconds": outcome["duration_seconds"],
        "peak_memory_bytes": outcome.get("peak_memory_bytes"),
        "draw_count": outcome.get("draw_count", run.draw_count),
        "draw_from": outcome.get("draw_from", run.draw_from),
        "draw_to": outcome.get("draw_to", run.draw_to),
        "model_version": outcome.get("model_version", run.model_version),
        "promoted": outcome.get("promoted", False),
        "promotion_reason": outcome.get("promotion_reason", ""),
        "validation_metrics": outcome.get("validation_metrics", {}),
        "tuning": outcome.get("tuning", run.tuning) or {},
        "error_message": outcome.get("error_message", ""),
        "traceback": outcome.get("traceback", ""),
    }
    updated = RetrainRun.objects.filter(
        pk=run.pk, status=RetrainRun.Status.RUNNING
    ).update(**fields)
    if not updated:
        # Recovered as abandoned while we worked: that verdict stands.
        RetrainRun.objects.filter(pk=run.pk).update(in_flight=None)
        logger.warning("Retrain run %s finished after it was marked abandoned", run.pk)
    run.refresh_from_db()
    audit_record(
        actor=Actor("system", f"retrain run {run.pk}"),
        action="retrain_finished",
        obj=run,
        details={
            "status": run.status,
            "model_version": run.model_version.version if run.model_version else None,
            "promoted": run.promoted,
            "reason": run.promotion_reason or run.error_message,
        },
    )
    if run.status == RetrainRun.Status.FAILED:
        logger.error(
            "Retraining failed: run %s (trigger %s, reason: %s)",
            run.pk,
            run.trigger,
            run.error_message,
        )
    else:
        logger.log(
            logging.INFO
            if run.status == RetrainRun.Status.SUCCESS
            else logging.WARNING,
            "Retraining finished: run %s (trigger %s, status %s, model %s, reason: %s)",
            run.pk,
            run.trigger,
            run.status,
            run.model_version.version if run.model_version else "none",
            run.promotion_reason or run.error_message or reason,
        )
    retrain_write_metadata(run)
    return run


def retrain_metadata(run: RetrainRun) -> dict:
    """The summary of a run that operators read in retrain_metadata.json."""
    metrics = run.validation_metrics or {}
    return {
        "run_id": run.pk,
        "trigger": run.trigger,
        "status": run.status,
        "requested_by": run.requested_by.get_username() if run.requested_by else None,
        "options": run.options,
        "created_at": _iso(run.created_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "duration_seconds": run.duration_seconds,
        "draw_count": run.draw_count,
        "draw_range": [run.draw_from, run.draw_to],
        "model_version": run.model_version.version if run.model_version else None,
        "promoted": run.promoted,
        "promotion_reason": run.promotion_reason,
        "validation": {
            name: _metric_value(metrics, name)
            for name in (
                "any_hit_rate",
                "mean_hits",
                "brier_score",
                "brier_skill_score",
            )
        },
        "validation_sample_size": metrics.get("sample_size"),
        "tuning": {k: v for k, v in (run.tuning or {}).items() if k != "candidates"},
        "peak_memory_bytes": run.peak_memory_bytes,
        "error_message": run.error_message,
    }


def retrain_write_metadata(run: RetrainRun) -> None:
    """Rewrite MODEL_ROOT/metadata/retrain_metadata.json (atomically) for `run`."""
    payload = json.dumps(retrain_metadata(run), indent=2, default=str)
    try:
        get_storage().write_bytes(RETRAIN_METADATA_PATH, payload.encode())
    except OSError:
        # The database row is the record; a full disk must not hide the outcome.
        logger.exception("Could not write %s for run %s", RETRAIN_METADATA_PATH, run.pk)


def _iso(value) -> str | None:
    return value.isoformat() if value else None
