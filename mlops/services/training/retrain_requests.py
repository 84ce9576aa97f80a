"""Asking for a retrain: one service every door calls (schedule, API, CLI, monitoring).

Single flight is the database's job: a queued or running `RetrainRun` holds
`in_flight = "retrain"`, a unique column, so a second request fails on the
unique index in any process on any machine; the lock is released (NULL) in
every outcome (see retraining.py, which runs and finishes the run).
"""

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from draws.timefmt import format_kst
from mlops.messages import code_of, message, render_english, stored_text
from mlops.models import RetrainRun
from mlops.services.registry.audit import Actor, audit_record
from mlops.services.training.retraining import (
    retrain_execute,
    retrain_recover_abandoned,
    retrain_write_metadata,
)

logger = logging.getLogger(__name__)

# The error_message prefix of a run the broker refused (Redis down).
NOT_QUEUED = "could not queue the task"
OPTION_NAMES = ("force", "tune", "warm_start", "reason", "params")
# Training parameters a request may set, with their allowed range (inclusive).
# seed: scikit-learn's random_state range; n_estimators: bounded so that one
# request can't occupy the worker for hours.
PARAM_RANGES = {"seed": (0, 2**32 - 1), "n_estimators": (1, 2000)}


class RetrainAlreadyRunning(Exception):
    """A retrain is queued or running; `.run` is that run."""

    def __init__(self, run: RetrainRun):
        self.run = run
        since = run.started_at or run.created_at
        super().__init__(
            _("Retrain run %(id)s is already %(status)s (since %(since)s).")
            % {
                "id": run.pk,
                "status": run.status,
                "since": format_kst(since, seconds=True),
            }
        )


def retrain_in_flight() -> RetrainRun | None:
    """The queued or running retrain holding the single-flight lock, or None."""
    return RetrainRun.objects.filter(in_flight=RetrainRun.IN_FLIGHT).first()


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
            _(
                "Choose tune or warm_start, not both: warm start grows the active "
                "model with its own parameters."
            ),
        )
    # A service's reason is a stored message (read in the reader's language); a
    # person's typed reason is kept and shown as typed.
    reason, reason_message = stored_text(options.get("reason"))
    cleaned["reason"] = str(reason or "")[:500]
    if reason_message is not None:
        cleaned["reason_message"] = reason_message
    params = _clean_params(options.get("params"))
    if params and cleaned["warm_start"]:
        raise ValidationError(
            _(
                "Choose params or warm_start, not both: warm start grows the active "
                "model with its own parameters."
            ),
            code="params_with_warm_start",
        )
    if params:
        cleaned["params"] = params
    return cleaned


def _clean_params(params) -> dict:
    """Training parameters (seed, n_estimators) checked against PARAM_RANGES."""
    if params in (None, {}):
        return {}
    if not isinstance(params, dict):
        raise ValidationError(
            _('params must be an object, e.g. {"seed": 7}.'), code="invalid"
        )
    unknown = set(params) - set(PARAM_RANGES)
    if unknown:
        raise ValidationError(
            _("Unknown training parameter(s) %(unknown)s; known: %(known)s.")
            % {"unknown": sorted(unknown), "known": list(PARAM_RANGES)},
            code="unknown_param",
        )
    cleaned = {}
    for name, value in params.items():
        low, high = PARAM_RANGES[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(
                _("params.%(name)s must be a whole number.") % {"name": name},
                code="invalid",
            )
        if not low <= value <= high:
            raise ValidationError(
                _(
                    "params.%(name)s must be between %(low)s and %(high)s, got %(value)s."
                )
                % {"name": name, "low": low, "high": high, "value": value},
                code="out_of_range",
            )
        cleaned[name] = value
    return cleaned


def retrain_request(
    *,
    trigger: str,
    actor: Actor,
    options: dict | None = None,
    run_async: bool = True,
    activated_by: str = "retrain",
) -> RetrainRun:
    """Record a queued retrain and run it on the cluster (or here, if not async).

    Raises RetrainAlreadyRunning when one is queued or running. `activated_by`
    names the door in the activation record when a run in this process
    promotes its model (a queued run always says "retrain").
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
        raise ValidationError(_("Could not take the retrain lock; try again."))
    logger.info(
        "Retraining requested: run %s (trigger %s, by %s)", run.pk, trigger, actor.label
    )
    if not run_async:
        return retrain_execute(run_id=run.pk, activated_by=activated_by)
    transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(run_id: int) -> None:
    try:
        task_id = async_task(
            "mlops.tasks.retrain_task",
            run_id,
            task_name=f"retrain-run-{run_id}",
            group="retrain",
        )
    except Exception as exc:  # broker down: don't hold the lock for 30 minutes
        logger.exception("Could not queue retrain run %s", run_id)
        _finish_unstarted(run_id, message("run.not_queued", error=repr(exc)))
        return
    RetrainRun.objects.filter(pk=run_id).update(task_id=str(task_id or "")[:64])


def retrain_not_queued(run: RetrainRun) -> bool:
    """Whether the broker refused the run's task (it failed without starting)."""
    if run.status != RetrainRun.Status.FAILED:
        return False
    # Runs recorded before codes carry the English prefix only.
    return code_of(run.error_message_message) == "run.not_queued" or (
        run.error_message.startswith(NOT_QUEUED)
    )


def _finish_unstarted(run_id: int, error: dict) -> None:
    now = timezone.now()
    text = render_english(error)
    RetrainRun.objects.filter(pk=run_id, status=RetrainRun.Status.QUEUED).update(
        status=RetrainRun.Status.FAILED,
        in_flight=None,
        finished_at=now,
        error_message=text,
        error_message_message=error,
    )
    run = RetrainRun.objects.get(pk=run_id)
    audit_record(
        actor=Actor.system(),
        action="retrain_finished",
        obj=run,
        details={
            "status": run.status,
            "outcome": "not_queued",
            "reason": text,
            "reason_message": error,
        },
    )
    logger.error(
        "Retraining failed: run %s (trigger %s, reason: %s)",
        run_id,
        run.trigger,
        text,
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
    params: dict | None = None,
    activated_by: str = "retrain",
) -> RetrainRun:
    """Request a retrain and run it in this process; return the finished run."""
    options = {
        "force": force,
        "tune": tune,
        "warm_start": warm_start,
        "reason": reason,
        "params": params,
    }
    return retrain_request(
        trigger=trigger,
        actor=actor,
        options=options,
        run_async=False,
        activated_by=activated_by,
    )
