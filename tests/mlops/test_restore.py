"""Restore: a backed-up version becomes the active model again, its file repaired
from the newest good backup when it is missing or corrupt."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from mlops.models import AuditEvent, ModelActivation, ModelVersion
from mlops.services.operations.backups import (
    model_version_backup,
    model_version_restore,
)
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import (
    model_version_active,
    model_version_load,
    model_version_mark_corrupt,
)
from mlops.services.registry.storage import sha256_bytes
from tests import factories
from tests.factories import registered

pytestmark = pytest.mark.django_db
# The commands call the same services the tests above run on both backends;
# the storage backend changes nothing in the door itself.
DOORS_ON_LOCAL_DISK = pytest.mark.parametrize("model_store", ["local"], indirect=True)


@pytest.fixture
def backed_up_then_replaced(model_store, shipped_history):
    """v1 was active and backed up; v2 replaced it."""
    return factories.backed_up_then_replaced()


def test_restoring_a_version_whose_trained_file_was_deleted_copies_the_backup_back(
    model_store, backed_up_then_replaced
):
    v1, v2 = backed_up_then_replaced
    original = model_store.read(v1.file_path)
    model_store.delete(v1.file_path)

    restored = model_version_restore(
        version=v1, actor=Actor.cli(), reason="v2 misbehaves"
    )

    assert model_store.read(v1.file_path) == original
    assert sha256_bytes(original) == restored.sha256
    assert restored.is_active
    assert model_version_active() == v1
    v2.refresh_from_db()
    assert v2.state == ModelVersion.State.ARCHIVED
    assert model_version_load(restored) is not None
    current = ModelActivation.objects.get(is_current=True)
    assert current.model_version == v1
    assert (current.activated_by, current.reason) == ("restore", "v2 misbehaves")
    event = AuditEvent.objects.get(action="restore")
    assert event.details["file_restored"] is True
    assert event.details["backup_id"] == v1.backups.get().pk
    assert event.details["previous_state"] == "archived"


def test_restoring_an_intact_archived_version_activates_it_without_copying(
    model_store, backed_up_then_replaced
):
    v1, _ = backed_up_then_replaced
    restored = model_version_restore(version=v1.version, actor=Actor.cli())
    assert restored.is_active
    assert AuditEvent.objects.get(action="restore").details["file_restored"] is False


def test_a_corrupt_version_is_repaired_and_made_active(
    model_store, backed_up_then_replaced
):
    v1, _ = backed_up_then_replaced
    model_store.write(v1.file_path, b"garbage")
    model_version_mark_corrupt(version=v1, reason="checksum_mismatch")

    restored = model_version_restore(version=v1, actor=Actor.cli())

    assert restored.state == ModelVersion.State.ACTIVE
    assert sha256_bytes(model_store.read(v1.file_path)) == v1.sha256


def test_a_version_deleted_by_cleanup_comes_back_with_its_metadata(
    model_store, backed_up_then_replaced
):
    v1, _ = backed_up_then_replaced
    model_store.delete(v1.file_path)
    model_store.delete(v1.metadata_path)
    ModelVersion.objects.filter(pk=v1.pk).update(state=ModelVersion.State.DELETED)

    restored = model_version_restore(version=v1, actor=Actor.cli())

    assert restored.is_active
    assert model_store.exists(v1.file_path)
    assert model_store.exists(v1.metadata_path)


def test_restoring_without_a_usable_backup_is_refused_and_changes_nothing(
    model_store, shipped_history
):
    v1 = registered(1, activate=True)
    v2 = registered(2, activate=True)
    model_store.delete(v1.file_path)
    with pytest.raises(ValidationError, match="has no backup that matches"):
        model_version_restore(version=v1, actor=Actor.cli())
    assert model_version_active() == v2
    v1.refresh_from_db()
    assert v1.state == ModelVersion.State.ARCHIVED
    assert not AuditEvent.objects.filter(action="restore").exists()
    assert ModelActivation.objects.get(is_current=True).model_version == v2


def test_a_backup_whose_bytes_changed_is_never_restored(
    model_store, backed_up_then_replaced
):
    v1, v2 = backed_up_then_replaced
    backup = v1.backups.get()
    model_store.write(backup.file_path, b"tampered")
    model_store.delete(v1.file_path)
    with pytest.raises(ValidationError, match="no backup that matches"):
        model_version_restore(version=v1, actor=Actor.cli())
    assert not model_store.exists(v1.file_path)
    assert model_version_active() == v2


def test_restoring_the_intact_active_version_says_there_is_nothing_to_do(
    model_store, backed_up_then_replaced
):
    _, v2 = backed_up_then_replaced
    with pytest.raises(ValidationError, match="already active"):
        model_version_restore(version=v2, actor=Actor.cli())


def test_restoring_the_active_version_with_a_corrupt_file_repairs_it_in_place(
    model_store, shipped_history
):
    v1 = registered(1, activate=True)
    model_version_backup(version=v1, actor=Actor.cli())
    model_store.write(v1.file_path, b"garbage")
    restored = model_version_restore(version=v1, actor=Actor.cli())
    assert restored.is_active
    assert model_version_load(restored) is not None
    # Still the same activation period: the model never stopped being active.
    assert ModelActivation.objects.count() == 1


def test_restoring_an_unknown_version_is_a_clear_error(model_store, db):
    with pytest.raises(ValidationError, match="Unknown model version 'nope'"):
        model_version_restore(version="nope", actor=Actor.cli())


@DOORS_ON_LOCAL_DISK
def test_restore_model_restores_and_records_the_cli_as_the_actor(
    model_store, backed_up_then_replaced
):
    v1, _ = backed_up_then_replaced
    model_store.delete(v1.file_path)
    out = io.StringIO()
    call_command("restore_model", v1.version, "--reason", "drill", stdout=out)
    assert f"Restored {v1.version}; it is now the active model." in out.getvalue()
    event = AuditEvent.objects.get(action="restore")
    assert (event.actor_type, event.details["reason"]) == ("cli", "drill")


@DOORS_ON_LOCAL_DISK
def test_restore_model_fails_in_one_line_for_an_unknown_version(model_store, db):
    with pytest.raises(CommandError, match="^Unknown model version 'nope'.$"):
        call_command("restore_model", "nope")


@DOORS_ON_LOCAL_DISK
def test_restore_model_fails_when_no_backup_can_repair_the_file(
    model_store, shipped_history
):
    v1 = registered(1, activate=True)
    registered(2, activate=True)
    model_store.delete(v1.file_path)
    with pytest.raises(CommandError, match="no backup that matches its checksum"):
        call_command("restore_model", v1.version)


def test_a_web_process_serves_the_restored_version_without_a_restart(
    model_store, backed_up_then_replaced, settings
):
    from recommendations.services.forecast_cache import forecast_cache_clear
    from recommendations.services.recommendation import RecommendationEngine

    v1, v2 = backed_up_then_replaced
    settings.ML_ACTIVE_CHECK_SECONDS = 0
    forecast_cache_clear()
    try:
        assert RecommendationEngine().recommend(seed=1).model_version == v2.version
        # As another process would: only the database and the files change here
        # (signals sent on commit never reach this process in a test transaction).
        model_store.delete(v1.file_path)
        model_version_restore(version=v1, actor=Actor.cli())

        served = RecommendationEngine().recommend(seed=1)
    finally:
        forecast_cache_clear()
    assert (served.mode, served.model_version) == ("ml", v1.version)
