"""Tuning (GridSearchCV + TimeSeriesSplit), warm-start growth, and the retrain command."""

import io

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from draws.models import LottoDraw
from mlops.ml import features, incremental, metrics, pipeline, tuning
from mlops.models import ModelVersion, RetrainRun
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import model_version_active, model_version_load
from mlops.services.training.retrain_requests import retrain_request, retrain_run_now
from mlops.services.training.training import model_version_train
from tests.mlops.ml_helpers import synthetic_draws

SMALL_GRID = {"n_estimators": [5], "min_samples_leaf": [40, 80]}


# --- pure tuning ----------------------------------------------------------------


def test_the_scorers_agree_with_the_monitored_metrics():
    draws = synthetic_draws(300)
    X, Y = features.training_rows(draws)
    model = pipeline.build_model(n_estimators=5, min_samples_leaf=20).fit(
        X[:200], Y[:200]
    )
    forecasts = pipeline.predict_probabilities(model, X[200:])
    expected = metrics.evaluate_forecasts(
        forecasts, draws[features.MIN_HISTORY :][200:]
    )

    assert tuning.any_hit_rate_score(model, X[200:], Y[200:]) == pytest.approx(
        expected["any_hit_rate"]["value"]
    )
    assert tuning.mean_hits_score(model, X[200:], Y[200:]) == pytest.approx(
        expected["mean_hits"]["value"]
    )
    assert tuning.brier_skill(model, X[200:], Y[200:]) == pytest.approx(
        expected["brier_skill_score"]["value"]
    )


def test_tuning_searches_the_grid_on_time_ordered_folds_before_the_holdout():
    draws = synthetic_draws(400)

    result = tuning.tune_hyperparameters(
        draws, grid=SMALL_GRID, n_splits=3, holdout_draws=100
    )

    rows_before_holdout = len(draws) - features.MIN_HISTORY - 100
    assert result["rows"] == rows_before_holdout
    assert result["scoring"] == "any_hit_rate"
    assert result["best_params"]["min_samples_leaf"] in (40, 80)
    assert result["best_params"]["n_estimators"] == 5
    assert [c["rank"] for c in result["candidates"]] == sorted(
        c["rank"] for c in result["candidates"]
    )
    assert len(result["candidates"]) == 2
    best = result["candidates"][0]
    assert best["any_hit_rate"]["mean"] == pytest.approx(result["best_score"])
    assert 0 <= result["best_score"] <= 1
    assert result["seconds"] > 0


def test_the_default_grid_is_bounded_and_every_entry_is_tunable():
    assert set(tuning.DEFAULT_GRID) == {
        "n_estimators",
        "max_depth",
        "min_samples_split",
        "min_samples_leaf",
    }
    candidates = np.prod([len(values) for values in tuning.DEFAULT_GRID.values()])
    assert candidates <= 36


def test_an_unknown_grid_parameter_is_refused():
    with pytest.raises(ValueError, match="cannot tune"):
        tuning.tune_hyperparameters(synthetic_draws(300), grid={"criterion": ["gini"]})


# --- pure warm start --------------------------------------------------------------


def test_growing_a_forest_keeps_its_trees_and_adds_new_ones():
    draws = synthetic_draws(300)
    X, Y = features.training_rows(draws)
    base = pipeline.build_model(n_estimators=10, min_samples_leaf=20).fit(
        X[:200], Y[:200]
    )

    grown = incremental.grow_forest(base, X, Y, extra_trees=10, base_estimators=10)

    assert len(base.estimators_) == 10  # the original is not modified
    assert len(grown.estimators_) == 20
    for old, kept in zip(base.estimators_, grown.estimators_[:10], strict=True):
        np.testing.assert_array_equal(old.tree_.value, kept.tree_.value)
    assert grown.warm_start is False


def test_a_forest_may_not_grow_beyond_its_limit():
    draws = synthetic_draws(300)
    X, Y = features.training_rows(draws)
    base = pipeline.build_model(n_estimators=10, min_samples_leaf=20).fit(X, Y)

    with pytest.raises(incremental.WarmStartNotPossible, match="full refit"):
        incremental.grow_forest(base, X, Y, extra_trees=21, base_estimators=10)


