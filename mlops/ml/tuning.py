"""Hyper-parameter search for the forest (pure scikit-learn, no Django).

``GridSearchCV`` over a bounded grid, with ``TimeSeriesSplit``: every fold
trains on draws that came before the draws it is scored on, as in production.
A shuffled K-fold would let a fold learn from draws after the ones it forecasts.

The refit score is the monitored metric: the share of forecasts whose top-6
holds at least one winning number (chance: 1 - C(39,6)/C(45,6) ~ 0.599). Mean
hits and the Brier skill score are scored beside it for the record. Draws are
independent and uniform, so the differences between candidates are noise; the
search is honest about that (every candidate's mean and spread are kept), and
the chosen parameters still go through the promotion gate on held-out draws.
"""

import time

import numpy as np
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from . import features, metrics, pipeline

# Bounded: 3 x 2 x 2 x 3 = 36 candidates x 3 folds = 108 fits plus one refit.
# min_samples_split only binds when it exceeds 2 x min_samples_leaf, hence 120.
DEFAULT_GRID = {
    "n_estimators": [50, 100, 200],
    "max_depth": [None, 8],
    "min_samples_split": [2, 120],
    "min_samples_leaf": [20, 50, 100],
}
DEFAULT_SPLITS = 3
REFIT_METRIC = "any_hit_rate"
# Parameters the grid may search; anything else would not be a forest setting.
TUNABLE = frozenset(
    {"n_estimators", "max_depth", "min_samples_split", "min_samples_leaf"}
)


def _hits_per_row(model, X, Y) -> np.ndarray:
    probabilities = pipeline.predict_probabilities(model, X)
    # Top-6 by probability, ties to the lower number, as metrics.top_numbers.
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, : metrics.PICKS]
    return np.take_along_axis(np.asarray(Y), order, axis=1).sum(axis=1)


def any_hit_rate_score(model, X, Y) -> float:
    """Share of rows whose top-6 contains at least one drawn number."""
    return float(np.mean(_hits_per_row(model, X, Y) >= 1))


def mean_hits_score(model, X, Y) -> float:
    """Mean number of drawn numbers among each row's top-6."""
    return float(np.mean(_hits_per_row(model, X, Y)))


def brier_skill(model, X, Y) -> float:
    """Brier skill score against the uniform 6/45 forecast (higher is better)."""
    probabilities = pipeline.predict_probabilities(model, X)
    brier = float(np.mean((probabilities - np.asarray(Y)) ** 2))
    return metrics.brier_skill_score(brier, metrics.uniform_brier_score())


SCORERS = {
    "any_hit_rate": any_hit_rate_score,
    "mean_hits": mean_hits_score,
    "brier_skill_score": brier_skill,
}


def validate_grid(grid: dict) -> dict:
    """Return the grid as {name: list}; ValueError for an unknown or empty entry."""
    unknown = set(grid) - TUNABLE
    if unknown:
        raise ValueError(f"cannot tune {sorted(unknown)}; tunable: {sorted(TUNABLE)}")
    cleaned = {name: list(values) for name, values in grid.items()}
    if not cleaned or any(not values for values in cleaned.values()):
        raise ValueError("every grid entry needs at least one value")
    return cleaned


def tune_hyperparameters(
    draw_numbers,
    *,
    base_params: dict | None = None,
    grid: dict | None = None,
    n_splits: int = DEFAULT_SPLITS,
    holdout_draws: int = pipeline.VALIDATION_DRAWS,
    n_jobs: int = 1,
) -> dict:
    """Search the grid on the draws before the last ``holdout_draws``.

    The last ``holdout_draws`` are left out so that the validation the trainer
    runs on them afterwards stays out of sample for the chosen parameters.
    Returns plain JSON: best parameters (base parameters included), the best
    CV score, every candidate's scores, the folds and the time taken.
    """
    grid = validate_grid(grid or DEFAULT_GRID)
    params = {**pipeline.DEFAULT_PARAMS, **(base_params or {})}
    X, Y = features.training_rows(draw_numbers)
    if holdout_draws:
        X, Y = X[:-holdout_draws], Y[:-holdout_draws]
    if len(X) < 2 * (n_splits + 1):
        raise ValueError(f"{len(X)} rows are too few for {n_splits} time-ordered folds")
    # Threads inside each fit would fight the search's own workers for 2 cores.
    estimator = pipeline.build_model(**{**params, "n_jobs": 1})
    search = GridSearchCV(
        estimator,
        param_grid=grid,
        scoring=SCORERS,
        refit=REFIT_METRIC,
        cv=TimeSeriesSplit(n_splits=n_splits),
        n_jobs=n_jobs,
        error_score="raise",
    )
    started = time.perf_counter()
    # Threads, not processes: tree fitting releases the GIL, and a Django-Q2
    # worker is a daemonic process, where joblib's process pool falls back to
    # one job.
    with parallel_config(backend="threading"):
        search.fit(X, Y)
    seconds = time.perf_counter() - started
    return {
        "best_params": {**params, **_plain(search.best_params_)},
        "best_score": float(search.best_score_),
        "scoring": REFIT_METRIC,
        "chance_any_hit_rate": metrics.random_any_hit_probability(),
        "grid": grid,
        "n_splits": n_splits,
        "rows": len(X),
        "holdout_draws": holdout_draws,
        "candidates": _candidates(search.cv_results_),
        "seconds": seconds,
    }


def _plain(values: dict) -> dict:
    return {
        key: (value.item() if hasattr(value, "item") else value)
        for key, value in values.items()
    }


def _candidates(results: dict) -> list[dict]:
    rows = []
    for index, candidate in enumerate(results["params"]):
        row = {
            "params": _plain(candidate),
            "rank": int(results[f"rank_test_{REFIT_METRIC}"][index]),
        }
        for name in SCORERS:
            row[name] = {
                "mean": float(results[f"mean_test_{name}"][index]),
                "std": float(results[f"std_test_{name}"][index]),
            }
        rows.append(row)
    return sorted(rows, key=lambda row: row["rank"])
