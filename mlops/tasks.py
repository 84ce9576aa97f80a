"""Django-Q2 calls these by dotted path; each only calls a service."""

import logging

from draws.sync_service import draw_sync_latest
from mlops.services.monitoring.monitoring import monitor_check
from mlops.services.monitoring.replay import replay_ensure, replay_execute
from mlops.services.operations.integrity_checks import (
    model_active_verify,
    models_verify_scheduled,
)
from mlops.services.registry.audit import Actor
from mlops.services.training.retrain_requests import (
    RetrainAlreadyRunning,
    retrain_request,
)
from mlops.services.training.retraining import (
    retrain_execute,
    retrain_recover_abandoned,
)

logger = logging.getLogger(__name__)


def retrain_task(run_id: int) -> str:
    """Run one queued retrain; a repeated delivery is harmless (single flight)."""
    return retrain_execute(run_id=run_id).status


def retrain_recover_abandoned_task() -> list[int]:
    """The watchdog: fail, release and audit retrains whose worker died."""
    return [run.pk for run in retrain_recover_abandoned()]


def scheduled_retrain_task() -> int | None:
    """The weekly retrain; a no-op (logged) while another retrain runs."""
    try:
        return retrain_request(trigger="scheduled", actor=Actor.scheduler()).pk
    except RetrainAlreadyRunning as exc:
        # Logs stay English (grep), whatever language the worker speaks.
        logger.info(
            "Scheduled retrain skipped: Retrain run %s is already %s",
            exc.run.pk,
            exc.run.status,
        )
        return None


def draw_sync_and_monitor_task() -> dict:
    """Sync the newest draws, then check the accuracy (and maybe retrain).

    Scoring happens on import (a signal); the accuracy check runs even when
    the sync fails, and the sync's error is raised afterwards so that Q2
    records the task as failed.
    """
    result, sync_error = {}, None
    try:
        result["sync"] = draw_sync_latest().as_dict()
    except Exception as exc:
        logger.exception("Draw sync failed")
        sync_error = exc
    result["monitor"] = monitor = monitor_check(actor=Actor.scheduler())
    logger.info(
        "Accuracy check: %s (action: %s)", monitor.get("status"), monitor.get("action")
    )
    # A fresh deploy has no replayed series yet: the first check queues it.
    queued = replay_ensure(actor=Actor.scheduler())
    result["replay_queued"] = None if queued is None else queued.pk
    if sync_error is not None:
        raise sync_error
    return result


def model_active_verify_task() -> dict:
    """Every few minutes: the active model's file; self-heal at once if it fails."""
    check = model_active_verify()
    return {"ok": check.ok, "summary": check.summary}


def models_verify_task() -> dict:
    """Daily: every model, metadata and backup file."""
    check = models_verify_scheduled()
    return {"ok": check.ok, "summary": check.summary}


def replay_task(run_id: int) -> str:
    """Run one queued warm-up replay (the monitor's replayed series)."""
    return replay_execute(run_id=run_id).status
