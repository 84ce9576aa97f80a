"""Metrics read from the database at scrape time.

The facts behind these numbers are rows that any process may write: the Q2
cluster retrains and scores, the web server serves. Reading them when Prometheus
scrapes makes /metrics right whichever process did the work, and the same in
every gunicorn worker.

`ml_retrains_total` and `ml_predictions_scored_total` are counters derived from
row counts. They only go down if rows are deleted; Prometheus then sees a
counter reset. The alert rules therefore use the gauges
`ml_retrain_last_status` and `ml_retrain_last_success_timestamp_seconds`, which
deleting old rows does not disturb.

Each section is read on its own: a database error in one is logged, counted in
`ml_collector_errors_total{section}` and leaves that section's metrics out of
this scrape; the other sections and the in-process metrics are still served.
"""

import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)

from draws.freshness import draw_freshness
from draws.models import LottoDraw
from mlops.ml.metrics import VERDICT_WORDS
from mlops.models import ModelVersion, Prediction, RetrainRun
from mlops.services.monitoring.fairness import draw_fairness_latest
from mlops.services.monitoring.monitoring import get_monitor_status
from mlops.services.monitoring.replay import replayed_status
from mlops.serving_state import serving_state

from .metrics import COLLECTOR_ERRORS_TOTAL, SERVING_MODES

logger = logging.getLogger(__name__)

FINISHED_STATUSES = (
    RetrainRun.Status.SUCCESS,
    RetrainRun.Status.FAILED,
    RetrainRun.Status.SKIPPED,
    RetrainRun.Status.UNCHANGED,
)
IN_FLIGHT_STATUSES = (RetrainRun.Status.QUEUED, RetrainRun.Status.RUNNING)
HEALTH_STATES = ("good", "warning", "critical", "insufficient_data")
# Higher is worse; -1: too few scored forecasts to judge.
HEALTH_CODES = {"good": 0, "warning": 1, "critical": 2, "insufficient_data": -1}


def retrain_metrics() -> Iterable[Metric]:
    """Retrain runs by trigger and outcome, what is in flight, the last outcomes.

    One grouped query: the count and the latest finish of each (trigger, status)
    give the totals, the last success and the last outcome (a second query only
    when a success and a failure finished at the same instant: the later id wins).
    """
    rows = list(
        RetrainRun.objects.values("trigger", "status").annotate(
            n=Count("id"), last=Max("finished_at")
        )
    )
    counts = {(row["trigger"], row["status"]): row["n"] for row in rows}
    finished: dict[str, object] = {}  # status -> its latest finished_at
    for row in rows:
        if row["last"] is not None and (
            row["status"] not in finished or row["last"] > finished[row["status"]]
        ):
            finished[row["status"]] = row["last"]
    total = CounterMetricFamily(
        "ml_retrains_total",
        "Finished retrain runs by trigger and status (counted from RetrainRun rows).",
        labels=["trigger", "status"],
    )
    triggers = sorted(set(RetrainRun.Trigger.values) | {t for t, _ in counts})
    for trigger in triggers:
        for status in FINISHED_STATUSES:
            total.add_metric([trigger, status], counts.get((trigger, status), 0))
    yield total

    in_flight = GaugeMetricFamily(
        "ml_retrains_in_flight",
        "Retrain runs queued or running now.",
        labels=["status"],
    )
    for status in IN_FLIGHT_STATUSES:
        in_flight.add_metric(
            [status], sum(n for (_, s), n in counts.items() if s == status)
        )
    yield in_flight

    last_success = finished.get(RetrainRun.Status.SUCCESS)
    if last_success is not None:
        yield GaugeMetricFamily(
            "ml_retrain_last_success_timestamp_seconds",
            "When the last successful retrain finished (Unix time).",
            value=last_success.timestamp(),
        )

    # Skipped runs (nothing new to learn, another run in flight) neither clear
    # nor raise a failure: the last success-or-failure decides.
    last = _last_outcome(
        finished.get(RetrainRun.Status.SUCCESS), finished.get(RetrainRun.Status.FAILED)
    )
    if last is not None:
        outcome = GaugeMetricFamily(
            "ml_retrain_last_status",
            "1 on the status of the most recent finished retrain (success/failed).",
            labels=["status"],
        )
        for status in (RetrainRun.Status.SUCCESS, RetrainRun.Status.FAILED):
            outcome.add_metric([status], 1 if last == status else 0)
        yield outcome


