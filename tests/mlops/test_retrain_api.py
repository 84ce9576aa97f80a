"""Staff API under /api/admin/: scheduler status, manual/emergency retrain, runs."""

import pytest
from django.contrib.auth.models import Permission
from django.http import HttpRequest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from mlops.models import ModelVersion, RetrainRun
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import model_version_active
from mlops.services.training.retrain_requests import retrain_request
from mlops.services.training.training import model_version_train

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/admin/scheduler-status"),
    ("post", "/api/admin/manual-retrain"),
    ("post", "/api/admin/emergency-retrain"),
    ("get", "/api/admin/retrain-runs/"),
    ("get", "/api/admin/retrain-runs/1/"),
]


@pytest.fixture
def staff(django_user_model):
    user = django_user_model.objects.create_user(
        "ops", password="pw-ops-123", is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["retrain_model", "view_retrainrun"])
    )
    return user


@pytest.fixture
def staff_client(staff):
    client = APIClient()
    client.force_authenticate(staff)
    return client


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_users_are_refused_with_401(method, url, model_root):
    response = getattr(APIClient(), method)(url)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert RetrainRun.objects.count() == 0


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_logged_in_non_staff_users_are_refused_with_403(
    method, url, django_user_model, model_root
):
    user = django_user_model.objects.create_user("player", password="pw-player-1")
    client = APIClient()
    # session auth; django-axes needs the request a real login has
    assert client.login(
        request=HttpRequest(), username="player", password="pw-player-1"
    )

    response = getattr(client, method)(url)

    assert response.status_code == 403
    assert RetrainRun.objects.count() == 0
    assert user.is_staff is False


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_non_staff_tokens_are_refused_with_403(method, url, django_user_model):
    user = django_user_model.objects.create_user("bot", password="pw-bot-1234")
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}"
    )

    assert getattr(client, method)(url).status_code == 403


@pytest.mark.parametrize(
    "url", ["/api/admin/manual-retrain", "/api/admin/emergency-retrain"]
)
def test_staff_without_the_retrain_permission_get_403_and_queue_nothing(
    url, django_user_model, model_root
):
    # The admin's "Retrain now" needs mlops.retrain_model; the API door too.
    user = django_user_model.objects.create_user("viewer", is_staff=True)
    client = APIClient()
    client.force_authenticate(user)

    response = client.post(url, {"reason": "drill"}, format="json")

    assert response.status_code == 403
    assert "retrain_model" in response.json()["detail"]
    assert RetrainRun.objects.count() == 0


def test_a_staff_token_is_accepted(staff):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}"
    )

    response = client.get("/api/admin/scheduler-status")

    assert response.status_code == 200
    assert response.json()["next_retrain"]["scheduled"] is False


def test_a_manual_retrain_through_the_api_makes_a_new_active_model(
    staff,
    staff_client,
    model_root,
    shipped_draws,
    django_capture_on_commit_callbacks,
    settings,
):
    old = model_version_train(activate=True)
    # Another thread count: the same figures, but not a no-op retrain.
    settings.ML_N_JOBS = old.hyperparameters["n_jobs"] + 1

    # The task is queued on commit; Q2's sync mode (tests) runs it right there.
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            "/api/admin/manual-retrain", {"reason": "new draws"}, format="json"
        )

    assert response.status_code == 202
    run = RetrainRun.objects.get(pk=response.json()["run_id"])
    assert response.json()["trigger"] == "manual"
    assert run.status == RetrainRun.Status.SUCCESS
    assert run.requested_by == staff
    assert run.options["reason"] == "new draws"
    assert run.promoted
    assert run.task_id
    assert model_version_active() == run.model_version != old
    assert ModelVersion.objects.get(pk=old.pk).state == ModelVersion.State.ARCHIVED


def test_a_retrain_request_while_one_runs_gets_409_with_that_run(
    staff_client, model_root
):
    running = retrain_request(trigger="scheduled", actor=Actor.scheduler())

    for url in ("/api/admin/manual-retrain", "/api/admin/emergency-retrain"):
        response = staff_client.post(url, {}, format="json")

        assert response.status_code == 409
        assert response.json()["run_id"] == running.pk
        assert response.json()["status"] == "queued"
        assert response.json()["code"] == "retrain_running"
        assert f"Retrain run {running.pk}" in response.json()["detail"]
    assert RetrainRun.objects.count() == 1


def test_an_emergency_retrain_is_queued_with_its_trigger(staff_client, model_root):
    # No on_commit capture: the request is recorded and queued, not yet run.
    response = staff_client.post("/api/admin/emergency-retrain", {}, format="json")

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    run = RetrainRun.objects.get(pk=response.json()["run_id"])
    assert run.trigger == "emergency"
    assert run.in_flight == RetrainRun.IN_FLIGHT


def test_contradictory_options_get_400_and_record_nothing(staff_client, model_root):
    response = staff_client.post(
        "/api/admin/manual-retrain", {"tune": True, "warm_start": True}, format="json"
    )

    assert response.status_code == 400
    assert "Choose tune or warm_start" in str(response.json())
    assert RetrainRun.objects.count() == 0


def test_retrain_runs_are_listed_newest_first_with_pages_and_filters(staff_client):
    # Twenty to a page (REST_FRAMEWORK["PAGE_SIZE"]).
    runs = [
        RetrainRun.objects.create(
            trigger="scheduled", status="success" if n % 2 else "failed"
        )
        for n in range(21)
    ]

    page = staff_client.get("/api/admin/retrain-runs/").json()
    second = staff_client.get(page["next"]).json()
    filtered = staff_client.get("/api/admin/retrain-runs/?status=success").json()

    assert page["count"] == 21
    assert [row["id"] for row in page["results"]] == [r.pk for r in runs[::-1][:20]]
    assert [row["id"] for row in second["results"]] == [runs[0].pk]
    assert filtered["count"] == 10
    assert {row["status"] for row in filtered["results"]} == {"success"}


def test_a_retrain_run_detail_shows_the_record(staff_client, model_root, shipped_draws):
    model_version_train(activate=True)
    run = retrain_request(
        trigger="manual", actor=Actor.system(), options={"force": True}, run_async=False
    )

    body = staff_client.get(f"/api/admin/retrain-runs/{run.pk}/").json()

    assert body["status"] == "success"
    assert body["model_version"] == run.model_version.version
    assert body["promoted"] is True
    assert body["options"]["force"] is True
    assert body["draw_count"] == 1220
    assert body["validation_metrics"]["any_hit_rate"]["value"] == pytest.approx(
        run.validation_metrics["any_hit_rate"]["value"]
    )
    assert body["peak_memory_bytes"] == run.peak_memory_bytes
    assert staff_client.get("/api/admin/retrain-runs/999999/").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/admin/scheduler-status",
        "/api/admin/retrain-runs/",
        "/api/admin/retrain-runs/{pk}/",
    ],
)
def test_staff_without_the_view_permission_read_no_runs_or_tracebacks(
    django_user_model, model_root, url
):
    run = RetrainRun.objects.create(
        trigger="manual",
        status="failed",
        error_message="boom",
        traceback='Traceback (most recent call last):\n  File "/srv/secret.py"',
    )
    bare = django_user_model.objects.create_user("bare", is_staff=True)
    client = APIClient()
    client.force_authenticate(bare)

    response = client.get(url.format(pk=run.pk))

    assert response.status_code == 403
    assert "view_retrainrun" in response.json()["detail"]
    assert b"secret.py" not in response.content
