"""Feature matrix: shape, names, validation and the no-look-ahead guarantee."""

import time

import numpy as np
import pytest

from mlops.ml import features
from tests.mlops.ml_helpers import synthetic_draws


def replace_draw(draws: np.ndarray, index: int, seed: int) -> np.ndarray:
    """Return a copy whose draw ``index`` has six other numbers."""
    changed = draws.copy()
    rng = np.random.default_rng(seed)
    candidates = np.setdiff1d(np.arange(1, 46), draws[index])
    changed[index] = np.sort(rng.choice(candidates, size=6, replace=False))
    return changed


def change_one_number(draws: np.ndarray, index: int, position: int) -> np.ndarray:
    """Return a copy whose draw ``index`` has one number swapped for an unused one."""
    changed = draws.copy()
    unused = np.setdiff1d(np.arange(1, 46), draws[index])
    changed[index, position] = unused[position % len(unused)]
    return changed


def assert_only_later_rows_change(before: np.ndarray, after: np.ndarray, index: int):
    original = features.build_feature_matrix(before)
    modified = features.build_feature_matrix(after)
    np.testing.assert_array_equal(original[: index + 1], modified[: index + 1])
    # The next row sees the change, so the test would notice a dead feature set.
    assert not np.array_equal(original[index + 1], modified[index + 1])


@pytest.mark.parametrize("index", [0, 1, 9, 49, 50, 51, 600, 1218, 1219])
def test_changing_real_draw_n_never_changes_features_for_draw_n_or_earlier(
    real_draws, index
):
    changed = replace_draw(real_draws, index, seed=index)
    assert_only_later_rows_change(real_draws, changed, index)


@pytest.mark.parametrize("position", range(6))
def test_changing_any_single_number_of_a_draw_only_changes_later_rows(
    real_draws, position
):
    index = 700
    changed = change_one_number(real_draws, index, position)
    assert_only_later_rows_change(real_draws, changed, index)


@pytest.mark.parametrize("seed", range(5))
def test_changing_synthetic_draws_never_changes_features_for_that_draw_or_earlier(
    seed,
):
    draws = synthetic_draws(120, seed)
    for index in np.random.default_rng(seed).choice(120, size=8, replace=False):
        changed = replace_draw(draws, int(index), seed=seed)
        assert_only_later_rows_change(draws, changed, int(index))


def test_appending_a_draw_leaves_every_existing_row_unchanged(real_draws):
    full = features.build_feature_matrix(real_draws)
    without_last = features.build_feature_matrix(real_draws[:-1])
    np.testing.assert_array_equal(full[:-1], without_last)


def test_the_matrix_has_one_float32_row_per_draw_plus_the_forecast_row(real_draws):
    matrix = features.build_feature_matrix(real_draws)
    assert matrix.shape == (len(real_draws) + 1, 145)
    assert matrix.dtype == np.float32
    assert np.isfinite(matrix).all()


def test_there_are_exactly_145_uniquely_named_features():
    assert features.FEATURE_COUNT == 145
    assert len(features.FEATURE_NAMES) == 145
    assert len(set(features.FEATURE_NAMES)) == 145


def test_the_feature_set_version_is_a_dated_label():
    assert features.FEATURE_SET_VERSION.startswith("fs-")


def test_the_first_row_knows_nothing_and_is_all_zero():
    matrix = features.build_feature_matrix(synthetic_draws(5, seed=1))
    assert not matrix[0].any()


def test_an_empty_history_still_gives_a_forecast_row():
    matrix = features.build_feature_matrix(np.zeros((0, 6), dtype=int))
    assert matrix.shape == (1, 145)


def test_feature_values_match_a_hand_count_on_the_real_history(real_draws):
    matrix = features.build_feature_matrix(real_draws)
    column = {name: index for index, name in enumerate(features.FEATURE_NAMES)}
    row = 1000  # forecasting draw index 1000 from draws[:1000]
    history = real_draws[:row]
    for number in (1, 17, 45):
        name = f"n{number:02d}"
        last10 = np.isin(history[-10:], number).any(axis=1).mean()
        last50 = np.isin(history[-50:], number).any(axis=1).mean()
        seen_at = np.flatnonzero(np.isin(history, number).any(axis=1))
        assert matrix[row, column[f"rate_last10_{name}"]] == pytest.approx(last10)
        assert matrix[row, column[f"rate_last50_{name}"]] == pytest.approx(last50)
        assert matrix[row, column[f"draws_since_seen_{name}"]] == row - 1 - seen_at[-1]
    previous = history[-1]
    assert matrix[row, column["prev_draw_sum"]] == previous.sum()
    assert matrix[row, column["prev_draw_range"]] == previous.max() - previous.min()
    assert matrix[row, column["mean_last10_odd_count"]] == pytest.approx(
        (history[-10:] % 2 == 1).sum(axis=1).mean()
    )


