"""Every copy of a model is checked after it lands: a disk (or bucket) that stores
other bytes than it was given never yields a recorded backup or an active model.

`disk_that_corrupts` stands for such a disk: an atomic write (temp file, then
os.replace) whose target matches lands with one byte flipped, as bit rot or a
torn write would leave it. Each test here fails when the check it names is
removed (the mutations of the hardening issue).
"""

import os
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from mlops.models import AuditEvent, ModelBackup
from mlops.services.operations.backups import (
    model_backup_check,
    model_version_backup,
    model_version_restore,
)
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import (
    model_version_activate,
    model_version_active,
)
from mlops.services.registry.storage import sha256_bytes
from tests.factories import train

pytestmark = pytest.mark.django_db


@pytest.fixture
def disk_that_corrupts(monkeypatch):
    """Append a path fragment; writes to matching targets land corrupt."""
    real_replace = os.replace
    fragments: list[str] = []

    def replace(source, target, *args, **kwargs):
        if any(fragment in str(target) for fragment in fragments):
            data = bytearray(Path(source).read_bytes())
            data[len(data) // 2] ^= 0xFF
            Path(source).write_bytes(bytes(data))
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    return fragments


def test_a_backup_copy_that_landed_corrupt_is_refused_and_not_recorded(
    model_root, shipped_draws, disk_that_corrupts
):
    # Kills: dropping the read-back of the copy in model_version_backup.
    version = train(1)
    backups_before = ModelBackup.objects.count()
    disk_that_corrupts.append("/backups/")

    with pytest.raises(ValidationError, match="does not match its checksum"):
        model_version_backup(version=version, actor=Actor.cli())

    assert ModelBackup.objects.count() == backups_before
    assert not AuditEvent.objects.filter(action="backup").exists()
    assert not list((model_root / "backups").rglob("*.pkl"))


def test_a_restore_whose_copy_landed_corrupt_activates_nothing(
    model_root, shipped_draws, disk_that_corrupts
):
    # Kills: dropping the re-verification after _repair_from_backup's copy.
    v1 = train(1, activate=True)
    model_version_backup(version=v1, actor=Actor.cli())
    v2 = train(2, activate=True)
    (model_root / v1.file_path).write_bytes(b"bit rot")
    disk_that_corrupts.append("/trained/")

    with pytest.raises(ValidationError, match="after it was written"):
        model_version_restore(version=v1, actor=Actor.cli())

    assert model_version_active() == v2
    assert not AuditEvent.objects.filter(action="restore").exists()


def test_a_restore_uses_an_older_good_backup_when_the_newest_is_corrupt(
    model_root, shipped_draws
):
    # Kills: model_backup_check answering "ok" without reading the file.
    v1 = train(1, activate=True)
    older = model_version_backup(version=v1, actor=Actor.cli())
    newer = model_version_backup(version=v1, actor=Actor.cli())
    train(2, activate=True)
    (model_root / newer.file_path).write_bytes(b"bit rot")
    (model_root / v1.file_path).unlink()

    restored = model_version_restore(version=v1, actor=Actor.cli())

    assert restored == model_version_active()
    assert sha256_bytes((model_root / v1.file_path).read_bytes()) == v1.sha256
    event = AuditEvent.objects.get(action="restore")
    assert event.details["backup_id"] == older.pk


def test_the_backup_check_reads_the_file(model_root, shipped_draws):
    version = train(1)
    backup = model_version_backup(version=version, actor=Actor.cli())
    assert model_backup_check(backup) == "ok"
    (model_root / backup.file_path).write_bytes(b"bit rot")
    assert model_backup_check(backup) == "corrupt"
    (model_root / backup.file_path).unlink()
    assert model_backup_check(backup) == "missing"


def test_reactivating_a_version_whose_backup_rotted_makes_a_new_good_backup(
    model_root, shipped_draws, django_capture_on_commit_callbacks
):
    # Kills: trusting a backup row's verified_at without checking its file.
    # (The automatic backup runs once the activation commits.)
    with django_capture_on_commit_callbacks(execute=True):
        v1 = train(1, activate=True)
    first = v1.backups.get()
    with django_capture_on_commit_callbacks(execute=True):
        train(2, activate=True)
    (model_root / first.file_path).write_bytes(b"bit rot")

    with django_capture_on_commit_callbacks(execute=True):
        model_version_activate(version=v1, actor=Actor.cli())

    fresh = v1.backups.exclude(pk=first.pk).get()
    assert model_backup_check(fresh) == "ok"
