"""Redis (the Q2 broker) down: clear answers, and no retrain lock left behind.

`broker_down` points Django-Q2 at a Redis port nothing listens on (the shared
Redis keeps running: other test runs use it).
"""

import io
import socket

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django_q.conf import Conf
from rest_framework.test import APIClient

from mlops.models import AuditEvent, RetrainRun
from mlops.services.registry.audit import Actor
from mlops.services.training.retrain_requests import retrain_in_flight, retrain_request
from mlops.services.training.scheduling import BrokerUnavailable, scheduler_status


@pytest.fixture
def broker_down(monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens here
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", f"redis://127.0.0.1:{port}/0")
    monkeypatch.setattr(Conf, "DJANGO_REDIS", None, raising=False)


@pytest.fixture
def operator(django_user_model):
    user = django_user_model.objects.create_user("ops", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["retrain_model", "view_retrainrun"])
    )
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_a_retrain_the_broker_refuses_releases_the_lock_and_is_audited(
    broker_down, model_root, django_capture_on_commit_callbacks
):
    # Kills: dropping the broker-down release in retrain_requests._enqueue.
    with django_capture_on_commit_callbacks(execute=True):
        run = retrain_request(trigger="manual", actor=Actor.system())

    run.refresh_from_db()
    assert run.status == RetrainRun.Status.FAILED
    assert run.error_message.startswith("could not queue the task")
    assert retrain_in_flight() is None
    event = AuditEvent.objects.get(action="retrain_finished", object_id=str(run.pk))
    assert event.details["outcome"] == "not_queued"
    # The next request is not refused with "already running".
    with django_capture_on_commit_callbacks(execute=True):
        again = retrain_request(trigger="manual", actor=Actor.system())
    assert again.pk != run.pk


@pytest.mark.django_db(transaction=True)
def test_a_manual_retrain_answers_503_when_the_broker_is_down(
    broker_down, model_root, operator
):
    # transaction=True: the request commits, so the task is sent (and refused).
    response = operator.post("/api/admin/manual-retrain", {}, format="json")

    assert response.status_code == 503
    assert response.json()["code"] == "queue_unavailable"
    run = RetrainRun.objects.get()
    assert run.status == RetrainRun.Status.FAILED
    assert retrain_in_flight() is None


@pytest.mark.django_db
def test_the_scheduler_status_api_answers_503_json(broker_down, operator):
    response = operator.get("/api/admin/scheduler-status")

    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "queue_unavailable"


@pytest.mark.django_db
def test_the_scheduler_status_service_says_the_broker_is_unreachable(broker_down):
    with pytest.raises(BrokerUnavailable, match="can't be reached"):
        scheduler_status()


@pytest.mark.django_db
def test_scheduler_status_prints_one_line_not_a_traceback(broker_down):
    with pytest.raises(CommandError) as raised:
        call_command("scheduler_status", stdout=io.StringIO())
    message = str(raised.value)
    assert "can't be reached" in message
    assert "\n" not in message
