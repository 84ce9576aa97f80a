"""Time `retrain --tune`'s grid search on the full shipped history (no Django).

Usage, from the project root:
    .venv/bin/python benchmarks/bench_tuning.py [--n-jobs 2] [--splits 3]

Runs mlops.ml.tuning.tune_hyperparameters with the default grid, TimeSeriesSplit
and the any-hit-rate scorer -- exactly what the retrain service runs -- and then
the validation fit + refit of the chosen parameters (the rest of a tuned
retrain). Target: the whole tuned retrain under 10 minutes on a 2-core machine.
Prints the time, the best parameters and the top candidates' CV scores next
to the chance level, so nobody mistakes noise for skill.
"""

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from mlops.ml import metrics, pipeline, tuning  # noqa: E402

SHIPPED_CSV = PROJECT_ROOT / "draws/data/lotto645_draws.csv"
TARGET_SECONDS = 600


def read_draws(path: Path) -> np.ndarray:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return np.array([[int(row[f"n{k}"]) for k in range(1, 7)] for row in rows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=SHIPPED_CSV)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--splits", type=int, default=tuning.DEFAULT_SPLITS)
    args = parser.parse_args()

    draws = read_draws(args.csv)
    grid = tuning.DEFAULT_GRID
    candidates = int(np.prod([len(values) for values in grid.values()]))
    print(f"draws: {len(draws)}, cores: {os.cpu_count()}, n_jobs: {args.n_jobs}")
    print(f"grid: {grid}")
    print(
        f"{candidates} candidates x {args.splits} folds = {candidates * args.splits} fits"
    )

    started = time.perf_counter()
    result = tuning.tune_hyperparameters(
        draws, n_splits=args.splits, n_jobs=args.n_jobs
    )
    search_seconds = time.perf_counter() - started
    started = time.perf_counter()
    _model, validation, _info = pipeline.train_and_validate(
        draws, params=result["best_params"]
    )
    train_seconds = time.perf_counter() - started
    total = search_seconds + train_seconds

    chance = metrics.random_any_hit_probability()
    print(
        f"\ngrid search: {search_seconds:.1f} s; validation fit + refit: {train_seconds:.1f} s"
    )
    verdict = "OK" if total < TARGET_SECONDS else "TOO SLOW"
    print(
        f"tuned retrain total: {total:.1f} s (target < {TARGET_SECONDS} s): {verdict}"
    )
    print(f"best params: {result['best_params']}")
    print(f"chance any-hit rate: {chance:.4f}")
    print("top candidates (CV any-hit rate mean +- std, mean hits, Brier skill):")
    for row in result["candidates"][:5]:
        hit, mean_hits, skill = (row[k] for k in tuning.SCORERS)
        print(
            f"  #{row['rank']:>2} {row['params']}: {hit['mean']:.4f} +- {hit['std']:.4f}, "
            f"{mean_hits['mean']:.3f}, {skill['mean']:+.5f}"
        )
    held_out = validation["any_hit_rate"]
    print(
        f"held-out (last {validation['sample_size']} draws) any-hit rate of the "
        f"chosen parameters: {held_out['value']:.4f}, 95% interval "
        f"[{held_out['interval'][0]:.4f}, {held_out['interval'][1]:.4f}], "
        f"verdict: {held_out['verdict']}"
    )
    return 0 if total < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
