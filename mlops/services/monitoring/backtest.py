"""Walk-forward backtest: the honest answer to "does the model work?".

For each of the last N stored draws, in order: fit the forest on the draws before
it (or keep the fit of the latest retrain point when retraining every K draws),
forecast the draw from the history before it, and score the forecast. The same
draws are forecast by statistical mode (`statistical_probabilities` of the same
history), and both are compared with the closed-form random baselines on every
metric of `metrics.evaluate_forecasts`, plus the prize rate of the official
five-game slip each forecast would have been served with.

Nothing here touches the registry or the Prediction table: a backtest records no
official forecast. The report is written as JSON and a PNG chart under
MODEL_ROOT/reports/.
"""

import datetime as dt
import io
import json
import logging
import time
from collections.abc import Callable

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from draws.models import LottoDraw
from mlops.ml import features, metrics, pipeline
from mlops.ml.sampling import OFFICIAL_SLIP_GAMES, sample_games
from mlops.ml.statistical import STATISTICAL_METHOD_VERSION, statistical_probabilities
from mlops.services.registry.storage import REPORTS_DIR, get_storage
from mlops.services.training.training import training_history, training_params

logger = logging.getLogger(__name__)

FORECASTERS = ("model", "statistical")
# Rolling window of the accuracy curve in the chart; the health window's size
# when the backtest is long enough.
CHART_MAX_ROLLING = 52


def _check_arguments(draws: int, retrain_every: int, stored: int) -> None:
    if draws < 1:
        raise ValidationError(
            _("--draws must be at least 1, got %(draws)s.") % {"draws": draws}
        )
    if retrain_every < 1:
        raise ValidationError(
            _("--retrain-every must be at least 1, got %(every)s.")
            % {"every": retrain_every}
        )
    minimum = max(settings.ML_MIN_DRAWS, features.MIN_HISTORY + 1)
    if stored - draws < minimum:
        most = stored - minimum
        advice = (
            _("Replay at most %(most)s draws.") % {"most": most}
            if most > 0
            else _("Store at least %(count)s draws first.") % {"count": minimum + 1}
        )
        raise ValidationError(
            _(
                "%(stored)s draws are stored: replaying the last %(draws)s leaves "
                "%(left)s to train the first model on, and a model needs at least "
                "%(minimum)s (ML_MIN_DRAWS). %(advice)s"
            )
            % {
                "stored": stored,
                "draws": draws,
                "left": max(stored - draws, 0),
                "minimum": minimum,
                "advice": advice,
            }
        )


def _slip_results(forecasts: np.ndarray, actual, bonuses, draw_nos) -> tuple:
    """Prize rate of the official slips (5 games sampled with seed = draw number).

    Returns the figure and, per draw, the slip and the tier of each game.
    """
    slips, wins, tickets = [], 0, 0
    tiers = {str(tier): 0 for tier in range(1, 6)}
    for probabilities, winning, bonus, draw_no in zip(
        forecasts, actual, bonuses, draw_nos, strict=True
    ):
        games = sample_games(probabilities, count=OFFICIAL_SLIP_GAMES, seed=draw_no)
        game_tiers = [metrics.prize_tier(game, winning, bonus) for game in games]
        slips.append({"games": games, "tiers": game_tiers})
        tickets += len(games)
        for tier in game_tiers:
            if tier is not None:
                wins += 1
                tiers[str(tier)] += 1
    figure = {
        **metrics.rate_figure(wins, tickets, metrics.random_prize_probability()),
        "unit": "game",  # 5 games of a slip share a draw: an approximate test
        "tiers": tiers,
    }
    return figure, slips


def _paired_difference(model_values, statistical_values, higher_is_better) -> dict:
    """Mean of model - statistical per draw, with its t interval and a reading."""
    differences = np.asarray(model_values, float) - np.asarray(
        statistical_values, float
    )
    low, high = metrics.mean_interval(differences)
    finite = [float(b) if np.isfinite(b) else None for b in (low, high)]
    if None in finite or low <= 0 <= high:
        reading = gettext_noop("no evidence that either is better")
    else:
        # Stored in English (the report's words); the command translates them.
        reading = (
            gettext_noop("model better")
            if (low > 0) == higher_is_better
            else gettext_noop("statistical mode better")
        )
    return {"mean": float(differences.mean()), "interval": finite, "reading": reading}


def _walk_forward(numbers, first: int, retrain_every: int, params: dict, progress):
    """Model and statistical forecasts for draw indices first..n-1."""
    X = features.build_feature_matrix(numbers)  # row t uses draws[:t] only
    Y = features.build_label_matrix(numbers)
    n = len(numbers)
    model_rows, statistical_rows, fit_seconds, fits = [], [], 0.0, 0
    model = None
    for step, t in enumerate(range(first, n)):
        if step % retrain_every == 0:
            started = time.perf_counter()
            rows = pipeline.recent_rows(
                np.arange(features.MIN_HISTORY, t), params.get("training_window")
            )
            model = pipeline.build_model(**params).fit(X[rows], Y[rows])
            model.n_jobs = 1
            fit_seconds += time.perf_counter() - started
            fits += 1
        model_rows.append(pipeline.predict_probabilities(model, X[t]))
        statistical_rows.append(statistical_probabilities(numbers[:t]))
        if progress is not None:
            progress(step + 1, n - first)
    return np.array(model_rows), np.array(statistical_rows), fits, fit_seconds


