"""Turn the draw history into one feature row per draw to forecast (pure numpy).

Row ``i`` of the feature matrix describes what was known just before draw index
``i`` (0-based): it is computed from ``draw_numbers[:i]`` only. Row ``n`` (one past
the last drawn row) is the forecast row for the next, not yet drawn, draw.

Only the six winning numbers are used; the bonus number plays no part in the
first prize and is left out so that the features have one meaning per number.

Feature groups (145 in total, see docs/ML_ENGINE.md):

* ``rate_last10_nKK``: share of the last 10 draws that contained number KK (45)
* ``rate_last50_nKK``: share of the last 50 draws that contained number KK (45)
* ``draws_since_seen_nKK``: draws since KK last appeared, 0 = in the latest (45)
* previous draw's sum, odd count, low count (1-22), consecutive pairs, range (5)
* the same five statistics averaged over the last 10 draws (5)
"""

import numpy as np

FEATURE_SET_VERSION = "fs-2026.11-v1"

POOL_SIZE = 45
NUMBERS_PER_DRAW = 6
SHORT_WINDOW = 10
LONG_WINDOW = 50
DRAW_STATS_WINDOW = 10
# 1-22 is "low" and 23-45 "high", the split Korean lotto statistics sites use.
LOW_NUMBER_MAX = 22

# The long window is the slowest feature to fill; earlier rows would mix rates
# computed over fewer draws into the training set.
MIN_HISTORY = LONG_WINDOW

DRAW_STAT_NAMES = ("sum", "odd_count", "low_count", "consecutive_pairs", "range")


def _feature_names() -> list[str]:
    numbers = [f"n{number:02d}" for number in range(1, POOL_SIZE + 1)]
    names = [f"rate_last{SHORT_WINDOW}_{number}" for number in numbers]
    names += [f"rate_last{LONG_WINDOW}_{number}" for number in numbers]
    names += [f"draws_since_seen_{number}" for number in numbers]
    names += [f"prev_draw_{stat}" for stat in DRAW_STAT_NAMES]
    names += [f"mean_last{DRAW_STATS_WINDOW}_{stat}" for stat in DRAW_STAT_NAMES]
    return names


FEATURE_NAMES = _feature_names()
FEATURE_COUNT = 145
# Guard against a future edit that changes a group without bumping the version.
assert len(FEATURE_NAMES) == FEATURE_COUNT == len(set(FEATURE_NAMES))


def validate_draw_numbers(draw_numbers) -> np.ndarray:
    """Return the draws as an int64 (n_draws, 6) array or raise ValueError."""
    draws = np.asarray(draw_numbers)
    if draws.ndim != 2 or draws.shape[1] != NUMBERS_PER_DRAW:
        raise ValueError(
            f"draw_numbers must have shape (n_draws, {NUMBERS_PER_DRAW}), "
            f"got {draws.shape}"
        )
    if draws.size == 0:
        return draws.astype(np.int64).reshape(0, NUMBERS_PER_DRAW)
    if draws.dtype.kind not in "iuf":
        raise ValueError(f"draw_numbers must be integers, got dtype {draws.dtype}")
    if draws.dtype.kind == "f" and not np.all(np.isfinite(draws) & (draws % 1 == 0)):
        raise ValueError("draw_numbers must be whole numbers")
    draws = draws.astype(np.int64)
    out_of_range = (draws < 1) | (draws > POOL_SIZE)
    if out_of_range.any():
        row = int(np.flatnonzero(out_of_range.any(axis=1))[0])
        raise ValueError(
            f"draw index {row} has a number outside 1-{POOL_SIZE}: {draws[row].tolist()}"
        )
    ordered = np.sort(draws, axis=1)
    repeated = (np.diff(ordered, axis=1) == 0).any(axis=1)
    if repeated.any():
        row = int(np.flatnonzero(repeated)[0])
        raise ValueError(
            f"draw index {row} repeats a number, six distinct are required: "
            f"{draws[row].tolist()}"
        )
    return draws


def _incidence(draws: np.ndarray) -> np.ndarray:
    incidence = np.zeros((len(draws), POOL_SIZE), dtype=np.uint8)
    incidence[np.arange(len(draws))[:, None], draws - 1] = 1
    return incidence


