"""Figures as people read them: a value beside its chance baseline, interval, p, verdict.

Formatting only: every number comes from the service that computed it (the
monitor, the validation at training). Percentages to one decimal, means to
three, p-values to three significant places ("p < 0.001" below that).
"""

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

DASH = "—"


def percent(value) -> str:
    """A figure already in percent: `55.8%`."""
    return DASH if value is None else f"{float(value):.1f}%"


def share(value) -> str:
    """A share in 0..1 as a percent: `0.558` → `55.8%`."""
    return DASH if value is None else f"{100 * float(value):.1f}%"


def decimal(value, places: int = 3) -> str:
    return DASH if value is None else f"{float(value):.{places}f}"


def brier(value) -> str:
    """Five places: a Brier score and its chance level differ in the fourth."""
    return decimal(value, 5)


def interval(bounds, fmt=percent) -> str:
    """`[low, high]` as `42.3%–68.5%`; a missing side is `—`."""
    if not bounds:
        return DASH
    low, high = bounds
    return f"{fmt(low)} – {fmt(high)}"


def p_value(value) -> str:
    if value is None:
        return DASH
    value = float(value)
    if value < 0.001:
        return "p < 0.001"
    return f"p = {value:.3f}"


@dataclass(frozen=True)
class FigureRow:
    """One metric's row: its name and the formatted figures beside it."""

    code: str  # any_hit_rate, mean_hits, ... (machine name)
    label: str
    value: str
    baseline: str
    interval: str
    p_value: str
    verdict: str
    verdict_code: str
    sample_size: str


# (code, label, formatter of value/baseline/interval) for each known metric.
MONITOR_METRICS = (
    ("accuracy", gettext_lazy("Any-hit accuracy (top 6 holds a number drawn)"), None),
    ("mean_hits", gettext_lazy("Mean hits of the top 6"), decimal),
    ("prize_rate", gettext_lazy("Prize rate of the served games (3+ matches)"), None),
    ("brier_score", gettext_lazy("Brier score (lower is better)"), brier),
)
VALIDATION_METRICS = (
    ("any_hit_rate", gettext_lazy("Any-hit rate (top 6 holds a number drawn)"), share),
    ("mean_hits", gettext_lazy("Mean hits of the top 6"), decimal),
    ("prize_rate", gettext_lazy("Prize rate (3+ matches)"), share),
    ("brier_score", gettext_lazy("Brier score (lower is better)"), brier),
)


def _row(code, label, figure: dict, fmt, n) -> FigureRow:
    verdict_code = figure.get("verdict_code") or figure.get("verdict") or ""
    return FigureRow(
        code=code,
        label=str(label),
        value=fmt(figure.get("value")),
        baseline=fmt(figure.get("baseline")),
        interval=interval(figure.get("interval"), fmt),
        p_value=p_value(figure.get("p_value")),
        verdict=verdict_label(verdict_code),
        verdict_code=verdict_code,
        sample_size=DASH if n is None else str(n),
    )


def verdict_label(code: str) -> str:
    """The verdict in words (the code stays beside it in the page)."""
    labels = {
        "no_evidence": _("no evidence of skill"),
        "no evidence of skill": _("no evidence of skill"),
        "better": _("better than chance"),
        "better than chance": _("better than chance"),
        "worse": _("worse than chance"),
        "worse than chance": _("worse than chance"),
        "insufficient_data": _("insufficient data"),
    }
    return labels.get(code, code or DASH)


def monitor_rows(status: dict) -> list[FigureRow]:
    """The monitor's figures (get_monitor_status) as table rows."""
    n = status.get("sample_size")
    accuracy = {
        "value": status.get("accuracy"),
        "baseline": status.get("baseline"),
        "interval": status.get("interval"),
        "p_value": status.get("p_value"),
        "verdict": status.get("verdict"),
        "verdict_code": status.get("verdict_code"),
    }
    figures = {**status, "accuracy": accuracy}
    rows = []
    for code, label, fmt in MONITOR_METRICS:
        figure = figures.get(code)
        if isinstance(figure, dict):
            rows.append(_row(code, label, figure, fmt or percent, n))
    return rows


def validation_rows(metrics: dict | None) -> list[FigureRow]:
    """A version's validation metrics (stored at training) as table rows."""
    metrics = metrics or {}
    n = metrics.get("sample_size")
    return [
        _row(code, label, metrics[code], fmt, n)
        for code, label, fmt in VALIDATION_METRICS
        if isinstance(metrics.get(code), dict)
    ]


def validation_table_html(metrics: dict | None) -> str:
    """The validation figures beside their baselines, as an admin field's table."""
    rows = validation_rows(metrics)
    if not rows:
        return _("No validation metrics were stored.")
    body = format_html_join(
        "",
        '<tr id="validation-{}"><th scope="row">{}</th><td>{}</td><td>{}</td>'
        "<td>{}</td><td>{}</td><td>{} <code>{}</code></td></tr>",
        (
            (
                r.code,
                r.label,
                r.value,
                r.baseline,
                r.interval,
                r.p_value,
                r.verdict,
                r.verdict_code if r.verdict_code != r.verdict else "",
            )
            for r in rows
        ),
    )
    return format_html(
        '<table class="validation-metrics"><thead><tr><th>{}</th><th>{}</th>'
        "<th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
        "<tbody>{}</tbody></table><p>{}</p>",
        _("Figure"),
        _("Value"),
        _("Random baseline"),
        _("Interval (95%)"),
        _("p-value (better than chance)"),
        _("Verdict"),
        body,
        _("Scored on %(n)s held-out draws the model did not train on.")
        % {"n": (metrics or {}).get("sample_size", DASH)},
    )


def seconds(value) -> str:
    """`5.1 s`, or a dash."""
    if value is None:
        return DASH
    return _("%(seconds).1f s") % {"seconds": value}
