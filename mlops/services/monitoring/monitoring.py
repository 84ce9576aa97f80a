"""Model health from scored forecasts: accuracy, baselines, status, emergency retrain.

What is monitored (docs/ML_ENGINE.md, "Monitoring"): the forecasts the model
served. Per target draw, one forecast counts: the latest ML forecast made by a
model version while that version was the active one (its activation period
covers the forecast's creation). Statistical-mode forecasts are scored too, but
they are not the model's work and do not move its health. The health window is
the last MONITOR_WINDOW such scored forecasts, newest draws first.

Every figure comes with its exact random baseline, an exact 95 % interval, the
two one-sided p-values and the exact verdict of `mlops.ml.metrics`
(docs/STATISTICS.md); rates are in percent. The health status (thresholds) and
the exact verdict stand side by side: an emergency retrain needs both CRITICAL
and "worse than chance".

`get_monitor_status` is read by the Prometheus collector at every scrape: two
queries (the window, the retrain runs), no model loading. The replayed series
(`replay.replayed_status`) is read on its own and never mixed in.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from draws.timefmt import iso_kst
from mlops.messages import code_of, message, render, render_english
from mlops.ml import metrics
from mlops.models import ModelActivation, Prediction, RetrainRun
from mlops.services.monitoring.scoring import predictions_score_pending
from mlops.services.registry.audit import Actor
from mlops.services.training.retrain_requests import (
    RetrainAlreadyRunning,
    retrain_request,
)

logger = logging.getLogger(__name__)

GOOD = "good"
WARNING = "warning"
CRITICAL = "critical"
INSUFFICIENT_DATA = "insufficient_data"

# emergency_retrain_state values
EMERGENCY_RUNNING = "running"  # an emergency retrain is queued or running
EMERGENCY_DUE = "due"  # critical, nothing in flight, no emergency in the cooldown
EMERGENCY_DEFERRED = "deferred"  # critical, but another retrain is in flight
EMERGENCY_COOLDOWN = "cooldown"  # critical, one was requested within the cooldown
EMERGENCY_NOT_NEEDED = "not_needed"  # the status is not critical
# critical, but the exact test finds no evidence of "worse than chance": bad luck
# a chance-level model shows 5-13 % of the time (docs/STATISTICS.md)
EMERGENCY_NO_EVIDENCE = "no_evidence"

VERDICT_TEXT = {
    metrics.BETTER: _("better than chance"),
    metrics.NO_EVIDENCE: _("no evidence of skill"),
    metrics.WORSE: _("worse than chance"),
    metrics.INSUFFICIENT_DATA: _("insufficient data"),
}

# Marked for the catalog, returned in English: the accuracy command translates it.
SCOPE = gettext_noop(
    "per target draw, the latest ML forecast made by a model version while it "
    "was the active one; the last MONITOR_WINDOW scored draws"
)


def verdict_text(code: str) -> str:
    """The verdict in the reader's language (the code stays beside it)."""
    return gettext(VERDICT_TEXT[code])


def _percent(share: float | None) -> float | None:
    return None if share is None else 100.0 * share


def _percent_interval(interval) -> list[float] | None:
    return None if interval is None else [100.0 * bound for bound in interval]


def _in_words(figure: dict) -> dict:
    return {**figure, "verdict": verdict_text(figure["verdict_code"])}


