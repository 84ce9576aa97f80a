"""The audit trail: every operation leaves one event naming who did it, from
every door (service, command, admin), and draw imports are recorded too."""

import io

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse

from draws.services import draw_import_file, draw_import_records
from mlops.models import AuditEvent
from mlops.services.operations.backups import (
    model_version_backup,
    model_version_restore,
    model_version_rollback,
)
from mlops.services.operations.cleanup import models_cleanup
from mlops.services.operations.integrity import models_verify
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import model_version_activate
from tests.factories import draw_record, train

pytestmark = pytest.mark.django_db
# The staff API takes JSON bodies only; these calls send none.
JSON = "application/json"


def actions_by(actor: str) -> list[str]:
    return list(
        AuditEvent.objects.filter(actor=actor)
        .order_by("id")
        .values_list("action", flat=True)
    )


def distinct(field: str, *, actor: str) -> set:
    """The distinct values of `field` over the events of `actor`."""
    return set(AuditEvent.objects.filter(actor=actor).values_list(field, flat=True))


@pytest.fixture
def versions(model_root, shipped_draws):
    return train(1), train(2)


def test_each_service_records_the_user_who_called_it(versions, django_user_model):
    alice = django_user_model.objects.create_user("alice", is_staff=True)
    actor = Actor.for_user(alice)
    v1, v2 = versions

    model_version_activate(version=v1, actor=actor)
    model_version_backup(version=v1, actor=actor)
    model_version_restore(version=v2, actor=actor)
    model_version_rollback(actor=actor)
    models_cleanup(older_than_days=30, dry_run=False, actor=actor)
    models_verify(actor=actor)

    trail = "activate backup activate restore activate rollback cleanup verify"
    assert actions_by("alice") == trail.split()
    assert distinct("user", actor="alice") == {alice.pk}


def test_each_command_records_the_cli(versions):
    v1, v2 = versions
    out = io.StringIO()
    model_version_activate(version=v1, actor=Actor.system())
    call_command("backup_model", stdout=out)
    call_command("restore_model", v2.version, stdout=out)
    call_command("rollback_model", stdout=out)
    call_command("cleanup_models", "--dry-run", stdout=out)  # a dry run: no event
    call_command("cleanup_models", stdout=out)
    call_command("verify_models", stdout=out)

    trail = "backup activate restore activate rollback cleanup verify"
    assert actions_by("cli") == trail.split()
    assert distinct("actor_type", actor="cli") == {"cli"}


def test_each_admin_action_records_the_staff_user(admin_client, versions):
    v1, v2 = versions
    changelist = reverse("admin:mlops_modelversion_changelist")

    def act(action, version, **extra):
        data = {"action": action, "_selected_action": [version.pk], **extra}
        assert admin_client.post(changelist, data).status_code == 302

    act("activate_selected", v1)
    act("backup_selected", v1)
    act("restore_selected", v2, post="yes")
    act("verify_selected", v2)
    rollback = reverse("admin:mlops_modelversion_rollback")
    assert admin_client.post(rollback).status_code == 302
    assert admin_client.post(reverse("admin:mlops_retrainrun_retrain")).status_code == (
        302
    )

    trail = (
        "activate backup activate restore verify activate rollback retrain_requested"
    )
    assert actions_by("admin") == trail.split()
    assert distinct("actor_type", actor="admin") == {"user"}


def test_importing_the_draw_file_is_recorded_with_its_range(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        draw_import_file(django_settings.DRAWS_SHIPPED_CSV)
    event = AuditEvent.objects.get(action="draw_imported")
    assert (event.actor_type, event.actor) == ("cli", "cli")
    assert event.details["source"] == "file:lotto645_draws.csv"
    assert (event.details["first"], event.details["last"]) == (1, 1220)
    assert event.details["count"] == 1220
    assert event.details["draw_nos"] is None  # too many to list


def test_a_synced_draw_is_recorded_as_the_system(
    shipped_draws, django_capture_on_commit_callbacks
):
    record = draw_record(1221, (3, 9, 17, 25, 33, 41), bonus=12)
    with django_capture_on_commit_callbacks(execute=True):
        draw_import_records([record], source="sync")
    event = AuditEvent.objects.get(action="draw_imported")
    assert (event.actor_type, event.details["source"]) == ("system", "sync")
    assert event.details["draw_nos"] == [1221]


def test_an_import_that_stores_nothing_records_nothing(
    shipped_draws, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        draw_import_file(django_settings.DRAWS_SHIPPED_CSV)
    assert not AuditEvent.objects.filter(action="draw_imported").exists()


def test_the_audit_list_shows_who_did_what_to_which_object(admin_client, versions):
    v1, _ = versions
    model_version_backup(version=v1, actor=Actor.cli())
    page = admin_client.get(reverse("admin:mlops_auditevent_changelist")).content
    assert b"backup" in page
    assert v1.version.encode() in page
    filtered = admin_client.get(
        reverse("admin:mlops_auditevent_changelist"), {"action": "backup"}
    )
    assert filtered.context["cl"].result_count == 1


def test_each_api_call_records_the_staff_user(client, versions, django_user_model):
    from django.contrib.auth.models import Permission

    v1, v2 = versions
    api = django_user_model.objects.create_user("api-user", is_staff=True)
    api.user_permissions.set(Permission.objects.filter(content_type__app_label="mlops"))
    client.force_login(api)
    model_version_activate(version=v1, actor=Actor.system())

    backup = client.post(f"/api/admin/models/{v1.version}/backup", content_type=JSON)
    restore = client.post(
        f"/api/admin/models/{v2.version}/restore",
        {"reason": "api drill"},
        content_type="application/json",
    )
    rollback = client.post("/api/admin/models/rollback", content_type=JSON)
    cleanup = client.post(
        "/api/admin/models/cleanup",
        {"older_than_days": 30, "dry_run": False},
        content_type="application/json",
    )
    verify = client.post("/api/admin/models/verify", content_type=JSON)

    assert backup.status_code == 201
    assert backup.json()["sha256"] == v1.sha256
    assert restore.json() == {"version": v2.version, "state": "active"}
    assert rollback.json() == {"version": v1.version, "state": "active"}
    assert cleanup.json()["removed"] == []
    assert verify.json()["ok"] is True
    assert actions_by("api-user") == [
        "backup",
        "activate",
        "restore",
        "activate",
        "rollback",
        "cleanup",
        "verify",
    ]
    history = client.get(f"/api/admin/models/{v1.version}/activations").json()
    assert [p["activated_by"] for p in history] == ["system", "rollback"]
    assert history[1]["user"] == "api-user"


def test_the_api_says_what_is_wrong(client, admin_user, model_root, db):
    client.force_login(admin_user)
    assert (
        client.post("/api/admin/models/nope/restore", content_type=JSON).status_code
        == 404
    )
    refused = client.post("/api/admin/models/rollback", content_type=JSON)
    assert refused.status_code == 400
    assert "no earlier version" in refused.json()["detail"]
    assert refused.json()["code"] == "invalid"
    negative = client.post(
        "/api/admin/models/cleanup",
        {"older_than_days": -1},
        content_type="application/json",
    )
    assert negative.status_code == 400
    assert "older_than_days" in negative.json()["errors"]