def test_the_number_of_added_trees_follows_the_share_of_new_draws():
    assert incremental.extra_trees_for(
        n_estimators=100, new_rows=1, total_rows=1000
    ) == (incremental.MIN_EXTRA_TREES)
    assert (
        incremental.extra_trees_for(n_estimators=100, new_rows=300, total_rows=1000)
        == 30
    )
    with pytest.raises(incremental.WarmStartNotPossible, match="no new draws"):
        incremental.extra_trees_for(n_estimators=100, new_rows=0, total_rows=1000)


# --- through the service and the command ----------------------------------------


@pytest.mark.django_db
def test_a_tuned_retrain_records_the_search_on_the_run_and_the_model(
    model_root, shipped_draws, settings
):
    settings.RETRAIN_TUNE_GRID = SMALL_GRID
    settings.RETRAIN_TUNE_SPLITS = 2
    settings.RETRAIN_TUNE_N_JOBS = 1

    run = retrain_run_now(actor=Actor.cli(), tune=True)

    assert run.status == RetrainRun.Status.SUCCESS
    assert run.tuning["grid"] == SMALL_GRID
    assert run.tuning["n_splits"] == 2
    assert len(run.tuning["candidates"]) == 2
    version = run.model_version
    assert version.hyperparameters == run.tuning["best_params"]
    assert version.training_info["tuning"]["best_score"] == run.tuning["best_score"]
    assert "candidates" not in version.training_info["tuning"]
    loaded = model_version_load(version)
    assert loaded.min_samples_leaf == run.tuning["best_params"]["min_samples_leaf"]


@pytest.mark.django_db
def test_a_warm_start_grows_the_active_forest_for_new_draws(model_root, shipped_draws):
    latest = list(LottoDraw.objects.filter(draw_no__gt=1216).values())
    LottoDraw.objects.filter(draw_no__gt=1216).delete()
    champion = model_version_train(activate=True)
    LottoDraw.objects.bulk_create([LottoDraw(**row) for row in latest])

    run = retrain_run_now(actor=Actor.cli(), warm_start=True)

    assert run.status == RetrainRun.Status.SUCCESS
    grown = run.tuning["warm_start"]
    assert grown["used"] is True
    assert grown["base_version"] == champion.version
    assert grown["new_draws"] == 4
    assert grown["added_trees"] == incremental.MIN_EXTRA_TREES
    model = model_version_load(run.model_version)
    assert len(model.estimators_) == 10 + incremental.MIN_EXTRA_TREES
    assert run.model_version.draw_to == 1220
    assert run.model_version.hyperparameters["n_estimators"] == 10
    assert run.validation_metrics["sample_size"] == 200


@pytest.mark.django_db
def test_a_warm_start_with_no_new_draws_refits_and_says_why(
    model_root, shipped_draws, settings
):
    active = model_version_train(activate=True)
    # Another thread count, so the run is not a no-op (nothing new at all).
    settings.ML_N_JOBS = active.hyperparameters["n_jobs"] + 1

    run = retrain_run_now(actor=Actor.cli(), warm_start=True)

    assert run.status == RetrainRun.Status.SUCCESS
    assert run.tuning["warm_start"] == {
        "used": False,
        "reason": "no new draws since the active model was trained",
        "reason_message": {"code": "warm_start.no_new_draws", "params": {}},
    }
    assert len(model_version_load(run.model_version).estimators_) == 10


@pytest.mark.django_db
def test_the_retrain_command_prints_the_result(model_root, shipped_draws):
    out = io.StringIO()

    call_command("retrain", "--emergency", stdout=out)

    run = RetrainRun.objects.get()
    assert run.trigger == "emergency"
    assert f"Retrain run {run.pk} (emergency): success" in out.getvalue()
    assert f"model: {run.model_version.version}, promoted (active)" in out.getvalue()
    assert model_version_active() == run.model_version


@pytest.mark.django_db
def test_the_retrain_command_exits_non_zero_when_the_run_is_skipped(model_root):
    out = io.StringIO()

    with pytest.raises(CommandError, match="skipped: Only 0 draws are stored"):
        call_command("retrain", stdout=out)
    assert "Retrain run" in out.getvalue()
    assert ModelVersion.objects.count() == 0


@pytest.mark.django_db
def test_the_retrain_command_is_refused_while_a_retrain_is_queued(model_root):
    queued = retrain_request(trigger="manual", actor=Actor.system())

    with pytest.raises(
        CommandError, match=f"Retrain run {queued.pk} is already queued"
    ):
        call_command("retrain", "--force", stdout=io.StringIO())
    assert RetrainRun.objects.count() == 1
