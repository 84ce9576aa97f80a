"""The monitor's warm-up: a *replayed* series from a walk-forward replay.

A fresh deploy has no scored live forecast, so the monitor reads
`insufficient_data` for about 20 weeks. A walk-forward replay of the last
MONITOR_REPLAY_DRAWS stored draws (the backtest machinery: each draw forecast by
a model fitted only on the draws before it) fills a replayed series at once.

It is kept apart from live accuracy everywhere: its own model (`ReplayRun`), its
own key in the monitor API (`replayed`), its own metric names in /metrics
(`ml_replayed_*`), labelled on the operations page. Emergency retrains read
the live series only: the replay is a baseline for operators, not a trigger.
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_q.tasks import async_task

from draws.models import LottoDraw
from draws.timefmt import iso_kst
from mlops.models import ReplayRun
from mlops.services.monitoring.backtest import backtest_run
from mlops.services.monitoring.monitoring import (
    health_status,
    verdict_text,
    window_figures,
)
from mlops.services.registry.audit import Actor

logger = logging.getLogger(__name__)

IN_FLIGHT = (ReplayRun.Status.QUEUED, ReplayRun.Status.RUNNING)
LABEL = _(
    "Replayed: walk-forward forecasts of past draws made after the fact, "
    "not live forecasts. A baseline, never a trigger."
)


def replay_request(
    *,
    trigger: str,
    actor: Actor,
    draws: int | None = None,
    seed: int = 0,
    run_async: bool = True,
) -> ReplayRun:
    """Record a queued replay and run it on the cluster (or here, if not async).

    Refuses (ValidationError) while another replay is queued or running.
    """
    draws = settings.MONITOR_REPLAY_DRAWS if draws is None else draws
    if draws < 1:
        raise ValidationError(
            gettext("--draws must be at least 1, got %(draws)s.") % {"draws": draws}
        )
    with transaction.atomic():
        running = ReplayRun.objects.select_for_update().filter(status__in=IN_FLIGHT)
        if running.exists():
            raise ValidationError(
                gettext("Replay %(id)s is already queued or running.")
                % {"id": running.first().pk}
            )
        run = ReplayRun.objects.create(
            trigger=trigger, actor=actor.label, draws=draws, seed=seed
        )
    logger.info("Replay %s requested (%s, by %s)", run.pk, trigger, actor.label)
    if not run_async:
        return replay_execute(run_id=run.pk)
    transaction.on_commit(
        lambda: async_task(
            "mlops.tasks.replay_task", run.pk, task_name=f"replay-{run.pk}"
        )
    )
    return run


def replay_ensure(*, actor: Actor) -> ReplayRun | None:
    """At first deploy: queue a replay when none was ever made and one is possible.

    Returns the queued run, or None (a replay exists, MONITOR_REPLAY_DRAWS is 0,
    or too few draws are stored for its first model).
    """
    draws = settings.MONITOR_REPLAY_DRAWS
    if draws < 1 or ReplayRun.objects.exists():
        return None
    if LottoDraw.objects.count() < draws + settings.ML_MIN_DRAWS:
        return None
    try:
        return replay_request(trigger=ReplayRun.Trigger.DEPLOY, actor=actor)
    except ValidationError:
        return None  # another process queued it first


def replay_execute(*, run_id: int) -> ReplayRun:
    """Run one queued replay: backtest the last `draws` draws, store the series."""
    claimed = ReplayRun.objects.filter(
        pk=run_id, status=ReplayRun.Status.QUEUED
    ).update(status=ReplayRun.Status.RUNNING, started_at=timezone.now())
    run = ReplayRun.objects.get(pk=run_id)
    if not claimed:
        return run  # a repeated delivery: someone else runs or ran it
    try:
        report = backtest_run(
            draws=run.draws, seed=run.seed, write=False, include_probabilities=True
        )
    except Exception as exc:  # recorded on the run; the monitor shows it
        logger.exception("Replay %s failed", run_id)
        run.status, run.error = ReplayRun.Status.FAILED, str(exc)[:2000]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        return run
    run.per_draw = [
        {
            "draw": row["draw"],
            "hits": row["model_hits"],
            "brier_score": row["model_brier"],
            "top_numbers": row["model_top6"],
            "probabilities": row["model_probabilities"],
            "combination_results": [
                {"combination": game, "tier": tier}
                for game, tier in zip(
                    row["model_slip"]["games"], row["model_slip"]["tiers"], strict=True
                )
            ],
        }
        for row in report["per_draw"]
    ]
    run.first_draw, run.last_draw = report["draw_range"]
    run.figures = replay_figures(run)
    run.status, run.finished_at = ReplayRun.Status.SUCCESS, timezone.now()
    run.save()
    logger.info("Replay %s stored draws %s-%s", run.pk, run.first_draw, run.last_draw)
    return run


def replay_figures(run: ReplayRun) -> dict:
    """The monitor's figures over a replay's per-draw rows (newest draw first)."""
    rows = sorted(run.per_draw, key=lambda row: row["draw"], reverse=True)
    figures = window_figures(rows, keys=("replay", run.pk))
    return {
        **figures,
        "status": health_status(figures["accuracy"], len(rows)),
    }


def replayed_status() -> dict:
    """The newest successful replay beside the newest replay's state (one query).

    Never part of the live health: `series` is "replayed" and there is no
    emergency retrain state.
    """
    runs = list(ReplayRun.objects.defer("per_draw").order_by("-created_at", "-id")[:10])
    latest = runs[0] if runs else None
    done = next((r for r in runs if r.status == ReplayRun.Status.SUCCESS), None)
    summary = {
        "series": "replayed",
        "label": gettext(LABEL),
        "latest_run": None
        if latest is None
        else {
            "id": latest.pk,
            "status": latest.status,
            "trigger": latest.trigger,
            "created_at": iso_kst(latest.created_at),
            "error": latest.error or None,
        },
    }
    if done is None or not done.figures:
        return {**summary, "status": "insufficient_data", "sample_size": 0}
    return {
        **summary,
        **in_words(done.figures),
        "run": done.pk,
        "first_draw": done.first_draw,
        "last_draw": done.last_draw,
        "replayed_at": iso_kst(done.finished_at) if done.finished_at else None,
    }


def in_words(figures: dict) -> dict:
    """Stored figures with every verdict put in the reader's language again."""
    translated = {}
    for key, value in figures.items():
        if isinstance(value, dict) and "verdict_code" in value:
            value = {**value, "verdict": verdict_text(value["verdict_code"])}
        translated[key] = value
    if "verdict_code" in figures:
        translated["verdict"] = verdict_text(figures["verdict_code"])
    return translated
