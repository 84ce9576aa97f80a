"""Self-healing: a corrupt active model is restored from its backup and served
again; without a backup the engine falls back to statistical mode."""

import threading

import pytest
from django.db import connection
from prometheus_client import REGISTRY

from mlops.models import AuditEvent, ModelActivation, ModelVersion, RetrainRun
from mlops.services.operations.backups import model_version_backup
from mlops.services.operations.self_heal import model_self_heal
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import (
    ModelIntegrityError,
    model_version_activate,
    model_version_active,
    model_version_load,
    model_version_register,
)
from recommendations.services.forecast_cache import forecast_cache_clear
from recommendations.services.recommendation import RecommendationEngine
from tests.factories import registered

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_engine_cache():
    forecast_cache_clear()
    yield
    forecast_cache_clear()


def healed_count(outcome: str) -> float:
    return REGISTRY.get_sample_value("ml_self_heal_total", {"outcome": outcome}) or 0.0


def failure(version: ModelVersion) -> ModelIntegrityError:
    """The error the engine got when it tried to load `version`."""
    with pytest.raises(ModelIntegrityError) as caught:
        model_version_load(version)
    return caught.value


@pytest.fixture
def active_with_backup(model_store, shipped_history):
    version = registered(1, activate=True)
    model_version_backup(version=version, actor=Actor.system())
    return version


def corrupt(model_store, version: ModelVersion) -> bytes:
    good = model_store.read(version.file_path)
    if model_store.backend == "s3":
        # A host that cached the model notices a changed object by its size (a
        # HEAD); a same-size change only verify_models finds (docs/OPERATIONS.md).
        model_store.write(version.file_path, good[:-1])
    else:
        model_store.write(version.file_path, good[:-1] + bytes([good[-1] ^ 1]))
    return good


def test_a_corrupt_active_model_is_restored_from_its_backup_and_reactivated(
    model_store, active_with_backup
):
    version = active_with_backup
    good = corrupt(model_store, version)
    before = healed_count("restored")

    healed = model_self_heal(version=version, error=failure(version))

    assert healed == version
    assert healed.is_active
    assert model_store.read(version.file_path) == good
    assert model_version_load(healed) is not None
    assert healed_count("restored") == before + 1


def test_self_heal_is_recorded_in_the_activation_history_and_the_audit_trail(
    model_store, active_with_backup
):
    version = active_with_backup
    corrupt(model_store, version)

    model_self_heal(version=version, error=failure(version))

    first, second = ModelActivation.objects.order_by("activated_at", "id")
    assert first.deactivation_reason.startswith("corrupt: checksum_mismatch")
    assert (second.model_version, second.activated_by) == (version, "self-heal")
    assert second.is_current
    assert not first.is_current
    assert "self-heal after checksum_mismatch" in second.reason
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-3:] == ["mark_corrupt", "activate", "self_heal"]
    event = AuditEvent.objects.get(action="self_heal")
    assert event.actor_type == "system"
    assert event.details["outcome"] == "restored"
    assert event.details["error"] == "checksum_mismatch"
    assert event.details["backup_id"] == version.backups.get().pk


def test_a_deleted_active_file_is_restored_too(model_store, active_with_backup):
    version = active_with_backup
    model_store.delete(version.file_path)
    healed = model_self_heal(version=version, error=failure(version))
    assert healed == version
    assert model_store.exists(version.file_path)


def test_without_a_backup_the_version_is_corrupt_and_an_emergency_retrain_is_queued(
    model_store, shipped_history, settings
):
    settings.SELF_HEAL_QUEUE_RETRAIN = True
    version = registered(1, activate=True)
    corrupt(model_store, version)
    before = healed_count("no_backup")

    assert model_self_heal(version=version, error=failure(version)) is None

    version.refresh_from_db()
    assert version.state == ModelVersion.State.CORRUPT
    assert model_version_active() is None
    assert healed_count("no_backup") == before + 1
    assert AuditEvent.objects.get(action="self_heal").details["outcome"] == (
        "no_backup"
    )
    run = RetrainRun.objects.get()
    assert run.trigger == "emergency"
    assert run.options["reason"].startswith(f"self-heal: model {version.version}")


