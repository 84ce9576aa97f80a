"""The staff operations page: the state at a glance, then the details.

Mounted at /admin/operations/ behind the admin's own login (staff only). Each
section comes from its owner's service; a section whose service fails says
"not available" and the rest of the page still renders.
"""

import datetime as dt
import logging

from django.conf import settings
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from draws.freshness import draw_freshness
from draws.timefmt import format_kst
from mlops.admin.audit_events import audit_details_rows
from mlops.admin.figures import monitor_rows, percent
from mlops.models import AuditEvent, ModelActivation, RetrainRun
from mlops.observability.readiness import readiness_check
from mlops.services.monitoring.fairness import draw_fairness_summary
from mlops.services.monitoring.monitoring import (
    get_accuracy_trend,
    get_monitor_status,
)
from mlops.services.monitoring.replay import replayed_status
from mlops.services.operations.integrity_checks import integrity_last_check
from mlops.services.operations.overview import operations_overview, worst_severity
from mlops.services.registry.registry import model_version_active
from mlops.services.training.scheduling import scheduler_status

logger = logging.getLogger(__name__)

TREND_DAYS_CHOICES = (90, 182, 365, 730)
DEFAULT_TREND_DAYS = 365


def _call(function, **kwargs):
    """(result, problem): the service's answer, or why the section can't show."""
    try:
        return function(**kwargs), ""
    except Exception as exc:
        logger.exception("Operations page: %s failed", function.__name__)
        return None, _("not available (%(error)s)") % {
            "error": f"{type(exc).__name__}: {exc}"
        }


def _nice_ticks(low: float, high: float) -> list[float]:
    """Round y-axis ticks (every 5 or 10 points) between low and high."""
    step = 10.0 if high - low > 30 else 5.0
    first = step * -(-low // step)
    ticks = []
    value = first
    while value <= high + 1e-9:
        ticks.append(value)
        value += step
    return ticks


def trend_svg(points: list[dict], thresholds: dict | None = None) -> str:
    """An inline SVG line chart of the rolling accuracy against its baseline.

    Every number drawn comes from `points` (get_accuracy_trend) and the
    monitor's thresholds; nothing is interpolated or smoothed. The baseline and
    threshold lines are labelled with their exact values (one decimal), the
    x axis with the draw dates.
    """
    if not points:
        return ""
    width, height, left, right, top, bottom = 760, 280, 48, 210, 14, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [float(p["accuracy"]) for p in points]
    baseline = points[-1].get("baseline")
    lines = [(_("random baseline"), baseline, "#666")]
    colours = {"good": "#1a7f37", "critical": "#c62828"}
    for name, value in (thresholds or {}).items():
        label = _("%(level)s threshold") % {"level": name}
        lines.append((label, value, colours.get(name, "#c62828")))
    levels = values + [v for _label, v, _c in lines if v is not None]
    low = max(0.0, min(levels) - 5)
    high = min(100.0, max(levels) + 5)
    span = (high - low) or 1.0

    def x(i: int) -> float:
        return left + (
            plot_w * i / (len(points) - 1) if len(points) > 1 else plot_w / 2
        )

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low) / span)

    title = _("Rolling any-hit accuracy against the random baseline")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="accuracy-trend" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width}px;height:auto" '
        f'font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" '
        'fill="none" stroke="#ccc"/>',
    ]
    for tick in _nice_ticks(low, high):
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}" stroke="#eee"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" '
            f'class="y-tick">{tick:.0f}%</text>'
        )
    label_ys: list[float] = []
    for label, value, colour in sorted(
        (line for line in lines if line[1] is not None), key=lambda line: -line[1]
    ):
        line_y = y(float(value))
        text_y = line_y + 4
        while any(abs(text_y - used) < 13 for used in label_ys):
            text_y += 13  # keep labels of close lines apart
        label_ys.append(text_y)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{line_y:.1f}" '
            f'y2="{line_y:.1f}" stroke="{colour}" stroke-dasharray="5,4"/>'
            f'<text x="{left + plot_w + 6}" y="{text_y:.1f}" fill="{colour}" '
            f'class="line-label">{escape(label)} {escape(percent(value))}</text>'
        )
    coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    parts.append(
        f'<polyline points="{coords}" fill="none" stroke="#2563eb" stroke-width="2"/>'
    )
    for i, point in enumerate(points):
        tip = _("draw %(draw)s (%(date)s): %(value)s over %(n)s forecast(s)") % {
            "draw": point.get("draw"),
            "date": point.get("date"),
            "value": percent(values[i]),
            "n": point.get("sample_size"),
        }
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(values[i]):.1f}" r="3" fill="#2563eb">'
            f"<title>{escape(tip)}</title></circle>"
        )
    # Dates under the axis: the first, the last and a few between, 90 px apart.
    count = len(points)
    marks: list[int] = []
    for i in [0, count - 1, *(round((count - 1) * k / 4) for k in (1, 2, 3))]:
        if 0 <= i < count and all(abs(x(i) - x(m)) >= 90 for m in marks):
            marks.append(i)
    for i in sorted(marks):
        anchor = "start" if i == 0 else ("end" if i == count - 1 else "middle")
        parts.append(
            f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{top + plot_h}" '
            f'y2="{top + plot_h + 4}" stroke="#999"/>'
            f'<text x="{x(i):.1f}" y="{top + plot_h + 17}" text-anchor="{anchor}" '
            f'class="x-date">{escape(points[i].get("date"))}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" '
        f'fill="#666">{escape(_("draw date (KST)"))}</text></svg>'
    )
    # Built from numbers and escaped text only.
    return mark_safe("".join(parts))


