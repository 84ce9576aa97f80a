"""Rollback and the activation history: who or what made each version active,
from when to when, and why."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from mlops.models import AuditEvent, ModelActivation, ModelVersion, RetrainRun
from mlops.services.operations.backups import (
    model_version_backup,
    model_version_rollback,
    model_version_rollback_plan,
)
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import (
    model_version_activate,
    model_version_active,
    model_version_mark_corrupt,
)
from tests.factories import registered

pytestmark = pytest.mark.django_db
# The commands call the same services the tests above run on both backends;
# the storage backend changes nothing in the door itself.
DOORS_ON_LOCAL_DISK = pytest.mark.parametrize("model_store", ["local"], indirect=True)


def test_the_history_after_activate_retrain_and_roll_back_is_exact(
    model_store, shipped_history, django_user_model
):
    alice = django_user_model.objects.create_user("alice", is_staff=True)
    bob = django_user_model.objects.create_user("bob", is_staff=True)
    v1 = registered(1)
    model_version_activate(
        version=v1, actor=Actor.for_user(alice), reason="first deployment"
    )
    run = RetrainRun.objects.create(trigger="scheduled", status="running")
    v2 = registered(
        2,
        activate=True,
        actor=Actor.scheduler(),
        reason="weekly retrain",
        retrain_run=run,
    )

    back = model_version_rollback(actor=Actor.for_user(bob), reason="v2 looks worse")

    assert back == v1
    first, second, third = ModelActivation.objects.order_by("activated_at", "id")
    assert (first.model_version, second.model_version, third.model_version) == (
        v1,
        v2,
        v1,
    )
    # Who or what, and why.
    assert (first.activated_by, first.user, first.reason) == (
        "alice",
        alice,
        "first deployment",
    )
    assert (second.activated_by, second.user, second.retrain_run) == (
        "retrain",
        None,
        run,
    )
    assert second.reason == "weekly retrain"
    assert (third.activated_by, third.user, third.reason) == (
        "rollback",
        bob,
        "v2 looks worse",
    )
    # From when to when: contiguous periods, only the last one open.
    assert first.deactivated_at == second.activated_at
    assert second.deactivated_at == third.activated_at
    assert third.deactivated_at is None
    assert [a.is_current for a in (first, second, third)] == [False, False, True]
    assert first.deactivation_reason == f"replaced by {v2.version}"
    assert second.deactivation_reason == f"replaced by {v1.version}"
    v2.refresh_from_db()
    assert v2.state == ModelVersion.State.ARCHIVED
    event = AuditEvent.objects.get(action="rollback")
    assert (event.actor, event.user) == ("bob", bob)
    assert (event.details["from"], event.details["to"]) == (v2.version, v1.version)
    assert event.details["reason"] == "v2 looks worse"


def test_rolling_back_twice_returns_to_where_it_started(model_store, shipped_history):
    v1 = registered(1, activate=True)
    v2 = registered(2, activate=True)
    assert model_version_rollback(actor=Actor.cli()) == v1
    assert model_version_rollback(actor=Actor.cli()) == v2


def test_a_corrupt_previous_version_without_a_backup_is_passed_over(
    model_store, shipped_history
):
    v1 = registered(1, activate=True)
    v2 = registered(2, activate=True)
    registered(3, activate=True)
    model_version_mark_corrupt(version=v2, reason="checksum_mismatch")

    plan = model_version_rollback_plan()
    assert plan.target == v1
    assert [s["version"] for s in plan.skipped] == [v2.version]

    assert model_version_rollback(actor=Actor.cli()) == v1
    event = AuditEvent.objects.get(action="rollback")
    assert event.details["skipped"][0]["version"] == v2.version


def test_a_corrupt_previous_version_with_a_backup_is_restored_and_activated(
    model_store, shipped_history
):
    registered(1, activate=True)
    v2 = registered(2, activate=True)
    model_version_backup(version=v2, actor=Actor.cli())
    registered(3, activate=True)
    model_store.write(v2.file_path, b"garbage")
    model_version_mark_corrupt(version=v2, reason="checksum_mismatch")

    back = model_version_rollback(actor=Actor.cli(), reason="drill")

    assert back == v2
    assert back.is_active
    assert AuditEvent.objects.get(action="rollback").details["file_restored"] is True
    current = ModelActivation.objects.get(is_current=True)
    assert (current.model_version, current.activated_by) == (v2, "rollback")


def test_rolling_back_with_no_earlier_version_is_refused(model_store, shipped_history):
    v1 = registered(1, activate=True)
    with pytest.raises(ValidationError, match="no earlier version"):
        model_version_rollback(actor=Actor.cli())
    assert model_version_active() == v1
    assert not AuditEvent.objects.filter(action="rollback").exists()


@DOORS_ON_LOCAL_DISK
def test_rollback_model_activates_the_previous_version_as_the_cli(
    model_store, shipped_history
):
    v1 = registered(1, activate=True)
    registered(2, activate=True)
    out = io.StringIO()
    call_command("rollback_model", "--reason", "drill", stdout=out)
    assert f"Rolled back: {v1.version} is now the active model." in out.getvalue()
    event = AuditEvent.objects.get(action="rollback")
    assert (event.actor_type, event.details["reason"]) == ("cli", "drill")
    current = ModelActivation.objects.get(is_current=True)
    assert (current.activated_by, current.reason) == ("rollback", "drill")


@DOORS_ON_LOCAL_DISK
def test_rollback_model_fails_in_one_line_when_there_is_nothing_to_roll_back_to(
    model_store, db
):
    with pytest.raises(CommandError, match="no earlier version to roll back to"):
        call_command("rollback_model")
