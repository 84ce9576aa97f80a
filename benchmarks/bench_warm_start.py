"""Warm start (grow the served forest) against a full refit, on the shipped history.

Usage, from the project root:
    .venv/bin/python benchmarks/bench_warm_start.py [--seeds 5] [--new 1 4 13 52]

For k new draws: the "champion" is the forest fitted on all draws but the last
k (as the registry would hold it); then both retrain procedures run on the full
history, each exactly as the retrain service runs it:

* full refit -- pipeline.train_and_validate: fit on the rows before the last 200
  draws, score those 200, refit every row;
* warm start -- incremental.grow_and_validate: replay the growth (fit on the rows
  before the window minus k, add trees for k rows) and score the same 200 draws,
  then grow the champion itself with trees fitted on every row.

Prints the time of each (total, and the final fit/grow alone) and the held-out
metrics of both, averaged over --seeds seeds. No pass/fail: the figures decide
whether warm start stays an option (docs/ML_ENGINE.md).
"""

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from mlops.ml import incremental, metrics, pipeline  # noqa: E402

SHIPPED_CSV = PROJECT_ROOT / "draws/data/lotto645_draws.csv"
METRICS = ("any_hit_rate", "mean_hits", "brier_skill_score")


def read_draws(path: Path) -> np.ndarray:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return np.array([[int(row[f"n{k}"]) for k in range(1, 7)] for row in rows])


def measure(draws: np.ndarray, new: int, seed: int) -> dict:
    params = {**pipeline.DEFAULT_PARAMS, "seed": seed}
    champion, _, _ = pipeline.train_and_validate(draws[:-new], params=params)

    started = time.perf_counter()
    _full, full_metrics, full_info = pipeline.train_and_validate(draws, params=params)
    full_seconds = time.perf_counter() - started

    started = time.perf_counter()
    grown, warm_metrics, warm_info = incremental.grow_and_validate(
        champion, draws, base_draw_count=len(draws) - new, params=params
    )
    warm_seconds = time.perf_counter() - started
    return {
        "full_total": full_seconds,
        "full_final": full_info["final_fit_seconds"],
        "warm_total": warm_seconds,
        "warm_final": warm_info["final_fit_seconds"],
        "added": warm_info["warm_start"]["added_trees"],
        "trees": len(grown.estimators_),
        **{f"full_{m}": full_metrics[m]["value"] for m in METRICS},
        **{f"warm_{m}": warm_metrics[m]["value"] for m in METRICS},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=SHIPPED_CSV)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--new", type=int, nargs="+", default=[1, 4, 13, 52])
    args = parser.parse_args()
    draws = read_draws(args.csv)
    print(
        f"draws: {len(draws)}, base forest {pipeline.DEFAULT_PARAMS['n_estimators']} "
        f"trees, seeds: {args.seeds}; chance: any-hit "
        f"{metrics.random_any_hit_probability():.4f}, mean hits "
        f"{metrics.random_mean_hits():.3f}, Brier skill 0"
    )
    header = (
        f"{'new':>4} {'trees':>9} {'full s':>7} {'warm s':>7} {'saved':>6} "
        f"{'refit s':>8} {'grow s':>7} | {'any-hit full/warm':>17} "
        f"{'mean hits full/warm':>19} {'Brier skill full/warm':>23}"
    )
    print(header)
    for new in args.new:
        rows = [measure(draws, new, seed) for seed in range(args.seeds)]

        def med(key, rows=rows):
            return statistics.median(row[key] for row in rows)

        def mean(key, rows=rows):
            return statistics.fmean(row[key] for row in rows)

        saved = 1 - med("warm_total") / med("full_total")
        print(
            f"{new:>4} {rows[0]['trees']:>4} (+{rows[0]['added']:>2}) "
            f"{med('full_total'):>7.2f} {med('warm_total'):>7.2f} {saved:>6.0%} "
            f"{med('full_final'):>8.2f} {med('warm_final'):>7.2f} | "
            f"{mean('full_any_hit_rate'):>8.4f}/{mean('warm_any_hit_rate'):.4f} "
            f"{mean('full_mean_hits'):>10.3f}/{mean('warm_mean_hits'):.3f} "
            f"{mean('full_brier_skill_score'):>+12.5f}/{mean('warm_brier_skill_score'):+.5f}"
        )
    chance = metrics.random_any_hit_probability()
    low, high = metrics.wilson_interval(round(chance * 200), 200)
    print(
        "times: medians over seeds; metrics: means over seeds, each on the last 200 "
        f"draws (95% Wilson half-width of an any-hit rate near chance there: "
        f"{(high - low) / 2:.3f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
