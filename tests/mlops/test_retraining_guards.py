"""Each guard ends the run cleanly, releases the lock and leaves the champion alone."""

import json

import pytest
from django.utils import timezone
from sklearn.ensemble import RandomForestClassifier

from draws.models import LottoDraw
from mlops.models import ModelActivation, ModelVersion, RetrainRun
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import model_version_active
from mlops.services.registry.storage import get_storage
from mlops.services.training.retrain_requests import retrain_in_flight, retrain_run_now
from mlops.services.training.retraining import RETRAIN_METADATA_PATH
from mlops.services.training.training import model_version_train

pytestmark = pytest.mark.django_db


@pytest.fixture
def champion(model_root, shipped_draws, settings):
    version = model_version_train(activate=True)
    # Another thread count: a retrain on the same draws is not a no-op.
    settings.ML_N_JOBS = version.hyperparameters["n_jobs"] + 1
    return version


def assert_champion_untouched(champion):
    active = model_version_active()
    assert active == champion
    assert active.sha256 == champion.sha256
    assert ModelActivation.objects.get(is_current=True).model_version == champion
    assert get_storage().exists(champion.file_path)


def assert_lock_released_and_recorded(run):
    assert run.in_flight is None
    assert retrain_in_flight() is None
    assert run.finished_at is not None
    metadata = json.loads(get_storage().read_bytes(RETRAIN_METADATA_PATH))
    assert metadata["run_id"] == run.pk
    assert metadata["status"] == run.status
    assert metadata["error_message"] == run.error_message


def test_fewer_than_500_draws_skip_the_run_with_the_reason(champion, caplog):
    LottoDraw.objects.filter(draw_no__gt=499).delete()

    run = retrain_run_now(actor=Actor.cli())

    assert run.status == RetrainRun.Status.SKIPPED
    assert "Only 499 draws are stored; training needs at least 500" in (
        run.error_message
    )
    assert run.draw_count == 499
    assert run.model_version is None
    assert not run.promoted
    assert ModelVersion.objects.count() == 1
    assert_champion_untouched(champion)
    assert_lock_released_and_recorded(run)
    assert f"Retraining finished: run {run.pk} (trigger cli, status skipped" in (
        caplog.text
    )


def test_exactly_500_draws_are_enough(model_root, shipped_draws):
    LottoDraw.objects.filter(draw_no__gt=500).delete()

    run = retrain_run_now(actor=Actor.cli())

    assert run.status == RetrainRun.Status.SUCCESS
    assert run.draw_count == 500


def test_a_memory_error_while_fitting_fails_the_run(champion, monkeypatch, caplog):
    def out_of_memory(self, X, y, sample_weight=None):
        raise MemoryError

    # The sklearn boundary: our code runs unchanged up to the forest's fit.
    monkeypatch.setattr(RandomForestClassifier, "fit", out_of_memory)

    run = retrain_run_now(actor=Actor.cli(), trigger="emergency")

    assert run.status == RetrainRun.Status.FAILED
    assert run.error_message == "out of memory (MemoryError) while training"
    assert "MemoryError" in run.traceback
    assert "train_and_validate" in run.traceback
    assert run.model_version is None
    assert run.draw_count == 1220
    assert ModelVersion.objects.count() == 1
    assert_champion_untouched(champion)
    assert_lock_released_and_recorded(run)
    assert (
        f"Retraining failed: run {run.pk} (trigger emergency, reason: out of memory"
        in caplog.text
    )


def test_an_error_while_saving_the_model_fails_the_run(champion, model_root):
    # The next version's file name is taken by a directory: the atomic rename of
    # the new model file onto it fails inside the storage layer.
    label = f"lotto_model_{timezone.localdate():%Y%m%d}_2"
    (model_root / "trained" / f"{label}.pkl").mkdir()

    run = retrain_run_now(actor=Actor.cli())

    assert run.status == RetrainRun.Status.FAILED
    assert run.error_message.startswith("IsADirectoryError:")
    assert "write_bytes" in run.traceback
    assert ModelVersion.objects.count() == 1
    assert not ModelVersion.objects.filter(version=label).exists()
    assert_champion_untouched(champion)
    assert_lock_released_and_recorded(run)
    # Nothing half-written is left behind in the model folder.
    assert sorted(p.name for p in (model_root / "trained").iterdir()) == sorted(
        [f"{champion.version}.pkl", f"{label}.pkl"]
    )


def test_a_failed_run_does_not_block_the_next_one(champion, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(
            RandomForestClassifier,
            "fit",
            lambda *args, **kwargs: (_ for _ in ()).throw(ValueError("bad fit")),
        )
        failed = retrain_run_now(actor=Actor.cli())

    run = retrain_run_now(actor=Actor.cli())

    assert failed.status == RetrainRun.Status.FAILED
    assert failed.error_message == "ValueError: bad fit"
    assert run.status == RetrainRun.Status.SUCCESS
