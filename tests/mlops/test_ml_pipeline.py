"""Forest pipeline: probabilities, validation split, reproducibility, bytes."""

import io
import json

import joblib
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from mlops.ml import features, metrics, pipeline
from tests.mlops.ml_helpers import synthetic_draws

FAST_PARAMS = {"n_estimators": 8, "min_samples_leaf": 5}


@pytest.fixture(scope="module")
def trained(real_draws):
    return pipeline.train_and_validate(
        real_draws, params=FAST_PARAMS, validation_draws=100
    )


def test_one_feature_row_gives_45_probabilities_between_0_and_1(trained, real_draws):
    model, _, _ = trained
    forecast_row = features.build_feature_matrix(real_draws)[-1]
    probabilities = pipeline.predict_probabilities(model, forecast_row)
    assert probabilities.shape == (45,)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    # Every training row has six ones, so the forest's shares sum to six.
    assert probabilities.sum() == pytest.approx(6)


def test_several_rows_give_one_probability_row_each(trained, real_draws):
    model, _, _ = trained
    rows = features.build_feature_matrix(real_draws)[-5:]
    assert pipeline.predict_probabilities(model, rows).shape == (5, 45)


def test_the_fast_path_equals_sklearns_predict_proba(trained, real_draws):
    model, _, _ = trained
    rows = features.build_feature_matrix(real_draws)[::50]
    expected = np.column_stack([proba[:, 1] for proba in model.predict_proba(rows)])
    np.testing.assert_allclose(
        pipeline.predict_probabilities(model, rows), expected, atol=1e-12
    )


def test_forecast_probabilities_uses_the_row_after_the_last_draw(trained, real_draws):
    model, _, _ = trained
    forecast_row = features.build_feature_matrix(real_draws)[-1]
    np.testing.assert_array_equal(
        pipeline.forecast_probabilities(model, real_draws),
        pipeline.predict_probabilities(model, forecast_row),
    )


def test_a_number_never_drawn_in_training_gets_probability_zero():
    draws = synthetic_draws(features.MIN_HISTORY + 30, seed=7)
    X, Y = features.training_rows(draws)
    Y = Y.copy()
    Y[:, 0] = 0  # number 1 never drawn
    Y[:, 44] = 1  # number 45 always drawn
    model = pipeline.build_model(n_estimators=5, min_samples_leaf=3).fit(X, Y)
    assert model.classes_[0].tolist() == [0]
    assert model.classes_[44].tolist() == [1]
    probabilities = pipeline.predict_probabilities(model, X[-1])
    assert probabilities[0] == 0
    assert probabilities[44] == 1
    assert np.isfinite(probabilities).all()


def test_every_column_single_class_still_predicts():
    draws = synthetic_draws(features.MIN_HISTORY + 10, seed=8)
    X, _ = features.training_rows(draws)
    Y = np.zeros((len(X), 45), dtype=np.uint8)
    model = pipeline.build_model(n_estimators=3).fit(X, Y)
    assert not pipeline.predict_probabilities(model, X[:2]).any()


def test_predicting_with_the_wrong_number_of_features_is_rejected(trained):
    model, _, _ = trained
    with pytest.raises(ValueError, match="145 columns"):
        pipeline.predict_probabilities(model, np.zeros(144))


def test_predicting_with_an_unfitted_model_is_rejected():
    with pytest.raises(NotFittedError):
        pipeline.predict_probabilities(pipeline.build_model(), np.zeros(145))


def test_the_same_seed_gives_the_same_model_and_validation():
    draws = synthetic_draws(160, seed=9)
    first = pipeline.train_and_validate(draws, params=FAST_PARAMS, validation_draws=30)
    second = pipeline.train_and_validate(draws, params=FAST_PARAMS, validation_draws=30)
    row = features.build_feature_matrix(draws)[-1]
    np.testing.assert_array_equal(
        pipeline.predict_probabilities(first[0], row),
        pipeline.predict_probabilities(second[0], row),
    )
    assert first[1] == second[1]


def test_a_different_seed_gives_a_different_model():
    draws = synthetic_draws(160, seed=10)
    X, Y = features.training_rows(draws)
    one = pipeline.build_model(n_estimators=5, seed=1).fit(X, Y)
    two = pipeline.build_model(n_estimators=5, seed=2).fit(X, Y)
    assert not np.array_equal(
        pipeline.predict_probabilities(one, X[-1]),
        pipeline.predict_probabilities(two, X[-1]),
    )


def test_the_split_keeps_time_order_and_puts_validation_last():
    train, validation = pipeline.time_ordered_split(10, 3)
    assert train.tolist() == list(range(7))
    assert validation.tolist() == [7, 8, 9]


@pytest.mark.parametrize("validation_size", [0, 10, 11, -1])
def test_the_split_needs_rows_on_both_sides(validation_size):
    with pytest.raises(ValueError, match="validation_size"):
        pipeline.time_ordered_split(10, validation_size)


