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


def _dist_label(label: str) -> str:
    """A row label of the hits table, padded so the columns line up."""
    return label.ljust(10)


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
        (
            _("metric"),
            _("value"),
            _("chance"),
            _("interval (95%)"),
            _("p-value"),
            _("verdict"),
            "n",
        ),
        # The headline figure sits at the top level of the status.
        _figure_row(
            _("accuracy (>= 1 hit)"), {**status, "value": status["accuracy"]}, _pct, n
        ),
        _figure_row(_("mean hits of top-6"), status["mean_hits"], _num, n),
        _figure_row(_("prize rate (tickets)"), prize, _pct, prize["sample_size"]),
        _figure_row(_("Brier score (lower=better)"), brier, lambda b: _num(b, 5), n),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    table = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows
    ]
    dist = status["hits_distribution"]
    thresholds = status["thresholds"]
    return [
        _(
            "Model health: %(status)s  (good >= %(good)g%%, critical < "
            "%(critical)g%%; window: last %(window)s scored draws, at least "
            "%(min_samples)s needed)"
        )
        % {
            "status": status["status"].upper(),
            "good": thresholds["good"],
            "critical": thresholds["critical"],
            "window": status["window"],
            "min_samples": status["min_samples"],
        },
        _(
            "Exact verdict: %(verdict)s [%(code)s] (binomial test, alpha %(alpha)g "
            "two-sided; p better %(p_better)s, p worse %(p_worse)s; no verdict "
            "below %(min_sample)s forecasts)"
        )
        % {
            "verdict": status["verdict"],
            "code": status["verdict_code"],
            "alpha": status["alpha"],
            "p_better": _p(status["p_value"]),
            "p_worse": _p(status["p_value_worse"]),
            "min_sample": status["min_verdict_sample"],
        },
        _("Forecasts: %(scope)s; draws %(first)s-%(last)s.")
        % {
            "scope": _(status["scope"]),
            "first": status["first_draw"] or "-",
            "last": status["last_draw"] or "-",
        },
        "",
        *table,
        "",
        _dist_label(_("hits")) + "  ".join(f"{k:>6}" for k in dist["hits"]),
        _dist_label(_("observed")) + "  ".join(f"{n:>6}" for n in dist["observed"]),
        _dist_label(_("expected")) + "  ".join(f"{e:>6.2f}" for e in dist["expected"]),
        "",
        _("Brier skill score vs the uniform forecast: %(score)s")
        % {"score": _num(brier["skill_score"], 4)},
        _(
            "Emergency retrain: %(state)s (needs CRITICAL and 'worse than chance'; "
            "cooldown %(days)s days)"
        )
        % {"state": status["emergency_retrain_state"], "days": status["cooldown_days"]},
    ]


def replayed_lines(replayed: dict) -> list[str]:
    """The replayed series, labelled: a baseline, never part of the health."""
    if not replayed.get("sample_size"):
        run = replayed.get("latest_run")
        if run is None:
            state = _("none yet")
        else:
            state = _("run %(id)s %(status)s") % {
                "id": run["id"],
                "status": run["status"],
            }
        return [_("Replayed series: no replay yet (%(state)s).") % {"state": state}]
    return [
        _(
            "Replayed series (walk-forward replay of draws %(first)s-%(last)s, made "
            "after the fact; not live, never a trigger):"
        )
        % {"first": replayed["first_draw"], "last": replayed["last_draw"]},
        _(
            "  accuracy %(accuracy)s (chance %(baseline)s, 95%% %(interval)s, "
            "n %(n)s): %(verdict)s [%(code)s]; would read %(status)s"
        )
        % {
            "accuracy": _pct(replayed["accuracy"]),
            "baseline": _pct(replayed["baseline"]),
            "interval": _interval(replayed["interval"], _pct),
            "n": replayed["sample_size"],
            "verdict": replayed["verdict"],
            "code": replayed["verdict_code"],
            "status": replayed["status"].upper(),
        },
    ]


def trend_lines(trend: list[dict], days: int) -> list[str]:
    if not trend:
        return [_("No scored draw in the last %(days)s days.") % {"days": days}]
    lines = [
        _("Trend, last %(days)s days (for looking, not for deciding):") % {"days": days}
    ]
    # The header's columns line up with the rows below; only the words change.
    lines.append(
        "  ".join(
            (
                _("date").ljust(10),
                _("draw").rjust(5),
                _("hits").rjust(4),
                _("accuracy").rjust(8),
                "n".rjust(3),
                _("chance").rjust(7),
                _("status / exact verdict"),
            )
        )
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
            lines.append(
                _("Check: scored %(scored)s; %(action)s.")
                % {"scored": status["scored_now"], "action": status["action"]}
            )
        if entries is not None:
            lines += ["", *trend_lines(entries, trend)]
        self.stdout.write("\n".join(lines))
