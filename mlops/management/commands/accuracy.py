import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from mlops.services.monitoring.monitoring import (
    get_accuracy_trend,
    get_monitor_status,
    monitor_check,
)
from mlops.services.monitoring.replay import replayed_status
from mlops.services.registry.audit import Actor


def _pct(value) -> str:
    return "-" if value is None else f"{value:.2f}%"


def _num(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _interval(bounds, fmt) -> str:
    if not bounds:
        return "-"
    return "[" + ", ".join("-" if b is None else fmt(b) for b in bounds) + "]"


def _p(value) -> str:
    return "-" if value is None else f"{value:.3g}"


def _figure_row(label: str, figure: dict, fmt, sample_size: int) -> tuple:
    """One table row: the figure, its chance baseline, interval, p-value, verdict."""
    return (
        label,
        fmt(figure["value"]),
        fmt(figure["baseline"]),
        _interval(figure["interval"], fmt),
        _p(figure.get("p_value")),  # the Brier score has none: "-"
        figure["verdict"] or "-",
        str(sample_size),
    )


def status_lines(status: dict) -> list[str]:
    """The status as a table: each figure beside its chance baseline."""
    n = status["sample_size"]
    brier, prize = status["brier_score"], status["prize_rate"]
    rows = [
        ("metric", "value", "chance", "95% interval", "p-value", "verdict", "n"),
        # The headline figure sits at the top level of the status.
        _figure_row(
            "accuracy (>= 1 hit)", {**status, "value": status["accuracy"]}, _pct, n
        ),
        _figure_row("mean hits of top-6", status["mean_hits"], _num, n),
        _figure_row("prize rate (tickets)", prize, _pct, prize["sample_size"]),
        _figure_row("Brier score (lower=better)", brier, lambda b: _num(b, 5), n),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    table = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows
    ]
    dist = status["hits_distribution"]
    thresholds = status["thresholds"]
    return [
        f"Model health: {status['status'].upper()}  (good >= {thresholds['good']:g}%,"
        f" critical < {thresholds['critical']:g}%; window: last {status['window']} "
        f"scored draws, at least {status['min_samples']} needed)",
        f"Exact verdict: {status['verdict']} [{status['verdict_code']}] (binomial "
        f"test, alpha {status['alpha']:g} two-sided; p better "
        f"{_p(status['p_value'])}, p worse {_p(status['p_value_worse'])}; no verdict "
        f"below {status['min_verdict_sample']} forecasts)",
        f"Forecasts: {status['scope']}; draws {status['first_draw'] or '-'}-"
        f"{status['last_draw'] or '-'}.",
        "",
        *table,
        "",
        "hits      " + "  ".join(f"{k:>6}" for k in dist["hits"]),
        "observed  " + "  ".join(f"{n:>6}" for n in dist["observed"]),
        "expected  " + "  ".join(f"{e:>6.2f}" for e in dist["expected"]),
        "",
        f"Brier skill score vs the uniform forecast: {_num(brier['skill_score'], 4)}",
        f"Emergency retrain: {status['emergency_retrain_state']} "
        f"(needs CRITICAL and 'worse than chance'; cooldown "
        f"{status['cooldown_days']} days)",
    ]


def replayed_lines(replayed: dict) -> list[str]:
    """The replayed series, labelled: a baseline, never part of the health."""
    if not replayed.get("sample_size"):
        run = replayed.get("latest_run")
        state = "none yet" if run is None else f"run {run['id']} {run['status']}"
        return [f"Replayed series: no replay yet ({state})."]
    return [
        f"Replayed series (walk-forward replay of draws {replayed['first_draw']}-"
        f"{replayed['last_draw']}, made after the fact; not live, never a trigger):",
        f"  accuracy {_pct(replayed['accuracy'])} (chance "
        f"{_pct(replayed['baseline'])}, 95% {_interval(replayed['interval'], _pct)}, "
        f"n {replayed['sample_size']}): {replayed['verdict']} "
        f"[{replayed['verdict_code']}]; would read {replayed['status'].upper()}",
    ]


def trend_lines(trend: list[dict], days: int) -> list[str]:
    if not trend:
        return [f"No scored draw in the last {days} days."]
    lines = [f"Trend, last {days} days (for looking, not for deciding):"]
    lines.append(
        "date        draw   hits  accuracy   n    chance   status / exact verdict"
    )
    for entry in trend:
        lines.append(
            f"{entry['date']}  {entry['draw']:>5}  {entry['hits']:>4}  "
            f"{_pct(entry['accuracy']):>8}  {entry['sample_size']:>3}  "
            f"{_pct(entry['baseline']):>7}  {entry['status']} / "
            f"{entry['verdict_code']}"
        )
    return lines


class Command(BaseCommand):
    help = (
        "Show the model's health: accuracy over the last MONITOR_WINDOW scored "
        "forecasts beside its chance baseline, 95% interval, verdict and sample "
        "size. --check also scores pending forecasts and queues an emergency "
        "retrain when critical (what the job after each draw sync does)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--trend", type=int, metavar="DAYS", help="Also list the last DAYS days."
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON."
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Score pending forecasts; queue an emergency retrain if critical.",
        )

    def handle(self, *args, trend=None, as_json=False, check=False, **options):
        if trend is not None and not 1 <= trend <= 3650:
            raise CommandError(_("--trend must be between 1 and 3650 days."))
        if check:
            status = monitor_check(actor=Actor.cli())
        else:
            status = get_monitor_status()
        entries = get_accuracy_trend(days=trend) if trend is not None else None
        replayed = replayed_status()
        if as_json:
            payload = {"status": status, "replayed": replayed, "trend": entries}
            self.stdout.write(json.dumps(payload, indent=2))
            return
        lines = status_lines(status) + ["", *replayed_lines(replayed)]
        if check:
            lines.append(f"Check: scored {status['scored_now']}; {status['action']}.")
        if entries is not None:
            lines += ["", *trend_lines(entries, trend)]
        self.stdout.write("\n".join(lines))