def test_no_retrain_is_queued_when_the_setting_is_off(
    model_store, shipped_history, settings
):
    settings.SELF_HEAL_QUEUE_RETRAIN = False
    version = registered(1, activate=True)
    model_store.delete(version.file_path)
    assert model_self_heal(version=version, error=failure(version)) is None
    assert not RetrainRun.objects.exists()


def test_a_retrain_already_in_flight_is_not_an_error(
    model_store, shipped_history, settings
):
    settings.SELF_HEAL_QUEUE_RETRAIN = True
    version = registered(1, activate=True)
    running = RetrainRun.objects.create(
        trigger="scheduled", status="running", in_flight=RetrainRun.IN_FLIGHT
    )
    model_store.delete(version.file_path)
    assert model_self_heal(version=version, error=failure(version)) is None
    assert list(RetrainRun.objects.all()) == [running]


def test_a_file_that_matches_its_checksum_but_wont_load_is_not_restored_in_a_loop(
    model_store, db, settings
):
    settings.SELF_HEAL_QUEUE_RETRAIN = False
    version = model_version_register(
        model_bytes=b"checksummed, but not a model",
        draw_from=1,
        draw_to=520,
        draw_count=520,
        training_data_hash="0" * 64,
        feature_set_version="fs-test",
        hyperparameters={},
        seed=0,
        training_seconds=0.0,
        validation_metrics={},
    )
    model_version_activate(version=version, actor=Actor.system())
    model_version_backup(version=version, actor=Actor.system())
    error = failure(version)
    assert error.reason == "load_failed"

    assert model_self_heal(version=version, error=error) is None

    version.refresh_from_db()
    assert version.state == ModelVersion.State.CORRUPT
    event = AuditEvent.objects.get(action="self_heal")
    assert event.details["outcome"] == "restore_failed"


def test_a_second_process_arriving_after_the_heal_finds_it_done(
    model_store, active_with_backup
):
    version = active_with_backup
    corrupt(model_store, version)
    error = failure(version)
    stale = ModelVersion.objects.get(pk=version.pk)  # what process B loaded
    model_self_heal(version=version, error=error)  # process A heals
    before = healed_count("already_healed")

    assert model_self_heal(version=stale, error=error) == version

    assert healed_count("already_healed") == before + 1
    assert AuditEvent.objects.filter(action="self_heal").count() == 1
    assert ModelActivation.objects.count() == 2


def test_the_engine_stays_in_ml_mode_with_the_restored_version(
    model_store, active_with_backup
):
    version = active_with_backup
    good = corrupt(model_store, version)

    recommendation = RecommendationEngine().recommend(count=3, seed=1)

    assert recommendation.mode == "ml"
    assert recommendation.model_version == version.version
    assert recommendation.fallback_reason is None
    assert model_store.read(version.file_path) == good
    assert AuditEvent.objects.get(action="self_heal").details["outcome"] == ("restored")


def test_without_a_backup_the_engine_serves_statistical_mode_and_says_why(
    model_store, shipped_history, settings
):
    settings.SELF_HEAL_QUEUE_RETRAIN = False
    version = registered(1, activate=True)
    corrupt(model_store, version)

    recommendation = RecommendationEngine().recommend(count=3, seed=1)

    assert recommendation.mode == "statistical"
    assert recommendation.fallback_reason == "checksum_mismatch"
    assert recommendation.model_version is None
    version.refresh_from_db()
    assert version.state == ModelVersion.State.CORRUPT


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks (select_for_update) need PostgreSQL; SQLite has none",
)
@pytest.mark.django_db(transaction=True)
def test_two_processes_hitting_the_corruption_at_once_restore_it_once(model_store):
    from django.conf import settings as django_settings

    from draws.services import draw_import_file

    draw_import_file(django_settings.DRAWS_SHIPPED_CSV)
    version = registered(1, activate=True)
    model_version_backup(version=version, actor=Actor.system())
    corrupt(model_store, version)
    error = failure(version)
    start = threading.Barrier(2)
    results, errors = [], []

    def web_process():
        try:
            stale = ModelVersion.objects.get(pk=version.pk)
            start.wait(timeout=10)
            results.append(model_self_heal(version=stale, error=error))
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=web_process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert results == [version, version]
    assert AuditEvent.objects.filter(action="self_heal").count() == 1
    assert ModelActivation.objects.filter(activated_by="self-heal").count() == 1
    assert model_version_active() == version
