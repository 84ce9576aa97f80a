import json
import time
from unicodedata import east_asian_width

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from mlops.messages import verdict_fields
from mlops.services.monitoring.backtest import backtest_run


def _pct(value) -> str:
    return f"{100 * value:.2f}%"


def _fmt(value, kind: str) -> str:
    if value is None:
        return "-"
    return _pct(value) if kind == "%" else f"{value:.{4 if kind == 'brier' else 3}f}"


def _width(text: str) -> int:
    """Terminal columns of a text: a Hangul syllable takes two."""
    return sum(2 if east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


# (label, key in evaluate_forecasts' output, unit); labels translated when shown
METRICS = (
    (gettext_noop("accuracy (top-6 >= 1 hit)"), "any_hit_rate", "%"),
    (gettext_noop("mean hits of top-6"), "mean_hits", "n"),
    (gettext_noop("top-6 prize rate (>= 3)"), "prize_rate", "%"),
    (gettext_noop("slip prize rate (5 games)"), "slip_prize_rate", "%"),
    (gettext_noop("Brier score (lower=better)"), "brier_score", "brier"),
    (gettext_noop("Brier skill score"), "brier_skill_score", "brier"),
)


def _forecaster_names() -> dict:
    return {"model": _("model"), "statistical": _("statistical")}


def report_lines(report: dict) -> list[str]:
    """Model vs statistical mode vs random, metric by metric, in the reader's words.

    The report itself (the JSON under reports/) keeps its English words and codes;
    only what is printed here is translated.
    """
    names = _forecaster_names()
    header = (
        _("metric"),
        _("forecaster"),
        _("value"),
        _("interval (95%)"),
        _("random"),
        _("p-value"),
    )
    rows = [(*header, _("verdict"))]
    for label, key, unit in METRICS:
        for name in ("model", "statistical"):
            figure = report["results"][name][key]
            low, high = figure["interval"]
            p_value = figure.get("p_value")
            rows.append(
                (
                    _(label) if name == "model" else "",
                    names[name],
                    _fmt(figure["value"], unit),
                    f"[{_fmt(low, unit)}, {_fmt(high, unit)}]",
                    _fmt(figure["baseline"], unit),
                    "-" if p_value is None else f"{p_value:.3g}",
                    verdict_fields(figure)["verdict"],
                )
            )
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    table = [
        "  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in rows
    ]
    labels = {**names, "hits": _("hits"), "random": _("random")}
    label_width = max(12, *(_width(text) for text in labels.values()))
    dist = [
        _pad(labels["hits"], label_width) + " " + "  ".join(f"{k:>6}" for k in range(7))
    ]
    for name in ("model", "statistical"):
        observed = report["results"][name]["hits_distribution"]["observed"]
        dist.append(
            _pad(labels[name], label_width)
            + " "
            + "  ".join(f"{n:>6}" for n in observed)
        )
    expected = report["results"]["model"]["hits_distribution"]["expected"]
    dist.append(
        _pad(labels["random"], label_width)
        + " "
        + "  ".join(f"{e:>6.2f}" for e in expected)
    )
    paired = report["model_minus_statistical"]
    hits_low, hits_high = paired["hits"]["interval"]
    brier_low, brier_high = paired["brier"]["interval"]
    return [
        _(
            "Walk-forward backtest of draws %(first)s-%(last)s (%(draws)s draws; the "
            "first model trained on %(training)s draws; retrained every %(every)s "
            "draw(s): %(fits)s fits; seed %(seed)s; n_estimators %(trees)s)."
        )
        % {
            "first": report["draw_range"][0],
            "last": report["draw_range"][1],
            "draws": report["draws"],
            "training": report["first_training_draws"],
            "every": report["retrain_every"],
            "fits": report["fits"],
            "seed": report["seed"],
            "trees": report["params"]["n_estimators"],
        },
        _("p-values are one-sided (alternative: better than chance)."),
        "",
        *table,
        "",
        *dist,
        "",
        _(
            "model - statistical, hits per draw: %(mean)s [%(low)s, %(high)s]: "
            "%(reading)s."
        )
        % {
            "mean": f"{paired['hits']['mean']:+.3f}",
            "low": _fmt(hits_low, "n"),
            "high": _fmt(hits_high, "n"),
            "reading": _(paired["hits"]["reading"]),
        },
        _(
            "model - statistical, Brier score per draw: %(mean)s [%(low)s, "
            "%(high)s]: %(reading)s."
        )
        % {
            "mean": f"{paired['brier']['mean']:+.5f}",
            "low": _fmt(brier_low, "brier"),
            "high": _fmt(brier_high, "brier"),
            "reading": _(paired["brier"]["reading"]),
        },
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
            _("Report: %(path)s") % {"path": report["files"]["json"]},
            _("Chart:  %(path)s") % {"path": report["files"]["png"]},
            _("Elapsed: %(elapsed).1f s (fitting %(fitting).1f s).")
            % {
                "elapsed": time.perf_counter() - started,
                "fitting": report["timing"]["fit_seconds"],
            },
        ]
        self.stdout.write("\n".join(lines))
