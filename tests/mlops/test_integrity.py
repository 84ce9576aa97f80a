"""Integrity check: every known file against its checksum; orphans listed."""

import io
import json

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from mlops.models import AuditEvent, ModelBackup, ModelVersion
from mlops.services.operations.backups import model_version_backup
from mlops.services.operations.integrity import models_verify
from mlops.services.registry.audit import Actor
from tests.factories import registered

pytestmark = pytest.mark.django_db
# The commands call the same services the tests above run on both backends;
# the storage backend changes nothing in the door itself.
DOORS_ON_LOCAL_DISK = pytest.mark.parametrize("model_store", ["local"], indirect=True)


@pytest.fixture
def two_backed_up(model_store, shipped_history):
    v1 = registered(1, activate=True)
    b1 = model_version_backup(version=v1, actor=Actor.cli())
    v2 = registered(2, activate=True)
    b2 = model_version_backup(version=v2, actor=Actor.cli())
    return v1, b1, v2, b2


def test_a_healthy_registry_checks_every_file_and_finds_nothing_wrong(
    model_store, two_backed_up
):
    v1, b1, v2, b2 = two_backed_up
    report = models_verify()
    assert report.ok
    assert {c.path for c in report.checks} == {
        v1.file_path,
        v1.metadata_path,
        b1.file_path,
        b1.metadata_path,
        v2.file_path,
        v2.metadata_path,
        b2.file_path,
        b2.metadata_path,
    }
    assert {c.status for c in report.checks} == {"ok"}
    assert report.orphans == []


def test_missing_corrupt_and_orphan_files_are_each_reported(model_store, two_backed_up):
    v1, b1, v2, b2 = two_backed_up
    model_store.write(v1.file_path, b"flipped bits")
    model_store.delete(b2.file_path)
    model_store.write(v2.metadata_path, b"{not json")
    model_store.write("trained/unknown.pkl", b"?")
    model_store.write("metadata/predictions/1221_x.json", b"{}")
    model_store.write("metadata/retrain_metadata.json", b"{}")
    model_store.write("reports/backtest.json", b"{}")

    report = models_verify()

    assert not report.ok
    assert [(c.path, c.kind) for c in report.corrupt] == [
        (v1.file_path, "model"),
        (v2.metadata_path, "metadata"),
    ]
    assert [(c.path, c.kind) for c in report.missing] == [(b2.file_path, "backup")]
    assert report.orphans == ["trained/unknown.pkl"]
    assert "sha256" in report.corrupt[0].detail


def test_metadata_that_describes_another_file_is_corrupt(model_store, two_backed_up):
    v1, *_ = two_backed_up
    payload = json.loads(model_store.read(v1.metadata_path))
    payload["sha256"] = "0" * 64
    model_store.write(v1.metadata_path, json.dumps(payload).encode())
    report = models_verify()
    assert [c.path for c in report.corrupt] == [v1.metadata_path]


def test_a_deleted_version_has_no_files_to_check_but_its_backups_are(
    model_store, two_backed_up
):
    v1, b1, *_ = two_backed_up
    model_store.delete(v1.file_path)
    model_store.delete(v1.metadata_path)
    ModelVersion.objects.filter(pk=v1.pk).update(state="deleted")
    report = models_verify()
    assert report.ok
    assert v1.file_path not in {c.path for c in report.checks}
    assert b1.file_path in {c.path for c in report.checks}


def test_good_backups_get_a_fresh_verified_at(model_store, two_backed_up):
    _, b1, *_ = two_backed_up
    ModelBackup.objects.filter(pk=b1.pk).update(verified_at=None)
    models_verify()
    b1.refresh_from_db()
    assert b1.verified_at is not None


def test_verifying_selected_versions_skips_the_others_and_the_orphan_scan(
    model_store, two_backed_up
):
    v1, b1, v2, _ = two_backed_up
    model_store.write(v2.file_path, b"broken")
    model_store.write("trained/unknown.pkl", b"?")
    report = models_verify(versions=[v1])
    assert report.ok
    assert {c.version for c in report.checks} == {v1.version}
    assert report.orphans == []


def test_an_unattended_check_is_not_audited_but_a_persons_is(
    model_store, two_backed_up
):
    models_verify()
    assert not AuditEvent.objects.filter(action="verify").exists()
    models_verify(actor=Actor.cli())
    event = AuditEvent.objects.get(action="verify")
    assert event.actor == "cli"
    assert event.details["ok"] is True


@DOORS_ON_LOCAL_DISK
def test_verify_models_prints_a_summary_and_succeeds_when_all_is_well(
    model_store, two_backed_up
):
    out = io.StringIO()
    call_command("verify_models", stdout=out)
    assert "8 file(s) checked: 8 ok, 0 missing, 0 corrupt; 0 orphan file(s)." in (
        out.getvalue()
    )


@DOORS_ON_LOCAL_DISK
def test_verify_models_fails_and_names_each_problem(model_store, two_backed_up):
    v1, *_ = two_backed_up
    model_store.delete(v1.file_path)
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 model file"):
        call_command("verify_models", stdout=out)
    assert f"missing: {v1.file_path} (model of {v1.version})" in out.getvalue()
    assert AuditEvent.objects.get(action="verify").details["missing"] == [v1.file_path]


def test_verify_models_exits_non_zero_from_the_command_line(
    model_store, two_backed_up, capsys
):
    v1, *_ = two_backed_up
    model_store.write(v1.file_path, b"broken")
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "verify_models"]).execute()
    assert exited.value.code == 1
    assert "missing or corrupt" in capsys.readouterr().err


@DOORS_ON_LOCAL_DISK
def test_verify_models_json_is_machine_readable(model_store, two_backed_up):
    out = io.StringIO()
    call_command("verify_models", "--json", stdout=out)
    payload = json.loads(out.getvalue())
    assert payload["ok"] is True
    assert len(payload["checks"]) == 8