def test_validation_scores_the_last_draws_against_chance(trained, real_draws):
    _, validation, info = trained
    assert validation["sample_size"] == 100
    assert validation["mean_hits"]["baseline"] == metrics.random_mean_hits()
    assert validation["brier_score"]["baseline"] == metrics.uniform_brier_score()
    assert info["first_validation_draw_index"] == len(real_draws) - 100
    assert info["rows_validation_fit"] + info["rows_validation"] == info["rows_total"]


def test_validation_forecasts_come_from_a_model_that_never_saw_those_draws(
    real_draws,
):
    """Scrambling the validation draws must not change the validation model."""
    params = {**FAST_PARAMS, "n_estimators": 3}
    _, validation, _ = pipeline.train_and_validate(
        real_draws[:400], params=params, validation_draws=50
    )
    changed = real_draws[:400].copy()
    changed[-1] = [1, 2, 3, 4, 5, 6] if changed[-1, 0] != 1 else [7, 8, 9, 10, 11, 12]
    _, changed_validation, _ = pipeline.train_and_validate(
        changed, params=params, validation_draws=50
    )
    # Only the last draw's own outcome moved: 49 of the 50 rows score the same.
    observed = np.array(validation["hits_distribution"]["observed"])
    changed_observed = np.array(changed_validation["hits_distribution"]["observed"])
    assert np.abs(observed - changed_observed).sum() <= 2


def test_validation_metrics_and_info_are_strict_json(trained):
    _, validation, info = trained
    # allow_nan=False raises on NaN/Infinity, which PostgreSQL's jsonb refuses.
    assert json.loads(json.dumps(validation, allow_nan=False)) == validation
    assert json.loads(json.dumps(info, allow_nan=False)) == info


def test_the_served_model_is_refit_on_every_row(trained, real_draws):
    model, _, info = trained
    assert info["rows_total"] == len(real_draws) - features.MIN_HISTORY
    assert model.n_features_in_ == 145
    assert model.n_jobs == 1  # serving predicts one row at a time
    assert info["feature_set_version"] == features.FEATURE_SET_VERSION
    assert info["params"]["n_estimators"] == FAST_PARAMS["n_estimators"]


def test_too_short_a_history_for_validation_is_rejected():
    draws = synthetic_draws(features.MIN_HISTORY + 20, seed=11)
    with pytest.raises(ValueError, match="validation_size"):
        pipeline.train_and_validate(draws, params=FAST_PARAMS, validation_draws=20)


def test_model_bytes_round_trip_to_the_same_forecast(trained, real_draws):
    model, _, _ = trained
    data = pipeline.save_model_bytes(model)
    restored = pipeline.load_model_bytes(data)
    row = features.build_feature_matrix(real_draws)[-1]
    np.testing.assert_array_equal(
        pipeline.predict_probabilities(model, row),
        pipeline.predict_probabilities(restored, row),
    )


def test_loading_bytes_of_something_else_is_rejected():
    buffer = io.BytesIO()
    joblib.dump({"not": "a model"}, buffer)
    with pytest.raises(ValueError, match="RandomForestClassifier"):
        pipeline.load_model_bytes(buffer.getvalue())


def test_default_params_build_the_documented_forest():
    model = pipeline.build_model(**pipeline.DEFAULT_PARAMS)
    assert model.n_estimators == pipeline.DEFAULT_PARAMS["n_estimators"]
    assert model.min_samples_leaf == pipeline.DEFAULT_PARAMS["min_samples_leaf"]
    assert model.random_state == pipeline.DEFAULT_PARAMS["seed"]


def test_a_history_longer_than_the_training_window_fits_only_its_recent_rows():
    draws = synthetic_draws(400, seed=3)
    params = {**FAST_PARAMS, "training_window": 120}
    model, _, info = pipeline.train_and_validate(
        draws, params=params, validation_draws=50
    )
    # Each tree's root holds the (bootstrap) sample it was fitted on.
    assert model.estimators_[0].tree_.n_node_samples[0] <= 120
    assert info["rows_final_fit"] == 120
    assert info["rows_total"] == 400 - features.MIN_HISTORY


def test_a_history_within_the_training_window_fits_exactly_as_without_one(
    real_draws,
):
    windowed = {**FAST_PARAMS, "training_window": len(real_draws)}
    unwindowed = {**FAST_PARAMS, "training_window": None}
    model_a, metrics_a, _ = pipeline.train_and_validate(
        real_draws, params=windowed, validation_draws=100
    )
    model_b, metrics_b, _ = pipeline.train_and_validate(
        real_draws, params=unwindowed, validation_draws=100
    )
    row = features.build_feature_matrix(real_draws)[-1]
    assert np.array_equal(
        pipeline.predict_probabilities(model_a, row),
        pipeline.predict_probabilities(model_b, row),
    )
    assert metrics_a == metrics_b


def test_a_training_window_below_one_row_is_refused():
    with pytest.raises(ValueError, match="training_window"):
        pipeline.recent_rows(np.arange(10), 0)
