"""Backups: verified copies of a version's file and metadata, made by hand or on
every activation."""

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from mlops.models import AuditEvent, ModelBackup
from mlops.services.operations.backups import (
    model_backup_newest_good,
    model_version_backup,
    model_version_restore,
)
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import (
    model_version_activate,
    model_version_load,
)
from mlops.services.registry.storage import get_storage, sha256_bytes
from tests.factories import registered

pytestmark = pytest.mark.django_db
# The commands call the same services the tests above run on both backends;
# the storage backend changes nothing in the door itself.
DOORS_ON_LOCAL_DISK = pytest.mark.parametrize("model_store", ["local"], indirect=True)


def test_a_backup_is_a_byte_identical_copy_verified_against_the_versions_checksum(
    model_store, shipped_history
):
    version = registered(1)
    backup = model_version_backup(version=version, actor=Actor.cli())
    storage = get_storage()
    copied = storage.read_bytes(backup.file_path)
    assert backup.file_path.startswith(f"backups/{version.version}/")
    assert copied == storage.read_bytes(version.file_path)
    assert sha256_bytes(copied) == version.sha256 == backup.sha256
    assert backup.size_bytes == version.size_bytes == len(copied)
    assert backup.verified_at is not None
    assert backup.created_by == "cli"
    metadata = json.loads(storage.read_bytes(backup.metadata_path))
    assert metadata["version"] == version.version
    assert metadata["sha256"] == version.sha256


def test_a_backup_is_recorded_in_the_audit_trail(model_store, shipped_history):
    version = registered(1)
    backup = model_version_backup(version=version, actor=Actor.cli())
    event = AuditEvent.objects.get(action="backup")
    assert (event.actor_type, event.actor) == ("cli", "cli")
    assert event.object_id == str(version.pk)
    assert event.details["backup_id"] == backup.pk
    assert event.details["sha256"] == version.sha256


def test_two_backups_of_one_version_never_overwrite_each_other(
    model_store, shipped_history
):
    version = registered(1)
    first = model_version_backup(version=version, actor=Actor.cli())
    second = model_version_backup(version=version, actor=Actor.cli())
    assert first.file_path != second.file_path
    assert get_storage().exists(first.file_path)
    assert model_backup_newest_good(version) == second


def test_backing_up_a_corrupt_file_is_refused_and_records_nothing(
    model_store, shipped_history
):
    version = registered(1)
    model_store.write(version.file_path, b"not the model")
    with pytest.raises(ValidationError, match="checksum mismatch"):
        model_version_backup(version=version, actor=Actor.cli())
    assert not ModelBackup.objects.exists()
    assert not AuditEvent.objects.filter(action="backup").exists()
    assert get_storage().list_files("backups") == []


def test_the_backup_restore_round_trip_brings_back_the_exact_bytes_that_load(
    model_store, shipped_history
):
    version = registered(1, activate=True)
    original = model_store.read(version.file_path)
    model_version_backup(version=version, actor=Actor.cli())
    model_store.write(version.file_path, original[:100] + b"flipped")

    restored = model_version_restore(version=version, actor=Actor.cli())

    repaired = model_store.read(version.file_path)
    assert repaired == original
    assert sha256_bytes(repaired) == restored.sha256
    assert restored.is_active
    assert model_version_load(restored) is not None


def test_the_newest_good_backup_skips_a_corrupt_newer_one(model_store, shipped_history):
    version = registered(1)
    older = model_version_backup(version=version, actor=Actor.cli())
    newer = model_version_backup(version=version, actor=Actor.cli())
    model_store.write(newer.file_path, b"bit rot")
    assert model_backup_newest_good(version) == older
    model_store.delete(older.file_path)
    assert model_backup_newest_good(version) is None


def test_every_newly_activated_version_is_backed_up_automatically(
    model_store, shipped_history, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        version = registered(1, activate=True)
    backup = ModelBackup.objects.get(model_version=version)
    assert backup.sha256 == version.sha256
    assert backup.created_by == "system"
    assert sha256_bytes(get_storage().read_bytes(backup.file_path)) == version.sha256
    event = AuditEvent.objects.get(action="backup")
    assert event.actor_type == "system"


def test_reactivating_a_version_that_has_a_verified_backup_makes_no_second_copy(
    model_store, shipped_history, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = registered(1, activate=True)
        second = registered(2, activate=True)
        model_version_activate(version=first, actor=Actor.cli())
    assert ModelBackup.objects.filter(model_version=first).count() == 1
    assert ModelBackup.objects.filter(model_version=second).count() == 1


def test_an_automatic_backup_that_fails_does_not_fail_the_activation(
    model_store, shipped_history, django_capture_on_commit_callbacks, settings
):
    version = registered(1)
    # Every backup write fails: a file where the backups folder should be, or
    # a bucket that does not exist.
    if model_store.backend == "local":
        model_store.write("backups", b"")
    else:
        gone = dict(settings.STORAGES["model_backups"])
        gone["OPTIONS"] = {**gone["OPTIONS"], "bucket_name": "no-such-bucket"}
        settings.STORAGES = {**settings.STORAGES, "model_backups": gone}
    with django_capture_on_commit_callbacks(execute=True):
        model_version_activate(version=version, actor=Actor.cli())
    version.refresh_from_db()
    assert version.is_active
    assert not ModelBackup.objects.exists()


@DOORS_ON_LOCAL_DISK
def test_backup_model_backs_up_the_active_version_by_default(
    model_store, shipped_history
):
    registered(1)
    active = registered(2, activate=True)
    out = io.StringIO()
    call_command("backup_model", stdout=out)
    backup = ModelBackup.objects.get()
    assert backup.model_version == active
    assert f"Backed up {active.version} to {backup.file_path}" in out.getvalue()
    assert AuditEvent.objects.get(action="backup").actor == "cli"


@DOORS_ON_LOCAL_DISK
def test_backup_model_backs_up_a_named_version(model_store, shipped_history):
    archived = registered(1)
    registered(2, activate=True)
    call_command("backup_model", archived.version, stdout=io.StringIO())
    assert ModelBackup.objects.get().model_version == archived


@DOORS_ON_LOCAL_DISK
def test_backup_model_refuses_an_unknown_version_in_one_line(model_store, db):
    with pytest.raises(CommandError, match="Unknown model version 'nope'"):
        call_command("backup_model", "nope")


@DOORS_ON_LOCAL_DISK
def test_backup_model_without_an_active_version_says_so(model_store, db):
    with pytest.raises(CommandError, match="No model version is active"):
        call_command("backup_model")
