"""Draw histories as plain arrays, for the ML tests that need no database."""

import csv
from pathlib import Path

import numpy as np

PROJECT_CSV = Path(__file__).resolve().parents[2] / "draws/data/lotto645_draws.csv"
SHARED_CSV = Path("/work/shared/data/lotto645_draws.csv")


def read_real_draws() -> np.ndarray:
    """The shipped history's winning numbers, one row a draw."""
    path = PROJECT_CSV if PROJECT_CSV.exists() else SHARED_CSV
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return np.array([[int(row[f"n{k}"]) for k in range(1, 7)] for row in rows])


def synthetic_draws(n_draws: int, seed: int = 0) -> np.ndarray:
    """`n_draws` seeded uniform draws, each row six sorted numbers."""
    rng = np.random.default_rng(seed)
    picks = [rng.choice(45, size=6, replace=False) + 1 for _ in range(n_draws)]
    return np.sort(np.array(picks), axis=1)