def _last_outcome(success_at, failed_at) -> str | None:
    """success or failed: whichever finished last (None when neither did)."""
    if success_at is None and failed_at is None:
        return None
    if failed_at is None or (success_at is not None and success_at > failed_at):
        return RetrainRun.Status.SUCCESS
    if success_at is None or failed_at > success_at:
        return RetrainRun.Status.FAILED
    return (  # the same instant: the later run (by id) decides
        RetrainRun.objects.filter(
            status__in=[RetrainRun.Status.SUCCESS, RetrainRun.Status.FAILED],
            finished_at=success_at,
        )
        .order_by("-id")
        .values_list("status", flat=True)
        .first()
    )


def model_metrics() -> Iterable[Metric]:
    """The active version, its age, and how many versions are in each state."""
    by_state = dict(ModelVersion.objects.values_list("state").annotate(n=Count("id")))
    versions = GaugeMetricFamily(
        "ml_model_versions",
        "Model versions in the registry by state.",
        labels=["state"],
    )
    for state in ModelVersion.State.values:
        versions.add_metric([state], by_state.get(state, 0))
    yield versions

    active = (
        ModelVersion.objects.filter(state=ModelVersion.State.ACTIVE)
        .only("version", "feature_set_version", "created_at")
        .first()
    )
    if active is None:
        return  # no series: "no active model" is not an age of 0
    yield GaugeMetricFamily(
        "ml_model_age_seconds",
        "Seconds since the active model version was created.",
        value=(timezone.now() - active.created_at).total_seconds(),
    )
    yield InfoMetricFamily(
        "ml_active_model",
        "The active model version (value always 1).",
        value={"version": active.version, "feature_set": active.feature_set_version},
    )


def prediction_metrics() -> Iterable[Metric]:
    """How many official forecasts have been scored against a real draw."""
    scored = Prediction.objects.filter(scored_at__isnull=False).count()
    yield CounterMetricFamily(
        "ml_predictions_scored_total",
        "Forecasts scored against the drawn numbers (counted from Prediction rows).",
        value=scored,
    )


def monitoring_metrics() -> Iterable[Metric]:
    """The monitored accuracy, its baseline and the health verdict."""
    yield from monitor_status_metrics(get_monitor_status())


def monitor_status_metrics(status: dict) -> Iterable[Metric]:
    """Metric families for one `get_monitor_status()` result."""
    if status.get("accuracy") is not None:
        yield GaugeMetricFamily(
            "ml_accuracy",
            "Monitored accuracy of the served forecasts (percent).",
            value=float(status["accuracy"]),
        )
    if status.get("baseline") is not None:
        yield GaugeMetricFamily(
            "ml_accuracy_baseline",
            "Accuracy expected from chance on the same draws (percent).",
            value=float(status["baseline"]),
        )
    if status.get("sample_size") is not None:
        yield GaugeMetricFamily(
            "ml_accuracy_sample_size",
            "Scored forecasts the monitored accuracy is computed from.",
            value=float(status["sample_size"]),
        )
    current = status.get("status")
    health = GaugeMetricFamily(
        "ml_health_status",
        "1 on the current model health state, 0 on the others.",
        labels=["status"],
    )
    for state in HEALTH_STATES:
        health.add_metric([state], 1 if state == current else 0)
    yield health
    if current in HEALTH_CODES:
        yield GaugeMetricFamily(
            "ml_health_status_code",
            "Model health as a number: 0 good, 1 warning, 2 critical, "
            "-1 insufficient data.",
            value=HEALTH_CODES[current],
        )
    yield verdict_family("live", status.get("verdict_code"))


def verdict_family(series: str, code: str | None) -> Metric:
    """1 on the exact verdict of the any-hit accuracy (docs/STATISTICS.md)."""
    family = GaugeMetricFamily(
        "ml_accuracy_verdict",
        "1 on the exact test's verdict of the accuracy (better, no_evidence, worse, "
        "insufficient_data), per series (live, replayed).",
        labels=["series", "verdict"],
    )
    if code is not None:
        for verdict in VERDICT_WORDS:
            family.add_metric([series, verdict], 1 if verdict == code else 0)
    return family


def replayed_metrics() -> Iterable[Metric]:
    """The warm-up replay's series under names of its own: never the live health."""
    status = replayed_status()
    accuracy = GaugeMetricFamily(
        "ml_replayed_accuracy",
        "Accuracy of the walk-forward replay (percent; replayed, not live).",
        labels=[],
    )
    if status.get("accuracy") is not None:  # no sample: "no replay", not 0 %
        accuracy.add_metric([], float(status["accuracy"]))
    yield accuracy
    yield GaugeMetricFamily(
        "ml_replayed_accuracy_sample_size",
        "Replayed forecasts the replayed accuracy is computed from.",
        value=float(status.get("sample_size") or 0),
    )
    health = GaugeMetricFamily(
        "ml_replayed_health_status",
        "1 on the health state the replayed series would have (never acted on).",
        labels=["status"],
    )
    for state in HEALTH_STATES:
        health.add_metric([state], 1 if state == status.get("status") else 0)
    yield health
    yield verdict_family("replayed", status.get("verdict_code"))