def monitored_forecasts() -> QuerySet[Prediction]:
    """Scored forecasts that count for health: one per draw, newest draw first."""
    active_when_made = ModelActivation.objects.filter(
        model_version=OuterRef("model_version"),
        activated_at__lte=OuterRef("created_at"),
    ).filter(
        Q(deactivated_at__isnull=True) | Q(deactivated_at__gt=OuterRef("created_at"))
    )
    served = Prediction.objects.filter(
        Exists(active_when_made),
        mode=Prediction.Mode.ML,
        scored_at__isnull=False,
    )
    # Two activations before one draw give two forecasts; the later one was the
    # one being served when the draw took place.
    latest_for_draw = (
        served.filter(target_draw_no=OuterRef("target_draw_no"))
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    return served.filter(pk=Subquery(latest_for_draw)).order_by("-target_draw_no")


def health_status(accuracy: float | None, sample_size: int) -> str:
    """good / warning / critical from the thresholds; insufficient_data below the
    minimum sample (a week of bad luck is not an emergency)."""
    if accuracy is None or sample_size < settings.MONITOR_MIN_SAMPLES:
        return INSUFFICIENT_DATA
    if accuracy >= settings.MONITOR_GOOD_THRESHOLD:
        return GOOD
    if accuracy >= settings.MONITOR_CRITICAL_THRESHOLD:
        return WARNING
    return CRITICAL


def _rate_figure(successes: int, n: int, baseline: float) -> dict:
    """A rate in percent: exact baseline, Clopper-Pearson interval, p-values, verdict."""
    figure = metrics.rate_figure(successes, n, baseline)
    return _in_words(
        {
            **figure,
            "value": _percent(figure["value"]),
            "baseline": _percent(figure["baseline"]),
            "interval": _percent_interval(figure["interval"]),
        }
    )


def _hits_distribution(hits: list[int]) -> dict:
    pmf = metrics.hypergeometric_hits_pmf()
    return {
        "hits": list(range(metrics.PICKS + 1)),
        "observed": [hits.count(k) for k in range(metrics.PICKS + 1)],
        "expected": [len(hits) * share for share in pmf],
        "baseline_share": pmf,
    }


def _prize_figure(combination_results: list[list[dict]]) -> dict:
    tickets = [ticket for results in combination_results for ticket in results or []]
    wins = [ticket for ticket in tickets if ticket.get("tier") is not None]
    figure = _rate_figure(len(wins), len(tickets), metrics.random_prize_probability())
    figure["tiers"] = {
        str(tier): sum(1 for ticket in wins if ticket["tier"] == tier)
        for tier in range(1, 6)
    }
    # The games of one slip meet the same draw: the binomial test treats them as
    # independent, so this p-value is approximate (docs/STATISTICS.md).
    figure["unit"] = "game"
    return figure


# The Brier null is a 1,000-replication simulation: memoised per window (the
# forecasts of a window never change), so a scrape every 15 s doesn't redo it.
_BRIER_MEMO: dict[tuple, dict] = {}
_BRIER_MEMO_SIZE = 16


def _brier_figure(keys: tuple, probabilities: list, scores: list[float]) -> dict:
    memo_key = (keys, tuple(scores))
    figure = _BRIER_MEMO.get(memo_key)
    if figure is None:
        figure = metrics.brier_figure(probabilities, scores)
        if len(_BRIER_MEMO) >= _BRIER_MEMO_SIZE:
            _BRIER_MEMO.clear()
        _BRIER_MEMO[memo_key] = figure
    return _in_words(figure)


def window_figures(rows: list[dict], *, keys: tuple = ()) -> dict:
    """Every figure of one series of scored forecasts (live or replayed).

    Each row: hits, brier_score, combination_results, probabilities (45).
    `keys` identify the rows for the memo of the Brier null (e.g. their pks).
    """
    hits = [row["hits"] for row in rows]
    n = len(rows)
    accuracy = _rate_figure(
        sum(1 for count in hits if count >= 1), n, metrics.random_any_hit_probability()
    )
    return {
        "accuracy": accuracy["value"],
        "baseline": accuracy["baseline"],
        "interval": accuracy["interval"],
        "interval_method": accuracy["interval_method"],
        "verdict": accuracy["verdict"],
        "verdict_code": accuracy["verdict_code"],
        "p_value": accuracy["p_value"],
        "p_value_worse": accuracy["p_value_worse"],
        "successes": accuracy["successes"],
        "sample_size": n,
        "alpha": metrics.ALPHA,
        "confidence": metrics.CONFIDENCE,
        "min_verdict_sample": metrics.MIN_VERDICT_SAMPLE,
        "mean_hits": _in_words(metrics.mean_hits_figure(hits)),
        "hits_distribution": _hits_distribution(hits),
        "prize_rate": _prize_figure([row["combination_results"] for row in rows]),
        "brier_score": _brier_figure(
            keys,
            [row["probabilities"] for row in rows],
            [row["brier_score"] for row in rows],
        ),
    }


def _emergency(status: str, verdict_code: str) -> dict:
    """Whether an emergency retrain is running, due, deferred, cooling down, or
    not warranted because the exact test finds no evidence of "worse"."""
    cooldown = dt.timedelta(days=settings.MONITOR_EMERGENCY_COOLDOWN_DAYS)
    cutoff = timezone.now() - cooldown
    runs = list(
        RetrainRun.objects.filter(
            Q(in_flight__isnull=False)
            | Q(trigger=RetrainRun.Trigger.EMERGENCY, created_at__gte=cutoff)
        )
        .order_by("-created_at", "-id")
        .values("id", "trigger", "status", "created_at", "in_flight")
    )
    in_flight = next((run for run in runs if run["in_flight"]), None)
    last_emergency = next(
        (run for run in runs if run["trigger"] == RetrainRun.Trigger.EMERGENCY), None
    )
    if in_flight and in_flight["trigger"] == RetrainRun.Trigger.EMERGENCY:
        state = EMERGENCY_RUNNING
    elif status != CRITICAL:
        state = EMERGENCY_NOT_NEEDED
    elif verdict_code != metrics.WORSE:
        state = EMERGENCY_NO_EVIDENCE
    elif last_emergency is not None:
        state = EMERGENCY_COOLDOWN
    elif in_flight is not None:
        state = EMERGENCY_DEFERRED
    else:
        state = EMERGENCY_DUE
    return {
        "emergency_retrain": state in (EMERGENCY_RUNNING, EMERGENCY_DUE),
        "emergency_retrain_state": state,
        "last_emergency_retrain": None
        if last_emergency is None
        else {
            "id": last_emergency["id"],
            "status": last_emergency["status"],
            "created_at": iso_kst(last_emergency["created_at"]),
        },
        "retrain_in_flight": None if in_flight is None else in_flight["id"],
        "cooldown_days": settings.MONITOR_EMERGENCY_COOLDOWN_DAYS,
    }


def get_monitor_status() -> dict:
    """The model's health over the last MONITOR_WINDOW scored forecasts (live only)."""
    window = settings.MONITOR_WINDOW
    rows = list(
        monitored_forecasts().values(
            "pk",
            "target_draw_no",
            "hits",
            "brier_score",
            "combination_results",
            "probabilities",
        )[:window]
    )
    figures = window_figures(rows, keys=tuple(row["pk"] for row in rows))
    status = health_status(figures["accuracy"], len(rows))
    return {
        "series": "live",
        **figures,
        "status": status,
        "window": window,
        "min_samples": settings.MONITOR_MIN_SAMPLES,
        "thresholds": {
            "good": settings.MONITOR_GOOD_THRESHOLD,
            "critical": settings.MONITOR_CRITICAL_THRESHOLD,
        },
        "first_draw": rows[-1]["target_draw_no"] if rows else None,
        "last_draw": rows[0]["target_draw_no"] if rows else None,
        "scope": SCOPE,
        **_emergency(status, figures["verdict_code"]),
    }


def get_accuracy_trend(days: int = 28) -> list[dict]:
    """One entry per scored draw dated within the last `days` days, oldest first.

    `accuracy` is the health figure as it stood after that draw: the share over
    that draw and the MONITOR_WINDOW - 1 monitored draws before it.
    """
    window = settings.MONITOR_WINDOW
    since = timezone.localdate() - dt.timedelta(days=days)
    fields = ("target_draw_no", "target_draw_date", "hits")
    recent = list(
        monitored_forecasts().filter(target_draw_date__gt=since).values(*fields)
    )
    if not recent:
        return []
    first = min(row["target_draw_no"] for row in recent)
    earlier = list(
        monitored_forecasts()
        .filter(target_draw_no__lt=first)
        .values(*fields)[: window - 1]
    )
    ordered = sorted(recent + earlier, key=lambda row: row["target_draw_no"])
    baseline = _percent(metrics.random_any_hit_probability())
    trend = []
    for index, row in enumerate(ordered):
        if row["target_draw_no"] < first:
            continue
        rolling = ordered[max(0, index - window + 1) : index + 1]
        successes = sum(1 for item in rolling if item["hits"] >= 1)
        accuracy = 100.0 * successes / len(rolling)
        code = metrics.exact_verdict(
            *metrics.binomial_tails(
                successes, len(rolling), metrics.random_any_hit_probability()
            ),
            len(rolling),
        )
        trend.append(
            {
                "date": row["target_draw_date"].isoformat(),
                "draw": row["target_draw_no"],
                "accuracy": accuracy,
                "sample_size": len(rolling),
                "hits": row["hits"],
                "baseline": baseline,
                "status": health_status(accuracy, len(rolling)),
                "verdict_code": code,
                "verdict": verdict_text(code),
            }
        )
    return trend


def monitor_check(*, actor: Actor) -> dict:
    """Score what is pending, compute the health and, when it is critical, queue
    an emergency retrain: at most one per cooldown, never while one runs."""
    scored_now = predictions_score_pending()
    status = get_monitor_status()
    result = {**status, "scored_now": scored_now, "action": "none", "retrain_run": None}
    state = status["emergency_retrain_state"]
    if status["status"] != CRITICAL:
        return result
    if state in (EMERGENCY_RUNNING, EMERGENCY_COOLDOWN, EMERGENCY_NO_EVIDENCE):
        result["action"] = f"skipped_{state}"
        return result
    # "deferred" too: the retraining service is the authority on single flight
    # (a stale in-flight run may be abandoned by it), so it decides.
    reason = message(
        "retrain.accuracy_critical",
        accuracy=f"{status['accuracy']:.1f}",
        sample_size=status["sample_size"],
        threshold=f"{settings.MONITOR_CRITICAL_THRESHOLD:g}",
        baseline=f"{status['baseline']:.2f}",
        p_value=f"{status['p_value_worse']:.3g}",
    )
    try:
        run = retrain_request(
            trigger=RetrainRun.Trigger.EMERGENCY,
            actor=actor,
            options={"reason": reason},
        )
    except RetrainAlreadyRunning:
        result["action"] = "skipped_running"
        return result
    logger.warning(
        "Emergency retrain %s queued: %s",
        getattr(run, "pk", run),
        render_english(reason),
    )
    result.update(
        action="queued",
        retrain_run=getattr(run, "pk", None),
        reason=render(reason),
        reason_code=code_of(reason),
    )
    return result
