"""Faults noticed without waiting: the scheduled integrity checks, and no-op retrains."""

import io

import pytest
from django.core.management import call_command

from mlops.models import IntegrityCheck, ModelVersion, RetrainRun
from mlops.services.operations.backups import model_version_backup
from mlops.services.operations.integrity_checks import (
    model_active_verify,
    models_verify_scheduled,
)
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import (
    model_version_active,
    model_version_read_verified,
)
from mlops.services.training.retrain_requests import retrain_run_now
from mlops.tasks import model_active_verify_task, models_verify_task
from recommendations.services.forecast_cache import forecast_cache_clear
from recommendations.services.recommendation import RecommendationEngine

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_engine_cache(settings):
    settings.ML_N_ESTIMATORS = 4
    settings.ML_ACTIVE_CHECK_SECONDS = 0
    forecast_cache_clear()
    yield
    forecast_cache_clear()


def corrupt(model_root, version: ModelVersion) -> None:
    path = model_root / version.file_path
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))


def test_the_active_check_records_a_good_file(trained):
    result = model_active_verify_task()
    check = IntegrityCheck.objects.get(scope="active")
    assert result == {"ok": True, "summary": check.summary}
    assert check.summary == f"{trained.version}: file present, matches its sha256"


def test_a_corrupt_active_file_is_restored_from_its_backup_at_once(model_root, trained):
    model_version_backup(version=trained, actor=Actor.system())
    corrupt(model_root, trained)

    check = model_active_verify()  # no request, no load: the job notices

    assert not check.ok
    assert check.summary == f"{trained.version}: checksum_mismatch; self-heal: restored"
    assert model_version_active() == trained
    model_version_read_verified(trained)  # raises if the file still differs


def test_a_missing_active_file_with_no_backup_and_no_new_draw_is_replaced_and_served(
    model_root, trained, settings, django_capture_on_commit_callbacks
):
    settings.SELF_HEAL_QUEUE_RETRAIN = True
    (model_root / trained.file_path).unlink()

    with django_capture_on_commit_callbacks(execute=True):
        check = model_active_verify()

    assert check.details["problem"] == "file_missing"
    run = RetrainRun.objects.get()
    assert (run.trigger, run.status, run.options["force"]) == (
        "emergency",
        "success",
        True,
    )
    fresh = model_version_active()
    assert fresh not in (None, trained)
    assert fresh == run.model_version
    assert fresh.training_data_hash == trained.training_data_hash  # no new draw
    served = RecommendationEngine().recommend(count=1, seed=1)
    assert (served.mode, served.model_version) == ("ml", fresh.version)


def test_the_daily_check_reads_every_file_and_heals_the_active_one(model_root, trained):
    model_version_backup(version=trained, actor=Actor.system())
    corrupt(model_root, trained)

    result = models_verify_task()

    full = IntegrityCheck.objects.get(scope="all")
    assert result == {"ok": False, "summary": full.summary}
    assert full.details["corrupt"] == [trained.file_path]
    assert IntegrityCheck.objects.get(scope="active").details["healed"] is True
    model_version_read_verified(trained)
    assert models_verify_scheduled().ok


def test_a_retrain_with_nothing_new_registers_nothing_and_says_why(trained):
    run = retrain_run_now(actor=Actor.cli(), reason="weekly")

    assert run.status == RetrainRun.Status.UNCHANGED
    assert run.model_version is None
    assert run.promotion_reason.startswith(
        f"unchanged: the active model {trained.version} was trained on the same "
        "520 draws"
    )
    assert ModelVersion.objects.count() == 1
    assert model_version_active() == trained


def test_the_retrain_command_reports_a_no_op_retrain_and_succeeds(trained):
    out = io.StringIO()

    call_command("retrain", reason="nothing new", stdout=out)  # no CommandError

    assert RetrainRun.objects.latest("pk").status == RetrainRun.Status.UNCHANGED
    assert ": unchanged" in out.getvalue()
    assert ModelVersion.objects.count() == 1


def test_a_forced_retrain_registers_a_new_version_even_with_nothing_new(trained):
    run = retrain_run_now(actor=Actor.cli(), force=True)

    assert run.status == RetrainRun.Status.SUCCESS
    assert ModelVersion.objects.count() == 2
    assert model_version_active() == run.model_version


def test_a_retrain_after_a_new_draw_trains(trained):
    from tests.factories import store_draws

    store_draws(1, first=521, seed=5)
    run = retrain_run_now(actor=Actor.cli())

    assert run.status == RetrainRun.Status.SUCCESS
    assert run.model_version is not None


def test_a_retrain_whose_active_file_fails_trains_instead_of_calling_it_unchanged(
    model_root, trained, settings
):
    settings.SELF_HEAL_QUEUE_RETRAIN = False
    corrupt(model_root, trained)
    run = retrain_run_now(actor=Actor.cli())

    assert run.status == RetrainRun.Status.SUCCESS
    assert run.model_version is not None