def backtest_run(
    *,
    draws: int = 100,
    retrain_every: int = 1,
    seed: int = 0,
    params: dict | None = None,
    write: bool = True,
    progress: Callable[[int, int], None] | None = None,
    include_probabilities: bool = False,
) -> dict:
    """Replay the last `draws` stored draws walk-forward; return (and write) the report.

    Retraining every K draws: the fit made before draw t serves draws t..t+K-1,
    each forecast from the full history before its own draw. Raises
    ValidationError for bad arguments or too short a history. With
    `include_probabilities`, each per-draw row also holds the model's 45
    probabilities (the replayed monitor series needs them for its Brier null).
    """
    started = time.perf_counter()
    draw_nos, numbers, data_hash = training_history()
    _check_arguments(draws, retrain_every, len(draw_nos))
    model_params = training_params({"seed": seed, **(params or {})})
    first = len(draw_nos) - draws
    model_probs, stat_probs, fits, fit_seconds = _walk_forward(
        numbers, first, retrain_every, model_params, progress
    )
    actual = numbers[first:]
    replayed = draw_nos[first:]
    bonuses = dict(
        LottoDraw.objects.filter(draw_no__in=replayed).values_list("draw_no", "bonus")
    )
    bonus_list = [bonuses[draw_no] for draw_no in replayed]

    results = {}
    rows = {}
    for name, forecasts in (("model", model_probs), ("statistical", stat_probs)):
        evaluation = metrics.evaluate_forecasts(forecasts, actual)
        evaluation["slip_prize_rate"], slips = _slip_results(
            forecasts, actual, bonus_list, replayed
        )
        results[name] = evaluation
        tops = [metrics.top_numbers(p) for p in forecasts]
        rows[name] = {
            "slips": slips,
            "top_numbers": tops,
            "hits": [
                metrics.hits(top, won) for top, won in zip(tops, actual, strict=True)
            ],
            "brier": [
                metrics.brier_score(p, won)
                for p, won in zip(forecasts, actual, strict=True)
            ],
        }
    elapsed = time.perf_counter() - started
    report = {
        "kind": "walk-forward backtest",
        "created_at": timezone.localtime().isoformat(),
        "draws": draws,
        "draw_range": [replayed[0], replayed[-1]],
        "history_draws": len(draw_nos),
        "first_training_draws": first,
        "retrain_every": retrain_every,
        "fits": fits,
        "seed": seed,
        "params": model_params,
        "feature_set_version": features.FEATURE_SET_VERSION,
        "statistical_method": STATISTICAL_METHOD_VERSION,
        "training_data_hash": data_hash,
        "slip_games": OFFICIAL_SLIP_GAMES,
        "baseline": {
            "any_hit_rate": metrics.random_any_hit_probability(),
            "mean_hits": metrics.random_mean_hits(),
            "prize_rate": metrics.random_prize_probability(),
            "brier_score": metrics.uniform_brier_score(),
            "brier_skill_score": 0.0,
            "hits_pmf": metrics.hypergeometric_hits_pmf(),
        },
        "results": results,
        "model_minus_statistical": {
            "hits": _paired_difference(
                rows["model"]["hits"], rows["statistical"]["hits"], True
            ),
            "brier": _paired_difference(
                rows["model"]["brier"], rows["statistical"]["brier"], False
            ),
        },
        "per_draw": [
            {
                "draw": draw_no,
                "winning": [int(n) for n in actual[index]],
                "bonus": bonus_list[index],
                **{
                    f"{name}_{field}": rows[name][key][index]
                    for name in FORECASTERS
                    for field, key in (("top6", "top_numbers"), ("hits", "hits"))
                },
                **{f"{name}_brier": rows[name]["brier"][index] for name in FORECASTERS},
                **{f"{name}_slip": rows[name]["slips"][index] for name in FORECASTERS},
            }
            for index, draw_no in enumerate(replayed)
        ],
        "timing": {
            "fit_seconds": fit_seconds,
            "elapsed_seconds": elapsed,
        },
        "files": None,
    }
    if include_probabilities:
        for row, probabilities in zip(report["per_draw"], model_probs, strict=True):
            row["model_probabilities"] = [float(p) for p in probabilities]
    if write:
        report["files"] = backtest_write(report)
    logger.info("Backtest of %d draws (%d fits) took %.1f s", draws, fits, elapsed)
    return report