def test_whole_draw_statistics_are_counted_as_documented():
    draws = np.array([[1, 2, 3, 22, 23, 45]])
    forecast_row = features.build_feature_matrix(draws)[-1]
    named = dict(zip(features.FEATURE_NAMES, forecast_row, strict=True))
    assert named["prev_draw_sum"] == 96
    assert named["prev_draw_odd_count"] == 4  # 1, 3, 23, 45
    assert named["prev_draw_low_count"] == 4  # 1, 2, 3, 22
    assert named["prev_draw_consecutive_pairs"] == 3  # 1-2, 2-3, 22-23
    assert named["prev_draw_range"] == 44


def test_a_number_never_seen_counts_as_seen_just_before_the_first_draw():
    draws = np.array([[1, 2, 3, 4, 5, 6]] * 3)
    forecast_row = features.build_feature_matrix(draws)[-1]
    named = dict(zip(features.FEATURE_NAMES, forecast_row, strict=True))
    assert named["draws_since_seen_n01"] == 0
    assert named["draws_since_seen_n45"] == 3


def test_the_order_of_numbers_within_a_draw_does_not_matter(real_draws):
    shuffled = np.random.default_rng(0).permuted(real_draws, axis=1)
    np.testing.assert_array_equal(
        features.build_feature_matrix(real_draws),
        features.build_feature_matrix(shuffled),
    )


def test_labels_mark_exactly_the_six_drawn_numbers(real_draws):
    labels = features.build_label_matrix(real_draws)
    assert labels.shape == (len(real_draws), 45)
    assert labels.dtype == np.uint8
    assert (labels.sum(axis=1) == 6).all()
    assert np.flatnonzero(labels[0]).tolist() == [9, 22, 28, 32, 36, 39]  # draw 1


def test_training_rows_drop_the_draws_without_enough_history(real_draws):
    X, Y = features.training_rows(real_draws)
    expected_rows = len(real_draws) - features.MIN_HISTORY
    assert X.shape == (expected_rows, 145)
    assert Y.shape == (expected_rows, 45)
    matrix = features.build_feature_matrix(real_draws)
    np.testing.assert_array_equal(X[0], matrix[features.MIN_HISTORY])
    np.testing.assert_array_equal(
        Y[-1], features.build_label_matrix(real_draws[-1:])[0]
    )


def test_training_rows_need_more_draws_than_min_history():
    with pytest.raises(ValueError, match="need more than"):
        features.training_rows(synthetic_draws(features.MIN_HISTORY, seed=0))


@pytest.mark.parametrize(
    ("draws", "message"),
    [
        ([[1, 2, 3, 4, 5]], "shape"),
        ([1, 2, 3, 4, 5, 6], "shape"),
        ([[0, 2, 3, 4, 5, 6]], "outside 1-45"),
        ([[1, 2, 3, 4, 5, 46]], "outside 1-45"),
        ([[1, 2, 3, 4, 5, 5]], "repeats a number"),
        ([[1.5, 2, 3, 4, 5, 6]], "whole numbers"),
        ([["1", "2", "3", "4", "5", "6"]], "integers"),
    ],
)
def test_invalid_draws_are_rejected_with_a_clear_message(draws, message):
    with pytest.raises(ValueError, match=message):
        features.build_feature_matrix(draws)


def test_the_error_names_the_offending_draw_index():
    draws = synthetic_draws(10, seed=3)
    draws[7, 2] = draws[7, 3]
    with pytest.raises(ValueError, match="draw index 7"):
        features.build_label_matrix(draws)


def test_the_full_history_builds_in_well_under_half_a_second(real_draws):
    durations = []
    for _ in range(5):
        started = time.perf_counter()
        features.build_feature_matrix(real_draws)
        durations.append(time.perf_counter() - started)
    assert min(durations) < 0.5
