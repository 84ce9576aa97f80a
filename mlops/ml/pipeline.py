"""Fit, validate, serialise and query the number recommender (pure scikit-learn).

The model is one multi-label random forest: 45 outputs, output k answering "is
number k+1 among the six winning numbers of the next draw?". Draws are
independent and uniform, so the honest expectation is a forecast close to 6/45
for every number; ``train_and_validate`` measures how close, against the closed-
form baselines of ``metrics``.
"""

import io
import time

import joblib
import numpy as np
import sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.utils.validation import check_is_fitted

from . import features, metrics

DEFAULT_PARAMS = {
    "n_estimators": 100,
    "max_depth": None,
    # ~1,170 training rows and no signal: a leaf needs many draws before its
    # frequencies mean anything. 50 keeps each tree to ~11 leaves, so the model
    # is ~0.6 MB compressed instead of ~116 MB fully grown (docs/ML_ENGINE.md).
    "min_samples_leaf": 50,
    "min_samples_split": 2,
    "max_features": "sqrt",
    "seed": 0,
    # The whole fit takes under a second on one core; more threads would only
    # compete with the web workers on the same machine.
    "n_jobs": 1,
    # Fit on the most recent rows only, at most this many: training time and model
    # size stay bounded as the history grows (a tree's leaves grow with its rows at
    # a fixed min_samples_leaf). 2,000 rows is 38 years of weekly draws, so the
    # shipped history (1,170 rows) is fitted whole, exactly as before.
    "training_window": 2000,
}
VALIDATION_DRAWS = 200
# zlib level 3 shrinks the float64 leaf values ~3x and loads faster than lzma.
COMPRESSION = ("zlib", 3)


def build_model(
    *,
    n_estimators: int = DEFAULT_PARAMS["n_estimators"],
    max_depth: int | None = DEFAULT_PARAMS["max_depth"],
    min_samples_leaf: int = DEFAULT_PARAMS["min_samples_leaf"],
    min_samples_split: int = DEFAULT_PARAMS["min_samples_split"],
    max_features: str | float | int | None = DEFAULT_PARAMS["max_features"],
    seed: int = DEFAULT_PARAMS["seed"],
    n_jobs: int | None = DEFAULT_PARAMS["n_jobs"],
    training_window: int | None = None,
) -> RandomForestClassifier:
    """Return an unfitted multi-label forest (fit it with Y of shape (n, 45)).

    ``training_window`` is a training-set parameter, not a forest one: it is
    accepted so that one params dict serves both; ``recent_rows`` applies it.
    """
    return RandomForestClassifier(
        n_estimators=n_estimators,
        max_depth=max_depth,
        min_samples_leaf=min_samples_leaf,
        min_samples_split=min_samples_split,
        max_features=max_features,
        random_state=seed,
        n_jobs=n_jobs,
    )


def _drawn_class_columns(model: RandomForestClassifier) -> tuple[np.ndarray, ...]:
    """Per output: the tree-value column of class 1 and whether class 1 exists."""
    classes_per_output = model.classes_
    if len(classes_per_output) != metrics.POOL_SIZE:
        raise ValueError(
            f"model has {len(classes_per_output)} outputs, expected {metrics.POOL_SIZE}"
        )
    column = np.zeros(metrics.POOL_SIZE, dtype=np.intp)
    present = np.zeros(metrics.POOL_SIZE, dtype=bool)
    for output, classes in enumerate(classes_per_output):
        # A number never (or always) drawn in training has a single class.
        matches = np.flatnonzero(np.asarray(classes) == 1)
        if matches.size:
            column[output], present[output] = matches[0], True
    return column, present


def predict_probabilities(model: RandomForestClassifier, feature_rows) -> np.ndarray:
    """Return P(number k+1 is drawn): shape (45,) for one row, (m, 45) for m rows.

    Sums the trees' leaf values directly instead of calling
    ``model.predict_proba``, which re-validates the input for each of the 100
    trees and goes through joblib even with n_jobs=1: ~0.5 ms instead of ~4.5 ms
    for one row. The tests check both give the same numbers.
    """
    rows = np.ascontiguousarray(feature_rows, dtype=np.float32)
    single_row = rows.ndim == 1
    rows = np.atleast_2d(rows)
    if rows.ndim != 2 or rows.shape[1] != features.FEATURE_COUNT:
        raise ValueError(
            f"feature rows must have {features.FEATURE_COUNT} columns, "
            f"got shape {np.shape(feature_rows)}"
        )
    if not np.all(np.isfinite(rows)):
        raise ValueError("feature rows must be finite")
    check_is_fitted(model)
    column, present = _drawn_class_columns(model)
    # Each tree's leaf value holds, per output, the class shares in classes_ order.
    leaf_sum = sum(tree.tree_.predict(rows) for tree in model.estimators_)
    shares = leaf_sum / len(model.estimators_)
    probabilities = shares[:, np.arange(metrics.POOL_SIZE), column] * present
    probabilities = np.clip(probabilities, 0.0, 1.0)
    return probabilities[0] if single_row else probabilities


