"""Running a retrain: execute a queued run, record its outcome, recover dead runs.

A `RetrainRun` row is the audit of one attempt, from request (retrain_requests.py)
to result. The single-flight lock it holds is released (NULL) in every outcome.
A run whose worker died is recovered ("abandoned"), released and audited by the
watchdog schedule within minutes (RETRAIN_HEARTBEAT_TIMEOUT_SECONDS).

The run body (challenger.py) trains a challenger with `activate=False`, so
nothing that fails can touch the active model; the promotion gate (promotion.py)
then compares the challenger's validation metrics with the champion's and
activates it or keeps it archived.
"""

import json
import logging
import time
import traceback as traceback_module
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from draws.timefmt import format_kst, iso_kst
from mlops.messages import code_of, message, render_english
from mlops.models import RetrainRun
from mlops.services.registry.audit import Actor, audit_record
from mlops.services.registry.storage import METADATA_DIR, get_storage
from mlops.services.training.challenger import challenger_train_and_gate
from mlops.services.training.promotion import promotion_metric_value
from mlops.services.training.retrain_watch import RunWatch
from mlops.services.training.training import InsufficientDrawsError

logger = logging.getLogger(__name__)

RETRAIN_METADATA_PATH = f"{METADATA_DIR}/retrain_metadata.json"
UNFINISHED = (RetrainRun.Status.QUEUED, RetrainRun.Status.RUNNING)


def retrain_recover_abandoned() -> list[RetrainRun]:
    """Fail, release and audit every run whose worker is gone.

    A running run beats its heartbeat every RETRAIN_HEARTBEAT_TIMEOUT_SECONDS / 6:
    silent for the whole timeout, its worker died (`kill -9`, OOM killer, a lost
    host). A queued run waits for a free worker, so it gets the longer
    RETRAIN_ABANDON_AFTER_SECONDS before it counts as never picked up. Runs from
    the watchdog schedule every few minutes, and before every retrain request.
    """
    now = timezone.now()
    limits = {
        RetrainRun.Status.RUNNING: settings.RETRAIN_HEARTBEAT_TIMEOUT_SECONDS,
        RetrainRun.Status.QUEUED: settings.RETRAIN_ABANDON_AFTER_SECONDS,
    }
    silent = Q()
    for status, seconds in limits.items():
        silent |= Q(status=status, last_sign__lt=now - timedelta(seconds=seconds))
    stale = RetrainRun.objects.annotate(
        last_sign=Coalesce("heartbeat_at", "started_at", "created_at")
    ).filter(silent)
    recovered = []
    for run in stale:
        limit = limits[run.status]
        if run.status == RetrainRun.Status.RUNNING:
            cause = message("run.worker_died")
        else:
            cause = message("run.never_picked_up")
        error = message(
            "run.abandoned",
            since=format_kst(run.last_sign, seconds=True),
            limit=limit,
            status=run.status,
            cause=cause,
        )
        text = render_english(error)
        now = timezone.now()
        # Conditional: a worker finishing this very run right now wins.
        if not RetrainRun.objects.filter(pk=run.pk, status=run.status).update(
            status=RetrainRun.Status.FAILED,
            in_flight=None,
            finished_at=now,
            duration_seconds=(now - (run.started_at or run.created_at)).total_seconds(),
            error_message=text,
            error_message_message=error,
        ):
            continue
        was = run.status
        run.refresh_from_db()
        audit_record(
            actor=Actor.system(),
            action="retrain_finished",
            obj=run,
            details={
                "status": run.status,
                "outcome": "abandoned",
                "was": was,
                "last_sign_of_life": iso_kst(run.last_sign),
                "reason": text,
                "reason_message": error,
            },
        )
        logger.error(
            "Retraining failed: run %s (trigger %s, reason: %s)",
            run.pk,
            run.trigger,
            text,
        )
        retrain_write_metadata(run)
        recovered.append(run)
    return recovered


def retrain_execute(*, run_id: int, activated_by: str = "retrain") -> RetrainRun:
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
    reason = run.requested_reason() or run.trigger
    logger.info(
        "Retraining started: run %s (trigger %s, reason: %s, options: %s)",
        run.pk,
        run.trigger,
        render_english(reason),
        {k: v for k, v in run.options.items() if not k.startswith("reason") and v},
    )
    started = time.perf_counter()
    outcome: dict = {}
    with RunWatch(run.pk) as watch:
        try:
            outcome = challenger_train_and_gate(
                run, reason=reason, activated_by=activated_by
            )
        except InsufficientDrawsError as exc:
            error = message(
                "run.insufficient_draws", count=exc.count, minimum=exc.minimum
            )
            outcome = {
                "status": RetrainRun.Status.SKIPPED,
                "error_message": render_english(error),
                "error_message_message": error,
            }
        except MemoryError:
            outcome = _failure(message("run.out_of_memory"))
        except Exception as exc:
            error = str(exc)[:1900]
            outcome = _failure(
                message("run.crashed", type=type(exc).__name__, error=error)
            )
    outcome.setdefault("status", RetrainRun.Status.SUCCESS)
    outcome["peak_memory_bytes"] = watch.peak or None
    outcome["duration_seconds"] = time.perf_counter() - started
    return _finish(run, outcome, reason=reason)


def _failure(error: dict) -> dict:
    return {
        "status": RetrainRun.Status.FAILED,
        "error_message": render_english(error)[:2000],
        "error_message_message": error,
        "traceback": traceback_module.format_exc()[-20000:],
    }


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
        "promotion_reason": render_english(outcome.get("promotion_reason_message")),
        "promotion_reason_message": outcome.get("promotion_reason_message"),
        "validation_metrics": outcome.get("validation_metrics", {}),
        "tuning": outcome.get("tuning", run.tuning) or {},
        "error_message": outcome.get("error_message", ""),
        "error_message_message": outcome.get("error_message_message"),
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
            "reason_message": run.promotion_reason_message or run.error_message_message,
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
            run.promotion_reason or run.error_message or render_english(reason),
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
        # A file has no reader's language: the English text, its code beside it.
        "promotion_reason": run.promotion_reason,
        "promotion_reason_code": code_of(run.promotion_reason_message),
        "validation": {
            name: promotion_metric_value(metrics, name)
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
        "error_message_code": code_of(run.error_message_message),
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
    return iso_kst(value)
