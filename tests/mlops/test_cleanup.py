"""Cleanup: old files go, protected files stay, rows stay (marked deleted)."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from mlops.models import AuditEvent, ModelBackup, ModelVersion
from mlops.services.operations.backups import model_version_backup
from mlops.services.operations.cleanup import models_cleanup
from mlops.services.registry.audit import Actor
from tests.factories import registered

pytestmark = pytest.mark.django_db
# The doors (command, API) call the same service the tests above run on both
# backends; the storage backend changes nothing there.
DOORS_ON_LOCAL_DISK = pytest.mark.parametrize("model_store", ["local"], indirect=True)


@pytest.fixture
def registry(model_store, shipped_history):
    """A registry with every case cleanup must tell apart, files 60 days old.

    v1: once active, replaced; two backups.     v2: once active, no backup.
    v3: active, one backup.                     v4: never active, one backup.
    v5: never active, files 1 day old.          Plus orphans and other services'
    files under metadata/.
    """
    v1 = registered(1, activate=True)
    b1_old = model_version_backup(version=v1, actor=Actor.cli())
    b1_new = model_version_backup(version=v1, actor=Actor.cli())
    v2 = registered(2, activate=True)
    v3 = registered(3, activate=True)
    b3 = model_version_backup(version=v3, actor=Actor.cli())
    v4 = registered(4)
    b4 = model_version_backup(version=v4, actor=Actor.cli())
    v5 = registered(5)
    for stray in ("trained/stray.pkl", "backups/unknown/copy.pkl"):
        model_store.write(stray, b"someone put this here")
    model_store.write("metadata/predictions/1221_x.json", b"{}")
    model_store.write("metadata/retrain_metadata.json", b"{}")
    for path in model_store.files():
        model_store.age(path, 60)
    model_store.age(v5.file_path, 1)
    model_store.age(v5.metadata_path, 1)
    versions = {"v1": v1, "v2": v2, "v3": v3, "v4": v4, "v5": v5}
    backups = {"b1_old": b1_old, "b1_new": b1_new, "b3": b3, "b4": b4}
    return versions, backups


def expected_sets(versions, backups):
    v, b = versions, backups
    removed = {
        v["v1"].file_path,
        v["v1"].metadata_path,
        b["b1_old"].file_path,
        b["b1_old"].metadata_path,
        v["v4"].file_path,
        v["v4"].metadata_path,
        b["b4"].file_path,
        b["b4"].metadata_path,
    }
    kept = {
        b["b1_new"].file_path,  # newest backup of a once-active version
        b["b1_new"].metadata_path,
        v["v2"].file_path,  # once active, no backup: the only copy
        v["v2"].metadata_path,
        v["v3"].file_path,  # the active model
        v["v3"].metadata_path,
        b["b3"].file_path,
        b["b3"].metadata_path,
        v["v5"].file_path,  # newer than 30 days
        v["v5"].metadata_path,
    }
    return removed, kept


def cleanup_as_expected(registry, *, dry_run: bool):
    """Clean up files older than 30 days; assert the report removes and keeps
    exactly the expected files. Returns the report and the removed paths."""
    report = models_cleanup(older_than_days=30, dry_run=dry_run, actor=Actor.cli())
    removed, kept = expected_sets(*registry)
    assert report.removed_paths == removed
    assert report.kept_paths == kept
    return report, removed


def test_a_dry_run_lists_exactly_what_would_go_and_removes_nothing(
    model_store, registry
):
    before = model_store.files()

    report, _ = cleanup_as_expected(registry, dry_run=True)

    assert report.orphans == ["backups/unknown/copy.pkl", "trained/stray.pkl"]
    assert model_store.files() == before
    assert set(ModelVersion.objects.values_list("state", flat=True)) == {
        "active",
        "archived",
    }
    assert not ModelBackup.objects.filter(deleted_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action="cleanup").exists()


def test_cleanup_removes_exactly_the_unprotected_old_files(model_store, registry):
    before = model_store.files()

    _, removed = cleanup_as_expected(registry, dry_run=False)

    assert model_store.files() == before - removed
    # Orphans and other services' files are still there.
    for path in (
        "trained/stray.pkl",
        "backups/unknown/copy.pkl",
        "metadata/retrain_metadata.json",
        "metadata/predictions/1221_x.json",
    ):
        assert model_store.exists(path)


def test_cleanup_keeps_the_rows_and_marks_what_went(model_store, registry):
    versions, backups = registry
    report = models_cleanup(older_than_days=30, dry_run=False, actor=Actor.cli())
    states = {
        name: ModelVersion.objects.get(pk=v.pk).state for name, v in versions.items()
    }
    assert states == {
        "v1": "deleted",
        "v2": "archived",
        "v3": "active",
        "v4": "deleted",
        "v5": "archived",
    }
    assert sorted(report.versions_deleted) == sorted(
        [versions["v1"].version, versions["v4"].version]
    )
    gone = set(
        ModelBackup.objects.filter(deleted_at__isnull=False).values_list(
            "pk", flat=True
        )
    )
    assert gone == {backups["b1_old"].pk, backups["b4"].pk}


def test_cleanup_says_why_each_file_was_kept(model_store, registry):
    versions, backups = registry
    report = models_cleanup(older_than_days=30, dry_run=True, actor=Actor.cli())
    why = {d.path: d.reason for d in report.kept}
    assert why[versions["v3"].file_path] == "active model"
    assert why[backups["b1_new"].file_path] == (
        "newest good backup of a version that was active"
    )
    assert why[versions["v2"].file_path].startswith("only copy")
    assert why[versions["v5"].file_path] == "newer than 30 day(s)"


def test_cleanup_is_audited_with_what_it_removed(model_store, registry):
    versions, backups = registry
    models_cleanup(older_than_days=30, dry_run=False, actor=Actor.cli())
    event = AuditEvent.objects.get(action="cleanup")
    removed, _ = expected_sets(versions, backups)
    assert event.actor == "cli"
    assert set(event.details["removed"]) == removed
    assert event.details["older_than_days"] == 30


def test_a_deleted_version_can_still_be_restored_from_its_protected_backup(
    model_store, registry
):
    from mlops.services.operations.backups import model_version_restore

    versions, _ = registry
    models_cleanup(older_than_days=30, dry_run=False, actor=Actor.cli())
    restored = model_version_restore(version=versions["v1"], actor=Actor.cli())
    assert restored.is_active


def test_a_longer_age_removes_nothing(model_store, registry):
    report = models_cleanup(older_than_days=90, dry_run=False, actor=Actor.cli())
    assert report.removed == []


@DOORS_ON_LOCAL_DISK
def test_a_negative_age_is_refused(model_store, db):
    with pytest.raises(ValidationError, match="0 or more"):
        models_cleanup(older_than_days=-1, dry_run=True, actor=Actor.cli())


@pytest.mark.parametrize("days", [9_999_999, 99_999_999_999])
@DOORS_ON_LOCAL_DISK
def test_cleanup_models_refuses_an_absurd_age_in_one_line_and_removes_nothing(
    model_store, registry, days
):
    # Used to overflow timedelta/datetime with a traceback.
    before = model_store.files()

    with pytest.raises(CommandError, match="at most 36500"):
        call_command("cleanup_models", "--older-than", str(days))

    assert model_store.files() == before
    assert not AuditEvent.objects.filter(action="cleanup").exists()


@DOORS_ON_LOCAL_DISK
def test_the_cleanup_api_refuses_an_absurd_age_with_400(
    model_store, registry, admin_client
):
    response = admin_client.post(
        "/api/admin/models/cleanup",
        {"older_than_days": 10**30},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "older_than_days" in response.json()["errors"]


@DOORS_ON_LOCAL_DISK
def test_cleanup_models_dry_run_prints_the_plan_and_removes_nothing(
    model_store, registry
):
    versions, _ = registry
    before = model_store.files()
    out = io.StringIO()
    call_command("cleanup_models", "--older-than", "30", "--dry-run", stdout=out)
    text = out.getvalue()
    assert f"would remove: {versions['v4'].file_path} (older than 30 day(s))" in text
    assert f"kept: {versions['v3'].file_path} (active model)" in text
    assert "orphan (left alone): trained/stray.pkl" in text
    assert "would remove 8 file(s)" in text
    assert model_store.files() == before


@DOORS_ON_LOCAL_DISK
def test_cleanup_models_defaults_to_the_configured_age(model_store, registry, settings):
    settings.CLEANUP_OLDER_THAN_DAYS = 90
    out = io.StringIO()
    call_command("cleanup_models", stdout=out)
    assert "removed 0 file(s)" in out.getvalue()
    event = AuditEvent.objects.get(action="cleanup")
    assert event.details["older_than_days"] == 90


@DOORS_ON_LOCAL_DISK
def test_cleanup_models_refuses_a_negative_age_in_one_line(model_store, db):
    with pytest.raises(CommandError, match="0 or more"):
        call_command("cleanup_models", "--older-than", "-3")


@DOORS_ON_LOCAL_DISK
def test_the_cleanup_api_refuses_a_form_body_and_removes_nothing(
    model_store, registry, admin_client
):
    # The attack run's case: `curl -d '{"dry_run": true}'` sends it form-encoded.
    before = model_store.files()
    response = admin_client.post(
        "/api/admin/models/cleanup",
        data='{"dry_run": true}',
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert model_store.files() == before
    assert not AuditEvent.objects.filter(action="cleanup").exists()


@DOORS_ON_LOCAL_DISK
def test_the_cleanup_api_only_plans_unless_dry_run_is_false(
    model_store, registry, admin_client
):
    before = model_store.files()
    planned = admin_client.post(
        "/api/admin/models/cleanup", {}, content_type="application/json"
    )
    assert planned.status_code == 200
    assert planned.json()["dry_run"] is True
    assert model_store.files() == before
    removed = admin_client.post(
        "/api/admin/models/cleanup",
        {"dry_run": False},
        content_type="application/json",
    )
    assert removed.json()["dry_run"] is False
    assert model_store.files() != before