def build_label_matrix(draw_numbers) -> np.ndarray:
    """Return a uint8 (n_draws, 45) matrix, 1 where number k+1 was drawn."""
    return _incidence(validate_draw_numbers(draw_numbers))


def _window_rate(cumulative: np.ndarray, window: int) -> np.ndarray:
    """Share of the last ``window`` draws before each row (fewer at the start)."""
    rows = np.arange(len(cumulative))
    start = np.maximum(rows - window, 0)
    counts = cumulative - cumulative[start]
    drawn_in_window = np.maximum(rows - start, 1)  # row 0 has no draws: rate 0
    return counts / drawn_in_window[:, None]


def _draws_since_seen(incidence: np.ndarray) -> np.ndarray:
    """Draws between each row and each number's latest appearance before it.

    A number never seen so far counts as seen just before the first draw, so
    its value is the number of draws so far: large, finite and still ordered.
    """
    n_draws = len(incidence)
    seen_at = np.where(incidence == 1, np.arange(n_draws)[:, None], -1)
    latest_seen = np.maximum.accumulate(seen_at, axis=0) if n_draws else seen_at
    # Row i looks at draws[:i], so it needs the latest appearance up to i - 1.
    latest_before = np.vstack([np.full((1, POOL_SIZE), -1), latest_seen])
    rows = np.arange(n_draws + 1)[:, None]
    return np.maximum(rows - 1 - latest_before, 0)


def _per_draw_statistics(draws: np.ndarray) -> np.ndarray:
    """Return (n_draws, 5): sum, odd count, low count, consecutive pairs, range."""
    ordered = np.sort(draws, axis=1)
    return np.column_stack(
        [
            ordered.sum(axis=1),
            (ordered % 2 == 1).sum(axis=1),
            (ordered <= LOW_NUMBER_MAX).sum(axis=1),
            (np.diff(ordered, axis=1) == 1).sum(axis=1),
            ordered[:, -1] - ordered[:, 0],
        ]
    ).astype(np.float64)


def _draw_statistic_features(draws: np.ndarray) -> np.ndarray:
    """Previous draw's statistics and their mean over the last few draws."""
    stats = _per_draw_statistics(draws).reshape(len(draws), len(DRAW_STAT_NAMES))
    # Shift by one row so that row i only sees draws[:i]; row 0 sees nothing.
    previous = np.vstack([np.zeros((1, stats.shape[1])), stats])
    cumulative = np.vstack([np.zeros((1, stats.shape[1])), np.cumsum(stats, axis=0)])
    recent_mean = _window_rate(cumulative, DRAW_STATS_WINDOW)
    return np.hstack([previous, recent_mean])


def build_feature_matrix(draw_numbers) -> np.ndarray:
    """Return float32 (n_draws + 1, 145); row i uses only draws[:i].

    The last row (index n_draws) is the forecast row for the next draw.
    """
    draws = validate_draw_numbers(draw_numbers)
    incidence = _incidence(draws).astype(np.int64)
    cumulative = np.vstack(
        [np.zeros((1, POOL_SIZE), dtype=np.int64), np.cumsum(incidence, axis=0)]
    )
    features = np.hstack(
        [
            _window_rate(cumulative, SHORT_WINDOW),
            _window_rate(cumulative, LONG_WINDOW),
            _draws_since_seen(incidence),
            _draw_statistic_features(draws),
        ]
    ).astype(np.float32)
    assert features.shape == (len(draws) + 1, FEATURE_COUNT)
    return features


def training_rows(draw_numbers) -> tuple[np.ndarray, np.ndarray]:
    """Return (X, Y) for draws MIN_HISTORY..n-1: enough history, known outcome."""
    draws = validate_draw_numbers(draw_numbers)
    if len(draws) <= MIN_HISTORY:
        raise ValueError(
            f"need more than {MIN_HISTORY} draws to build training rows, "
            f"got {len(draws)}"
        )
    features = build_feature_matrix(draws)
    return features[MIN_HISTORY : len(draws)], _incidence(draws)[MIN_HISTORY:]