def forecast_probabilities(model: RandomForestClassifier, draw_numbers) -> np.ndarray:
    """Return the (45,) forecast for the draw after the last one in the history."""
    return predict_probabilities(model, features.build_feature_matrix(draw_numbers)[-1])


def recent_rows(rows: np.ndarray, training_window: int | None) -> np.ndarray:
    """The last ``training_window`` of ``rows`` (row indices in time order)."""
    if training_window is None or len(rows) <= training_window:
        return rows
    if training_window < 1:
        raise ValueError(f"training_window must be at least 1, got {training_window}")
    return rows[-training_window:]


def time_ordered_split(
    n_rows: int, validation_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return (train, validation) row indices: the validation rows are the last ones.

    Never shuffled: a validation row must come after every training row, as
    the next draw comes after the history the served model was trained on.
    """
    if not 0 < validation_size < n_rows:
        raise ValueError(
            f"validation_size must be between 1 and {n_rows - 1}, got {validation_size}"
        )
    split = n_rows - validation_size
    return np.arange(split), np.arange(split, n_rows)


def train_and_validate(
    draw_numbers,
    *,
    params: dict | None = None,
    validation_draws: int = VALIDATION_DRAWS,
) -> tuple[RandomForestClassifier, dict, dict]:
    """Validate on the last draws, then refit on all rows; return the refit model.

    The validation fit only sees rows before the validation draws and forecasts
    each of them from the history before it. The served model is then fitted
    again on every row, including the validation draws, because the next real
    draw follows the latest one: leaving out the most recent 200 draws would
    only make the served model older, and the validation figures describe the
    procedure rather than one particular fit.
    """
    model_params = {**DEFAULT_PARAMS, **(params or {})}
    draws = features.validate_draw_numbers(draw_numbers)
    X, Y = features.training_rows(draws)
    train_rows, validation_rows = time_ordered_split(len(X), validation_draws)

    window = model_params.get("training_window")
    fit_rows = recent_rows(train_rows, window)
    started = time.perf_counter()
    validation_model = build_model(**model_params).fit(X[fit_rows], Y[fit_rows])
    validation_model.n_jobs = 1
    validation_metrics = score_validation(validation_model, X, draws, validation_rows)
    validation_seconds = time.perf_counter() - started

    final_rows = recent_rows(np.arange(len(X)), window)
    started = time.perf_counter()
    model = build_model(**model_params).fit(X[final_rows], Y[final_rows])
    # One row at a time is the serving pattern; threads would only add latency.
    model.n_jobs = 1
    final_fit_seconds = time.perf_counter() - started

    info = fit_info(
        model_params=model_params,
        draws=draws,
        X=X,
        train_rows=train_rows,
        validation_rows=validation_rows,
        validation_seconds=validation_seconds,
        final_fit_seconds=final_fit_seconds,
    )
    return model, validation_metrics, info


def score_validation(
    model: RandomForestClassifier, X, draws: np.ndarray, validation_rows: np.ndarray
) -> dict:
    """Score ``model``'s forecasts for the validation rows against their draws."""
    forecasts = predict_probabilities(model, X[validation_rows])
    actual = draws[features.MIN_HISTORY :][validation_rows]
    return metrics.evaluate_forecasts(forecasts, actual)


def fit_info(
    *,
    model_params: dict,
    draws: np.ndarray,
    X: np.ndarray,
    train_rows: np.ndarray,
    validation_rows: np.ndarray,
    validation_seconds: float,
    final_fit_seconds: float,
    **extra,
) -> dict:
    """The facts of one validated fit, stored with the model (``extra`` after params)."""
    return {
        "feature_set_version": features.FEATURE_SET_VERSION,
        "feature_count": features.FEATURE_COUNT,
        "min_history": features.MIN_HISTORY,
        "params": model_params,
        **extra,
        "draws_total": len(draws),
        "rows_total": len(X),
        "rows_validation_fit": len(train_rows),
        "rows_final_fit": min(len(X), model_params.get("training_window") or len(X)),
        "rows_validation": len(validation_rows),
        # 0-based positions in draw_numbers (draw_no - 1 for a full history).
        "first_training_draw_index": features.MIN_HISTORY,
        "first_validation_draw_index": features.MIN_HISTORY + int(validation_rows[0]),
        "last_draw_index": len(draws) - 1,
        "validation_seconds": validation_seconds,
        "final_fit_seconds": final_fit_seconds,
        "training_seconds": validation_seconds + final_fit_seconds,
        "sklearn_version": sklearn.__version__,
    }


def save_model_bytes(model: RandomForestClassifier) -> bytes:
    """Return the joblib dump of a fitted model, zlib-compressed."""
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=COMPRESSION)
    return buffer.getvalue()


def load_model_bytes(data: bytes) -> RandomForestClassifier:
    """Return the model from ``save_model_bytes`` output (trusted bytes only).

    joblib unpickles, which can run code: the caller must check the sha256 of
    the bytes against the registry before calling this.
    """
    model = joblib.load(io.BytesIO(data))
    if not isinstance(model, RandomForestClassifier):
        raise ValueError(f"expected a RandomForestClassifier, got {type(model)}")
    return model