def backtest_write(report: dict) -> dict:
    """Write the report as JSON and its chart as PNG under MODEL_ROOT/reports/."""
    stamp = dt.datetime.fromisoformat(report["created_at"]).strftime("%Y%m%d-%H%M%S")
    base = f"{REPORTS_DIR}/backtest_{stamp}_{report['draws']}draws"
    files = {"json": f"{base}.json", "png": f"{base}.png"}
    storage = get_storage()
    storage.write_bytes(files["png"], backtest_chart_png(report))
    payload = {**report, "files": files}
    storage.write_bytes(files["json"], json.dumps(payload, indent=2).encode())
    return files


def _rolling_share(hits: list[int], window: int) -> np.ndarray:
    any_hit = (np.asarray(hits) >= 1).astype(float)
    cumulative = np.concatenate([[0.0], np.cumsum(any_hit)])
    ends = np.arange(1, len(any_hit) + 1)
    starts = np.maximum(ends - window, 0)
    return 100 * (cumulative[ends] - cumulative[starts]) / (ends - starts)


def backtest_chart_png(report: dict) -> bytes:
    """Three panels: rolling accuracy, hits distribution, cumulative mean hits."""
    # Imported here, not at the top: matplotlib is heavy (~0.3 s, tens of MB) and
    # only the backtest's chart needs it; every web and Q2 process would pay it.
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    draws = [row["draw"] for row in report["per_draw"]]
    baseline = report["baseline"]
    colours = {"model": "tab:blue", "statistical": "tab:orange"}
    labels = {"model": "model", "statistical": "statistical mode"}
    window = min(CHART_MAX_ROLLING, len(draws))

    figure = Figure(figsize=(11, 12), dpi=100)
    accuracy_axes, hits_axes, mean_axes = figure.subplots(3, 1)

    for name in FORECASTERS:
        hits = [row[f"{name}_hits"] for row in report["per_draw"]]
        evaluation = report["results"][name]["any_hit_rate"]
        accuracy_axes.plot(
            draws,
            _rolling_share(hits, window),
            color=colours[name],
            label=f"{labels[name]}: {100 * evaluation['value']:.1f}% overall "
            f"({evaluation['verdict']})",
        )
    accuracy_axes.axhline(
        100 * baseline["any_hit_rate"],
        color="black",
        linestyle="-",
        label=f"random: {100 * baseline['any_hit_rate']:.2f}%",
    )
    for level, style in (
        (settings.MONITOR_GOOD_THRESHOLD, "--"),
        (settings.MONITOR_CRITICAL_THRESHOLD, ":"),
    ):
        accuracy_axes.axhline(level, color="grey", linestyle=style, linewidth=1)
    accuracy_axes.set_title(
        f"Top-6 contains >= 1 winning number, over the last {window} draws "
        "(fewer at the start)\n"
        f"grey: GOOD {settings.MONITOR_GOOD_THRESHOLD:g}% (dashed), "
        f"CRITICAL {settings.MONITOR_CRITICAL_THRESHOLD:g}% (dotted)"
    )
    accuracy_axes.set_xlabel("draw")
    accuracy_axes.set_ylabel("accuracy (%)")
    accuracy_axes.set_ylim(0, 100)
    accuracy_axes.legend(loc="lower left", fontsize=9)

    ks = np.arange(metrics.PICKS + 1)
    expected = [len(draws) * share for share in baseline["hits_pmf"]]
    width = 0.27
    for offset, name in ((-width, "model"), (0.0, "statistical")):
        observed = report["results"][name]["hits_distribution"]["observed"]
        hits_axes.bar(
            ks + offset, observed, width, color=colours[name], label=labels[name]
        )
    hits_axes.bar(
        ks + width, expected, width, color="lightgrey", label="random (expected)"
    )
    hits_axes.set_xticks(ks)
    hits_axes.set_title(f"Hits of the top-6 over {len(draws)} draws")
    hits_axes.set_xlabel("winning numbers among the top-6")
    hits_axes.set_ylabel("draws")
    hits_axes.legend(fontsize=9)

    for name in FORECASTERS:
        hits = np.array([row[f"{name}_hits"] for row in report["per_draw"]], float)
        mean = report["results"][name]["mean_hits"]
        low, high = (
            "-" if bound is None else f"{bound:.2f}" for bound in mean["interval"]
        )
        mean_axes.plot(
            draws,
            np.cumsum(hits) / np.arange(1, len(hits) + 1),
            color=colours[name],
            label=f"{labels[name]}: {mean['value']:.3f} [{low}, {high}], "
            f"p = {mean['p_value']:.2f}",
        )
    mean_axes.axhline(
        baseline["mean_hits"],
        color="black",
        label=f"random: {baseline['mean_hits']:.1f}",
    )
    mean_axes.set_title("Cumulative mean hits of the top-6")
    mean_axes.set_xlabel("draw")
    mean_axes.set_ylabel("mean hits")
    mean_axes.legend(loc="lower right", fontsize=9)

    figure.suptitle(
        f"Walk-forward backtest: draws {draws[0]}-{draws[-1]} ({len(draws)}), "
        f"retrain every {report['retrain_every']} draw(s), seed {report['seed']}",
        fontsize=13,
    )
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