def threshold_metrics() -> Iterable[Metric]:
    """The accuracy thresholds from settings, for dashboards and alerts."""
    thresholds = GaugeMetricFamily(
        "ml_accuracy_threshold",
        "Accuracy thresholds of the health verdict (percent).",
        labels=["level"],
    )
    thresholds.add_metric(["good"], settings.MONITOR_GOOD_THRESHOLD)
    thresholds.add_metric(["critical"], settings.MONITOR_CRITICAL_THRESHOLD)
    yield thresholds


def draw_metrics() -> Iterable[Metric]:
    """How much history is stored: statistical mode needs at least one draw."""
    summary = LottoDraw.objects.aggregate(n=Count("draw_no"), latest=Max("draw_no"))
    yield GaugeMetricFamily(
        "ml_draws_stored", "Lotto draws stored.", value=summary["n"]
    )
    if summary["latest"] is not None:
        yield GaugeMetricFamily(
            "ml_latest_draw_number",
            "Number of the newest stored draw.",
            value=summary["latest"],
        )
    freshness = draw_freshness()
    yield GaugeMetricFamily(
        "ml_draws_stale",
        "1 when a draw broadcast more than DRAWS_STALE_GRACE_HOURS ago is not "
        "stored (or none is), else 0.",
        value=1 if freshness.stale else 0,
    )
    yield GaugeMetricFamily(
        "ml_draws_missing",
        "Draws already broadcast (by the Saturday 20:35 KST calendar) not stored.",
        value=freshness.missing_draws,
    )
    if freshness.latest_age_seconds is not None:
        yield GaugeMetricFamily(
            "ml_latest_draw_age_seconds",
            "Seconds since the newest stored draw was broadcast.",
            value=freshness.latest_age_seconds,
        )


def fairness_metrics() -> Iterable[Metric]:
    """The newest fairness tests of the draw process per window (all, 52, 260)."""
    uniformity = GaugeMetricFamily(
        "lotto_draw_uniformity_p_value",
        "p-value of the main-number uniformity test (44/39-scaled X^2) per window.",
        labels=["window"],
    )
    tests = GaugeMetricFamily(
        "lotto_draw_fairness_p_value",
        "p-value of each fairness test of the draws per window "
        "(combined = Holm over main, bonus, per_number, overlap).",
        labels=["window", "test"],
    )
    for check in draw_fairness_latest():
        uniformity.add_metric([check.window], check.main_p_value)
        for test, value in (
            ("combined", check.p_value),
            ("main", check.main_p_value),
            ("bonus", check.bonus_p_value),
            ("per_number", check.per_number_p_value),
            ("overlap", check.overlap_p_value),
        ):
            tests.add_metric([check.window, test], value)
    yield uniformity
    yield tests


SECTIONS: tuple[tuple[str, Callable[[], Iterable[Metric]]], ...] = (
    ("retrains", retrain_metrics),
    ("models", model_metrics),
    ("predictions", prediction_metrics),
    ("monitoring", monitoring_metrics),
    ("replayed", replayed_metrics),
    ("draws", draw_metrics),
    ("fairness", fairness_metrics),
)


def serving_metrics() -> Iterable[Metric]:
    """The mode the process answering this scrape serves (its state provider)."""
    state = serving_state()
    family = GaugeMetricFamily(
        "ml_process_serving_mode",
        "1 for the mode the web process answering this scrape serves now; all 0 "
        "before its first forecast.",
        labels=["mode"],
    )
    for mode in SERVING_MODES:
        family.add_metric([mode], 1 if state.mode == mode else 0)
    yield family


class DatabaseCollector:
    """A prometheus-client collector that reads the metrics above per scrape."""

    def describe(self) -> list:
        return []  # don't let a registry run the queries at registration

    def collect(self) -> Iterable[Metric]:
        yield from threshold_metrics()
        yield from serving_metrics()
        for section, read in SECTIONS:
            try:
                families = list(read())  # all or nothing per section
            except Exception:
                logger.exception("Metrics section %r failed to read", section)
                COLLECTOR_ERRORS_TOTAL.labels(section=section).inc()
                continue
            yield from families
