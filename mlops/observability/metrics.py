"""The service's in-process Prometheus metrics, and the registry /metrics serves.

Import this module anywhere (web, qcluster, management commands, tests): it only
defines metric objects. Every in-process metric family is defined here, and
`MlopsConfig.ready()` imports it, so a fresh process's /metrics shows all of them
(at 0) before the first event. Counters and histograms live in the process that records
them; under gunicorn every worker is a separate process, so prometheus-client's
multiprocess mode is on whenever PROMETHEUS_MULTIPROC_DIR is set (gunicorn.conf.py
sets it before the workers fork): each process writes its values to a file there
and /metrics merges the files of all workers, living and dead, at scrape time.

Values that live in the database (accuracy, retrains, model age) are not kept
here; `collectors.DatabaseCollector` reads them at scrape time.

Only the web server's processes are scraped. A process that is not a gunicorn
worker (the Q2 cluster, a management command) keeps its counts in memory, where
nobody reads them; that is harmless, and recording is never an error.
"""

import logging
import os

from prometheus_client import Counter, Gauge, Histogram

from mlops.fallback_reasons import FallbackReason

logger = logging.getLogger(__name__)

MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if MULTIPROC_DIR:
    # A metric opens its file on creation; a missing directory would make every
    # import of this module fail (e.g. a management command in the web container).
    os.makedirs(MULTIPROC_DIR, exist_ok=True)

FALLBACK_REASONS = tuple(FallbackReason.values)  # the one list (fallback_reasons.py)
# Anything else is counted as "other" (and logged): a label value per free-form
# string would let a bug create unbounded series.
OTHER_REASON = "other"
SERVING_MODES = ("ml", "statistical")

FALLBACK_TOTAL = Counter(
    "ml_fallback_total",
    "Recommendations served in statistical mode instead of by the model, by reason.",
    ["reason"],
)
INFERENCE_SECONDS = Histogram(
    "ml_inference_time_seconds",
    "Time to compute one forecast with the active model (seconds).",
    buckets=(
        0.0005,
        0.001,
        0.0025,
        0.005,
        0.01,
        0.025,
        0.05,
        0.1,
        0.25,
        0.5,
        1.0,
        2.0,
        5.0,
    ),
)
# "mostrecent": across workers /metrics shows the value written last, which is
# what "the last inference took" means; it survives the worker that wrote it.
INFERENCE_LAST_SECONDS = Gauge(
    "ml_inference_last_seconds",
    "Duration of the most recent inference in any web worker (seconds).",
    multiprocess_mode="mostrecent",
)
RECOMMENDATIONS_SERVED_TOTAL = Counter(
    "ml_recommendations_served_total",
    "Recommendation responses served, by the mode that produced them.",
    ["mode"],
)
SELF_HEAL_OUTCOMES = ("restored", "no_backup", "restore_failed", "already_healed")
SELF_HEAL_TOTAL = Counter(
    "ml_self_heal_total",
    "Self-heal attempts after the active model failed to load, by outcome.",
    ["outcome"],
)
COLLECTOR_ERRORS_TOTAL = Counter(
    "ml_collector_errors_total",
    "Scrapes where a database-backed metric could not be read, by section.",
    ["section"],
)
# Where a model's bytes were downloaded from the object store (S3 backend only):
# "prefetch" (the web process's background prefetch, before any request needs
# them), "request" (inside a request: the prefetch had not fetched them) or
# "other" (the worker, a command, self-heal).
MODEL_DOWNLOAD_CONTEXTS = ("request", "prefetch", "other")
MODEL_DOWNLOADS_TOTAL = Counter(
    "ml_model_downloads_total",
    "Model files downloaded from the object store into the host's read cache, "
    "by context (request, prefetch, other).",
    ["context"],
)
HTTP_REQUESTS_TOTAL = Counter(
    "http_requests_total",
    "HTTP requests answered, by method, URL route pattern and status code.",
    ["method", "route", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "http_request_duration_seconds",
    "Time from request to response inside Django, by method and route (seconds).",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

# Create every known series at 0, so rate() and increase() see the first event.
for _reason in FALLBACK_REASONS:
    FALLBACK_TOTAL.labels(reason=_reason)
for _mode in SERVING_MODES:
    RECOMMENDATIONS_SERVED_TOTAL.labels(mode=_mode)
for _outcome in SELF_HEAL_OUTCOMES:
    SELF_HEAL_TOTAL.labels(outcome=_outcome)
for _context in MODEL_DOWNLOAD_CONTEXTS:
    MODEL_DOWNLOADS_TOTAL.labels(context=_context)
COLLECTOR_SECTIONS = ("retrains", "models", "predictions", "monitoring", "draws")
for _section in COLLECTOR_SECTIONS:
    COLLECTOR_ERRORS_TOTAL.labels(section=_section)


def record_fallback(reason: str) -> None:
    """Count one recommendation served in statistical mode because of `reason`."""
    if reason not in FALLBACK_REASONS:
        logger.warning("Unknown fallback reason %r counted as %r", reason, OTHER_REASON)
        reason = OTHER_REASON
    FALLBACK_TOTAL.labels(reason=reason).inc()


def record_served(mode: str) -> None:
    """Count one recommendation response produced in `mode` (ml or statistical)."""
    if mode not in SERVING_MODES:
        logger.warning("Unknown serving mode %r counted as %r", mode, "other")
        mode = "other"
    RECOMMENDATIONS_SERVED_TOTAL.labels(mode=mode).inc()


def observe_inference(seconds: float) -> None:
    """Record one inference's duration in the histogram and as the last value."""
    INFERENCE_SECONDS.observe(seconds)
    INFERENCE_LAST_SECONDS.set(seconds)


def record_self_heal(outcome: str) -> None:
    """Count one self-heal attempt that ended in `outcome`."""
    SELF_HEAL_TOTAL.labels(outcome=outcome).inc()


def record_model_download(context: str) -> None:
    """Count one model download from the object store, made in `context`."""
    if context not in MODEL_DOWNLOAD_CONTEXTS:
        context = "other"
    MODEL_DOWNLOADS_TOTAL.labels(context=context).inc()
