"""The staff operations page: monitor, accuracy trend, scheduler, model at a glance.

Mounted at /admin/operations/ behind the admin's own login (staff only). Each
section comes from its owner's service or selector; a section whose service
fails says "not available" and the rest of the page still renders.
"""

import json
import logging

from django.conf import settings
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import escape
from django.utils.safestring import mark_safe

from mlops.admin.audit_events import audit_summary
from mlops.selectors import (
    activation_current,
    audit_event_last,
    audit_events_recent,
    model_version_backup_count,
)
from mlops.services.monitoring import fairness, monitoring, replay
from mlops.services.registry.registry import model_version_active
from mlops.services.training import scheduling
from mlops.services.training.retrain_requests import retrain_in_flight
from mlops.serving_state import serving_state

logger = logging.getLogger(__name__)

TREND_DAYS_CHOICES = (90, 182, 365, 730)
DEFAULT_TREND_DAYS = 365


def _call(function, **kwargs):
    """(result, problem): the service's answer, or why the section can't show."""
    try:
        return function(**kwargs), ""
    except Exception as exc:
        logger.exception("Operations page: %s failed", function.__name__)
        return None, f"not available ({type(exc).__name__}: {exc})"


def _flat(value) -> str:
    """A nested value as readable text: "key: value; key: value"."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {_flat(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_flat(item) for item in value) if value else "none"
    return str(value)


def _rows(mapping) -> list[tuple[str, str]]:
    """Key/value rows for a dict whose shape belongs to another service."""
    if not isinstance(mapping, dict):
        return [("value", json.dumps(mapping, default=str))]
    return [
        (str(key).replace("_", " "), _flat(value)) for key, value in mapping.items()
    ]


def trend_svg(points: list[dict], thresholds: dict | None = None) -> str:
    """An inline SVG line chart of the rolling accuracy against its baseline.

    Every number drawn comes from `points` (get_accuracy_trend) and the
    monitor's thresholds; nothing is interpolated or smoothed.
    """
    if not points:
        return ""
    width, height, left, right, top, bottom = 720, 260, 48, 150, 14, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [float(p["accuracy"]) for p in points]
    baseline = points[-1].get("baseline")
    lines = {"random baseline": baseline}
    for name, value in (thresholds or {}).items():
        lines[f"{name} threshold"] = value
    levels = values + [v for v in lines.values() if v is not None]
    low = max(0.0, min(levels) - 5)
    high = min(100.0, max(levels) + 5)
    span = (high - low) or 1.0

    def x(i: int) -> float:
        return left + (
            plot_w * i / (len(points) - 1) if len(points) > 1 else plot_w / 2
        )

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low) / span)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="accuracy-trend" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="sans-serif" font-size="11">',
        "<title>Rolling any-hit accuracy against the random baseline</title>",
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" '
        'fill="none" stroke="#ccc"/>',
    ]
    for tick in (low, (low + high) / 2, high):
        parts.append(
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
            f"{tick:.0f}%</text>"
        )
    colours = {"random baseline": "#888", "good threshold": "#2a7"}
    for label, value in lines.items():
        if value is None:
            continue
        colour = colours.get(label, "#c33")
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}" stroke="{colour}" stroke-dasharray="5,4"/>'
            f'<text x="{left + plot_w + 6}" y="{y(value) + 4:.1f}" fill="{colour}">'
            f"{escape(label)} {float(value):.1f}%</text>"
        )
    coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    parts.append(
        f'<polyline points="{coords}" fill="none" stroke="#2563eb" stroke-width="2"/>'
    )
    for i, point in enumerate(points):
        tip = (
            f"draw {point.get('draw')} ({point.get('date')}): "
            f"{values[i]:.1f}% over {point.get('sample_size')} forecast(s)"
        )
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(values[i]):.1f}" r="3" fill="#2563eb">'
            f"<title>{escape(tip)}</title></circle>"
        )
    first, last = points[0], points[-1]
    parts.append(
        f'<text x="{left}" y="{height - 8}">draw {escape(first.get("draw"))}</text>'
        f'<text x="{left + plot_w}" y="{height - 8}" text-anchor="end">'
        f"draw {escape(last.get('draw'))}</text></svg>"
    )
    # Built from numbers and escaped text only.
    return mark_safe("".join(parts))


def operations_dashboard(request):
    """Monitor status, accuracy trend, scheduler and registry at a glance."""
    try:
        days = int(request.GET.get("days", DEFAULT_TREND_DAYS))
    except ValueError:
        days = DEFAULT_TREND_DAYS
    days = days if days in TREND_DAYS_CHOICES else DEFAULT_TREND_DAYS
    # Looked up through their modules at call time: a test makes one fail.
    status, status_problem = _call(monitoring.get_monitor_status)
    trend, trend_problem = _call(monitoring.get_accuracy_trend, days=days)
    scheduler, scheduler_problem = _call(scheduling.scheduler_status)
    replayed, replayed_problem = _call(replay.replayed_status)
    fairness_rows, fairness_problem = _call(fairness.draw_fairness_summary)
    active = model_version_active()
    thresholds = (status or {}).get("thresholds") or {
        "good": settings.MONITOR_GOOD_THRESHOLD,
        "critical": settings.MONITOR_CRITICAL_THRESHOLD,
    }
    # A section shows only what the admin list of its rows would: a staff user
    # refused the audit trail (403) must not read it here either.
    can = {
        "audit": request.user.has_perm("mlops.view_auditevent"),
        "runs": request.user.has_perm("mlops.view_retrainrun"),
        "activations": request.user.has_perm("mlops.view_modelactivation"),
    }
    if not can["runs"]:
        scheduler, scheduler_problem = None, ""
    context = {
        **admin.site.each_context(request),
        "can": can,
        "title": "ML operations",
        "status": status,
        "status_rows": _rows(status) if status is not None else [],
        "status_problem": status_problem,
        # docs/STATISTICS.md: templates/admin/mlops/includes/honest_statistics.html
        "honest_statistics": {
            "live": status,
            "replayed": replayed,
            "replayed_problem": replayed_problem,
            "fairness": fairness_rows or [],
            "fairness_problem": fairness_problem,
        },
        "trend": trend or [],
        "trend_svg": trend_svg(trend or [], thresholds),
        "trend_problem": trend_problem,
        "days": days,
        "days_choices": TREND_DAYS_CHOICES,
        "scheduler_rows": _rows(scheduler) if scheduler is not None else [],
        "scheduler_problem": scheduler_problem,
        "active": active,
        "active_backups": model_version_backup_count(version=active),
        "current_activation": activation_current() if can["activations"] else None,
        "retrain_in_flight": retrain_in_flight() if can["runs"] else None,
        "last_verify": audit_event_last(action="verify") if can["audit"] else None,
        "recent_events": [
            (event, audit_summary(event)) for event in audit_events_recent(limit=10)
        ]
        if can["audit"]
        else [],
        # What this web process serves (the serving app's state provider).
        "serving": serving_state(),
    }
    return TemplateResponse(request, "admin/mlops/operations_dashboard.html", context)


# Included by lotto_site/urls.py at admin/operations/; admin_view = staff login.
urlpatterns = [
    path(
        "",
        admin.site.admin_view(operations_dashboard),
        name="operations_dashboard",
    ),
]
