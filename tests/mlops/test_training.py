"""Training a version on the stored draws, and the train_model command."""

import io
import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from mlops.ml import features, metrics
from mlops.ml.pipeline import predict_probabilities
from mlops.models import AuditEvent, ModelVersion
from mlops.services.registry.registry import model_version_active, model_version_load
from mlops.services.training.training import (
    InsufficientDrawsError,
    model_version_train,
    training_history,
)
from tests.factories import store_draws

pytestmark = pytest.mark.django_db


def test_training_refuses_499_draws_and_registers_nothing(model_root, settings):
    settings.ML_MIN_DRAWS = 500
    store_draws(499)

    with pytest.raises(InsufficientDrawsError, match="499 draws"):
        model_version_train()

    assert not ModelVersion.objects.exists()
    assert not (model_root / "trained").exists()


def test_training_on_500_draws_stores_and_activates_a_version(model_root, settings):
    settings.ML_MIN_DRAWS = 500
    store_draws(500)

    version = model_version_train()

    assert version.state == "active"
    assert model_version_active() == version
    assert (version.draw_from, version.draw_to, version.draw_count) == (1, 500, 500)
    assert version.feature_set_version == features.FEATURE_SET_VERSION
    assert version.training_data_hash == training_history()[2]
    assert version.library_versions["scikit-learn"]
    assert version.training_seconds > 0
    assert (model_root / version.file_path).stat().st_size == version.size_bytes
    metadata = json.loads((model_root / version.metadata_path).read_text())
    assert metadata["state"] == "active"
    assert metadata["hyperparameters"] == version.hyperparameters
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"model_trained", "activate"} <= actions


def test_the_validation_metrics_are_stored_with_their_closed_form_baselines(
    model_root,
):
    store_draws(520)

    version = model_version_train()

    stored = version.validation_metrics
    assert stored["sample_size"] == 200
    assert stored["mean_hits"]["baseline"] == metrics.random_mean_hits()
    assert stored["brier_score"]["baseline"] == metrics.uniform_brier_score()
    assert stored["any_hit_rate"]["baseline"] == metrics.random_any_hit_probability()
    assert 0 <= stored["mean_hits"]["value"] <= 6


def test_hyperparameters_come_from_settings(model_root, settings):
    settings.ML_N_ESTIMATORS = 7
    settings.ML_MAX_DEPTH = 4
    settings.ML_MIN_SAMPLES_LEAF = 20
    settings.ML_SEED = 3
    store_draws(520)

    version = model_version_train()

    params = version.hyperparameters
    assert (params["n_estimators"], params["max_depth"]) == (7, 4)
    assert (params["min_samples_leaf"], params["seed"]) == (20, 3)
    assert version.seed == 3
    model = model_version_load(version)
    assert (model.n_estimators, model.max_depth, model.min_samples_leaf) == (7, 4, 20)
    assert model.random_state == 3
    assert len(model.estimators_) == 7


def test_training_without_activation_leaves_the_active_version(model_root):
    store_draws(520)
    active = model_version_train()

    candidate = model_version_train(activate=False)

    assert candidate.state == "archived"
    assert model_version_active() == active


def test_the_same_data_and_seed_give_the_same_forecasts(model_root):
    store_draws(520)
    first = model_version_load(model_version_train())
    second = model_version_load(model_version_train())

    row = features.build_feature_matrix(training_history()[1])[-1]

    assert np.array_equal(
        predict_probabilities(first, row), predict_probabilities(second, row)
    )


def run_train_model(**options) -> str:
    out = io.StringIO()
    call_command("train_model", stdout=out, **options)
    return out.getvalue()


def test_train_model_trains_activates_and_prints_figures_next_to_baselines(
    model_root,
):
    store_draws(520)

    output = run_train_model(n_estimators=5, seed=7)

    version = model_version_active()
    assert version.hyperparameters["n_estimators"] == 5
    assert version.seed == 7
    assert f"Trained and activated {version.version}" in output
    assert f"{version.size_bytes / 1e6:.2f} MB" in output
    assert f"{version.training_seconds:.2f} s" in output
    mean_hits = version.validation_metrics["mean_hits"]
    assert f"{mean_hits['value']:.3f}" in output
    assert f"vs {metrics.random_mean_hits():.3f}" in output
    assert "Brier score" in output
    assert version.activations.get().activated_by == "cli"


def test_train_model_if_missing_does_nothing_when_the_active_model_verifies(
    model_root,
):
    store_draws(520)
    active = model_version_train()

    output = run_train_model(if_missing=True)

    assert "nothing to do" in output
    assert list(ModelVersion.objects.all()) == [active]


def test_train_model_if_missing_trains_when_the_active_file_is_gone(model_root):
    store_draws(520)
    broken = model_version_train()
    (model_root / broken.file_path).unlink()

    output = run_train_model(if_missing=True)

    assert "file_missing" in output
    new = model_version_active()
    assert new.pk != broken.pk
    assert f"Trained and activated {new.version}" in output


def test_train_model_if_missing_trains_when_no_model_exists(model_root):
    store_draws(520)

    output = run_train_model(if_missing=True)

    assert "No active model" in output
    assert model_version_active() is not None


def test_train_model_fails_clearly_below_the_minimum_of_draws(model_root, settings):
    settings.ML_MIN_DRAWS = 500
    store_draws(120)

    with pytest.raises(CommandError, match=r"Only 120 draws .* at least 500"):
        run_train_model()

    assert not ModelVersion.objects.exists()


def test_train_model_refuses_zero_trees(model_root):
    store_draws(520)

    with pytest.raises(CommandError, match="at least 1"):
        run_train_model(n_estimators=0)

    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize("seed", [-1, 2**32])
def test_train_model_refuses_a_seed_out_of_range_in_one_line(model_root, seed):
    # Used to end in a scikit-learn InvalidParameterError traceback.
    store_draws(520)

    with pytest.raises(CommandError, match=r"--seed must be between 0 and 4294967295"):
        run_train_model(seed=seed)

    assert not ModelVersion.objects.exists()
