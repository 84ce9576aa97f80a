import json
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from mlops.services.monitoring.backtest import backtest_run


def _pct(value) -> str:
    return f"{100 * value:.2f}%"


def _fmt(value, kind: str) -> str:
    if value is None:
        return "-"
    return _pct(value) if kind == "%" else f"{value:.{4 if kind == 'brier' else 3}f}"


# (label, key in evaluate_forecasts' output, unit)
METRICS = (
    ("accuracy (top-6 >= 1 hit)", "any_hit_rate", "%"),
    ("mean hits of top-6", "mean_hits", "n"),
    ("top-6 prize rate (>= 3)", "prize_rate", "%"),
    ("slip prize rate (5 games)", "slip_prize_rate", "%"),
    ("Brier score (lower=better)", "brier_score", "brier"),
    ("Brier skill score", "brier_skill_score", "brier"),
)


def report_lines(report: dict) -> list[str]:
    """Model vs statistical mode vs random, metric by metric."""
    header = ("metric", "forecaster", "value", "95% interval", "random", "p-value")
    rows = [(*header, "verdict")]
    for label, key, unit in METRICS:
        for name in ("model", "statistical"):
            figure = report["results"][name][key]
            low, high = figure["interval"]
            p_value = figure.get("p_value")
            rows.append(
                (
                    label if name == "model" else "",
                    name,
                    _fmt(figure["value"], unit),
                    f"[{_fmt(low, unit)}, {_fmt(high, unit)}]",
                    _fmt(figure["baseline"], unit),
                    "-" if p_value is None else f"{p_value:.3g}",
                    figure["verdict"],
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    table = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows
    ]
    dist = ["hits         " + "  ".join(f"{k:>6}" for k in range(7))]
    for name in ("model", "statistical"):
        observed = report["results"][name]["hits_distribution"]["observed"]
        dist.append(f"{name:<12} " + "  ".join(f"{n:>6}" for n in observed))
    expected = report["results"]["model"]["hits_distribution"]["expected"]
    dist.append("random       " + "  ".join(f"{e:>6.2f}" for e in expected))
    paired = report["model_minus_statistical"]
    hits_low, hits_high = paired["hits"]["interval"]
    brier_low, brier_high = paired["brier"]["interval"]
    return [
        f"Walk-forward backtest of draws {report['draw_range'][0]}-"
        f"{report['draw_range'][1]} ({report['draws']} draws; the first model "
        f"trained on {report['first_training_draws']} draws; retrained every "
        f"{report['retrain_every']} draw(s): {report['fits']} fits; seed "
        f"{report['seed']}; n_estimators {report['params']['n_estimators']}).",
        "p-values are one-sided (alternative: better than chance).",
        "",
        *table,
        "",
        *dist,
        "",
        f"model - statistical, hits per draw: {paired['hits']['mean']:+.3f} "
        f"[{_fmt(hits_low, 'n')}, {_fmt(hits_high, 'n')}]: "
        f"{paired['hits']['reading']}.",
        f"model - statistical, Brier score per draw: {paired['brier']['mean']:+.5f} "
        f"[{_fmt(brier_low, 'brier')}, {_fmt(brier_high, 'brier')}]: "
        f"{paired['brier']['reading']}.",
    ]


class Command(BaseCommand):
    help = (
        "Replay the last N stored draws walk-forward: for each, train on the draws "
        "before it (a new fit every K draws), forecast, score; compare the model "
        "with statistical mode and the random baseline on every metric, and write "
        "a JSON report and a PNG chart under MODEL_ROOT/reports/."
    )

    def add_arguments(self, parser):
        parser.add_argument("--draws", type=int, default=100, help="N (default 100).")
        parser.add_argument(
            "--retrain-every",
            type=int,
            default=1,
            help="Fit a new model every K draws (default 1: before every draw).",
        )
        parser.add_argument("--seed", type=int, default=0, help="Forest seed.")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print the report."
        )

    def handle(self, *args, draws, retrain_every, seed, as_json, **options):
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if options["verbosity"] > 1 or (not as_json and done % 10 == 0):
                self.stderr.write(
                    _("  %(done)s/%(total)s draws replayed")
                    % {"done": done, "total": total}
                )

        try:
            report = backtest_run(
                draws=draws, retrain_every=retrain_every, seed=seed, progress=progress
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if as_json:
            self.stdout.write(json.dumps(report, indent=2))
            return
        lines = report_lines(report)
        lines += [
            "",
            f"Report: {report['files']['json']}",
            f"Chart:  {report['files']['png']}",
            f"Elapsed: {time.perf_counter() - started:.1f} s "
            f"(fitting {report['timing']['fit_seconds']:.1f} s).",
        ]
        self.stdout.write("\n".join(lines))