def _serving_state() -> dict:
    """What this process serves, in /readyz's words (the two never disagree)."""
    ready, report = readiness_check()
    reason = report.get("model_error")
    if not report.get("model_version"):
        reason = reason or "no_model"
    detail = ""
    if report.get("model_source") == "memory":
        detail = _(
            "served from this process's memory: the file fails its check (%(error)s)"
        ) % {"error": reason}
    return {
        "mode": report.get("model") if ready else "unavailable",
        "reason": reason,
        "model_version": report.get("model_version"),
        "detail": detail,
    }


def _with_datetimes(value):
    """The scheduler's ISO timestamps as datetimes, so the page formats them in KST."""
    if isinstance(value, dict):
        return {key: _with_datetimes(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_datetimes(item) for item in value]
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _trend_days(request) -> int:
    try:
        days = int(request.GET.get("days", DEFAULT_TREND_DAYS))
    except ValueError:
        return DEFAULT_TREND_DAYS
    return days if days in TREND_DAYS_CHOICES else DEFAULT_TREND_DAYS


def operations_dashboard(request):
    """The status panel, then monitor figures, trend, scheduler, audit trail."""
    days = _trend_days(request)
    now = timezone.now()
    # A section shows only what the admin list of its rows would: a staff user
    # refused the audit trail (403) must not read it here either.
    can = {
        "audit": request.user.has_perm("mlops.view_auditevent"),
        "runs": request.user.has_perm("mlops.view_retrainrun"),
        "activations": request.user.has_perm("mlops.view_modelactivation"),
        "retrain": request.user.has_perm("mlops.retrain_model"),
    }
    status, status_problem = _call(get_monitor_status)
    trend, trend_problem = _call(get_accuracy_trend, days=days)
    replayed, replayed_problem = _call(replayed_status)
    fairness, fairness_problem = _call(draw_fairness_summary)
    if can["runs"]:
        scheduler, scheduler_problem = _call(scheduler_status)
    else:
        scheduler = None
        scheduler_problem = _("hidden: needs the permission to view retrain runs")
    freshness = draw_freshness(now)
    active = model_version_active()
    overview = operations_overview(
        serving=_serving_state(),
        active=active,
        freshness=freshness,
        monitor=status,
        monitor_problem=status_problem,
        scheduler=scheduler,
        scheduler_problem=scheduler_problem,
        last_integrity=integrity_last_check() if can["audit"] else None,
        hidden=frozenset(
            ([] if can["runs"] else ["retrain", "cluster"])
            + ([] if can["audit"] else ["integrity"])
        ),
        now=now,
    )
    thresholds = (status or {}).get("thresholds") or {
        "good": settings.MONITOR_GOOD_THRESHOLD,
        "critical": settings.MONITOR_CRITICAL_THRESHOLD,
    }
    context = {
        **admin.site.each_context(request),
        "title": _("Operations"),
        "overview": overview,
        "overall": worst_severity(overview),
        "freshness": freshness,
        "first_missing_at": _first_missing_at(freshness),
        "status": status,
        "status_rows": monitor_rows(status) if status else [],
        "status_problem": status_problem,
        # docs/STATISTICS.md: templates/admin/mlops/includes/honest_statistics.html
        "honest_statistics": {
            "live": status,
            "replayed": replayed,
            "replayed_problem": replayed_problem,
            "fairness": fairness or [],
            "fairness_problem": fairness_problem,
        },
        "trend": trend or [],
        "trend_svg": trend_svg(trend or [], thresholds),
        "trend_problem": trend_problem,
        "days": days,
        "days_choices": TREND_DAYS_CHOICES,
        "scheduler": _with_datetimes(scheduler),
        "scheduler_problem": scheduler_problem,
        "active": active,
        "active_backups": active.backups.filter(deleted_at__isnull=True).count()
        if active
        else 0,
        "can": can,
        "current_activation": ModelActivation.objects.filter(is_current=True)
        .select_related("model_version", "user")
        .first()
        if can["activations"]
        else None,
        "retrain_in_flight": RetrainRun.objects.filter(
            in_flight=RetrainRun.IN_FLIGHT
        ).first()
        if can["runs"]
        else None,
        "recent_events": [
            (event, audit_details_rows(event))
            for event in AuditEvent.objects.all()[:10]
        ]
        if can["audit"]
        else [],
    }
    return TemplateResponse(request, "admin/mlops/operations_dashboard.html", context)


def _first_missing_at(freshness) -> str:
    """When the first draw that is not stored was broadcast (KST), if stale."""
    if freshness.overdue_since is None:
        return ""
    return format_kst(freshness.overdue_since - freshness.grace)


# Included by lotto_site/urls.py at admin/operations/; admin_view = staff login.
urlpatterns = [
    path(
        "",
        admin.site.admin_view(operations_dashboard),
        name="operations_dashboard",
    ),
]
