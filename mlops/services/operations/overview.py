"""The operations page's status panel: each fact an operator checks first, with a severity.

Every item reads a figure some service computed (readiness, freshness, monitor,
scheduler, integrity); this module only decides how alarming it is and says it
in a sentence. Severities, worst first: critical, warning, info, ok.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from draws.freshness import DrawFreshness
from draws.timefmt import format_kst
from mlops.models import ModelVersion

CRITICAL, WARNING, INFO, OK = "critical", "warning", "info", "ok"
SEVERITY_ORDER = (CRITICAL, WARNING, INFO, OK)
# Retraining is weekly: a model older than this missed at least one retrain.
MODEL_AGE_WARNING = dt.timedelta(days=8)
MONITOR_SEVERITY = {
    "good": OK,
    "warning": WARNING,
    "critical": CRITICAL,
    "insufficient_data": INFO,
}


@dataclass(frozen=True)
class StatusItem:
    """One line of the status panel."""

    key: str  # machine code of the item: serving, model, draws, ...
    label: str
    value: str
    severity: str
    code: str = ""  # the machine value shown (mode, status), never translated
    detail: str = ""


def worst_severity(items: list[StatusItem]) -> str:
    """The most alarming severity among `items` (ok when there are none)."""
    present = {item.severity for item in items}
    return next((s for s in SEVERITY_ORDER if s in present), OK)


def serving_item(serving: dict) -> StatusItem:
    """How this process serves: `serving` has mode, reason, model_version, detail."""
    mode, reason = serving.get("mode"), serving.get("reason")
    if mode == "ml":
        severity = WARNING if reason else OK
        value = _("model %(version)s") % {"version": serving.get("model_version")}
    elif mode == "statistical":
        severity = {None: WARNING, "no_model": WARNING, "forced": INFO}.get(
            reason, CRITICAL
        )
        value = _("statistical mode")
    else:
        severity, value = CRITICAL, _("cannot serve")
    code = f"{mode} ({reason})" if reason else str(mode)
    return StatusItem(
        "serving", _("Serving"), value, severity, code, serving.get("detail", "")
    )


def model_item(active: ModelVersion | None, now: dt.datetime) -> StatusItem:
    if active is None:
        return StatusItem(
            "model",
            _("Active model"),
            _("none"),
            WARNING,
            detail=_("Recommendations are served in statistical mode."),
        )
    age = now - active.created_at
    return StatusItem(
        "model",
        _("Active model"),
        _("%(version)s, trained %(age)s ago on draws %(first)d–%(last)d")
        % {
            "version": active.version,
            "age": timesince(active.created_at, now),
            "first": active.draw_from,
            "last": active.draw_to,
        },
        WARNING if age > MODEL_AGE_WARNING else OK,
        detail=_("created %(when)s") % {"when": format_kst(active.created_at)},
    )


def draws_item(freshness: DrawFreshness) -> StatusItem:
    if freshness.status == "empty":
        return StatusItem(
            "draws", _("Draws"), _("none stored"), CRITICAL, freshness.status
        )
    latest = _("newest stored: draw %(no)d (%(date)s)") % {
        "no": freshness.latest_draw_no,
        "date": freshness.latest_draw_date,
    }
    if freshness.stale:
        value = _("stale: %(count)d broadcast draw(s) not stored; %(latest)s") % {
            "count": freshness.missing_draws,
            "latest": latest,
        }
        detail = _("overdue since %(when)s") % {
            "when": format_kst(freshness.overdue_since)
        }
        return StatusItem("draws", _("Draws"), value, WARNING, freshness.status, detail)
    return StatusItem(
        "draws",
        _("Draws"),
        _("up to date; %(latest)s") % {"latest": latest},
        OK,
        freshness.status,
    )


def monitor_item(status: dict | None, problem: str) -> StatusItem:
    if status is None:
        return StatusItem("monitor", _("Monitor"), problem, WARNING)
    code = status.get("status", "")
    if status.get("accuracy") is None:
        value = _("not enough scored forecasts yet (%(n)d of %(min)d)") % {
            "n": status.get("sample_size") or 0,
            "min": status.get("min_samples") or 0,
        }
    else:
        value = _(
            "any-hit accuracy %(accuracy).1f%% vs %(baseline).1f%% by chance, "
            "n = %(n)d: %(verdict)s"
        ) % {
            "accuracy": status["accuracy"],
            "baseline": status["baseline"],
            "n": status["sample_size"],
            "verdict": status.get("verdict") or "—",
        }
    return StatusItem(
        "monitor", _("Monitor"), value, MONITOR_SEVERITY.get(code, WARNING), code
    )


def retrain_item(scheduler: dict | None, problem: str) -> StatusItem:
    if scheduler is None:
        return StatusItem("retrain", _("Next retrain"), problem, WARNING)
    nxt = scheduler.get("next_retrain") or {}
    if nxt.get("error"):
        return StatusItem("retrain", _("Next retrain"), nxt["error"], CRITICAL)
    if not nxt.get("scheduled"):
        return StatusItem(
            "retrain",
            _("Next retrain"),
            _("not scheduled"),
            WARNING,
            detail=nxt.get("hint", ""),
        )
    when = format_kst(dt.datetime.fromisoformat(nxt["kst"]))
    if nxt.get("overdue"):
        return StatusItem(
            "retrain",
            _("Next retrain"),
            _("%(when)s, overdue: is the cluster running?") % {"when": when},
            WARNING,
        )
    return StatusItem("retrain", _("Next retrain"), when, OK, detail=nxt.get("cron"))


def cluster_item(scheduler: dict | None) -> StatusItem:
    cluster = (scheduler or {}).get("cluster") or {}
    if cluster.get("alive"):
        count = len(cluster.get("clusters") or [])
        return StatusItem(
            "cluster",
            _("Task cluster"),
            _("alive (%(count)d cluster(s))") % {"count": count},
            OK,
            "alive",
        )
    return StatusItem(
        "cluster",
        _("Task cluster"),
        _("no heartbeat: scheduled retrains, syncs and checks do not run"),
        CRITICAL,
        "down",
        cluster.get("error", ""),
    )


def integrity_item(last: dict | None, now: dt.datetime) -> StatusItem:
    """`last`: {"at": datetime, "ok": bool, "summary": str, "by": str} or None."""
    label = _("Last integrity check")
    if last is None:
        return StatusItem(
            "integrity",
            label,
            _("never run"),
            WARNING,
            detail=_("python manage.py verify_models"),
        )
    value = _("%(when)s by %(by)s: %(summary)s") % {
        "when": format_kst(last["at"]),
        "by": last["by"],
        "summary": last["summary"],
    }
    if not last["ok"]:
        return StatusItem("integrity", label, value, CRITICAL, "problems")
    if now - last["at"] > dt.timedelta(days=2):
        return StatusItem("integrity", label, value, WARNING, "old")
    return StatusItem("integrity", label, value, OK, "ok")


def operations_overview(
    *,
    serving: dict,
    active: ModelVersion | None,
    freshness: DrawFreshness,
    monitor: dict | None,
    monitor_problem: str = "",
    scheduler: dict | None,
    scheduler_problem: str = "",
    last_integrity: dict | None,
    hidden: frozenset[str] = frozenset(),
    now: dt.datetime | None = None,
) -> list[StatusItem]:
    """The status panel's items, in the order an operator reads them.

    `hidden` names items the reader may not see (the rows behind them need a
    permission they lack): those say so instead of showing a value.
    """
    now = now or timezone.now()
    items = [
        serving_item(serving),
        model_item(active, now),
        draws_item(freshness),
        monitor_item(monitor, monitor_problem),
        retrain_item(scheduler, scheduler_problem),
        cluster_item(scheduler),
        integrity_item(last_integrity, now),
    ]
    return [
        StatusItem(item.key, item.label, _("hidden: needs a permission"), INFO)
        if item.key in hidden
        else item
        for item in items
    ]
