"""train_model (and ./run's first model) go through the retrain service: a forced,
recorded, single-flight RetrainRun; training parameters are retrain `params`."""

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import translation
from rest_framework.test import APIClient

from mlops.models import ModelVersion, RetrainRun
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import model_version_active
from mlops.services.training.retrain_requests import retrain_request
from tests.factories import store_draws

pytestmark = pytest.mark.django_db


def run_train_model(**options) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("train_model", stdout=out, **options)
    return out.getvalue()


def test_train_model_records_a_forced_retrain_run_with_the_gate_decision(model_root):
    store_draws(520)

    output = run_train_model(n_estimators=5, seed=7)

    run = RetrainRun.objects.get()
    version = model_version_active()
    assert (run.trigger, run.status, run.promoted) == ("cli", "success", True)
    assert run.options["force"] is True
    assert run.options["params"] == {"n_estimators": 5, "seed": 7}
    assert run.options["reason"] == "train_model command"
    assert run.model_version == version
    assert run.in_flight is None  # the single-flight lock is released
    assert run.promotion_reason
    assert f"Retrain run {run.pk} (forced): {run.promotion_reason}" in output
    activation = version.activations.get()
    assert (activation.activated_by, activation.retrain_run) == ("cli", run)


def test_train_model_is_refused_while_another_retrain_is_in_flight(model_root):
    store_draws(520)
    running = retrain_request(trigger="scheduled", actor=Actor.scheduler())

    with pytest.raises(CommandError, match=f"Retrain run {running.pk} is already"):
        run_train_model()

    assert not ModelVersion.objects.exists()
    assert RetrainRun.objects.count() == 1


def test_train_model_below_the_minimum_records_a_skipped_run(model_root, settings):
    settings.ML_MIN_DRAWS = 500
    store_draws(120)

    with pytest.raises(CommandError, match=r"Only 120 draws"):
        run_train_model()

    run = RetrainRun.objects.get()
    assert run.status == RetrainRun.Status.SKIPPED
    assert run.in_flight is None


def test_the_retrain_command_takes_training_params(model_root):
    store_draws(520)

    call_command("retrain", seed=3, n_estimators=4, force=True, stdout=io.StringIO())

    version = RetrainRun.objects.get().model_version
    assert (version.seed, version.hyperparameters["n_estimators"]) == (3, 4)


@pytest.fixture
def staff_client(django_user_model):
    user = django_user_model.objects.create_user("ops", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="retrain_model"))
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_staff_api_passes_training_params_to_the_run(
    staff_client, model_root, django_capture_on_commit_callbacks
):
    store_draws(520)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            "/api/admin/manual-retrain",
            {"force": True, "params": {"seed": 11, "n_estimators": 6}},
            format="json",
        )

    assert response.status_code == 202
    run = RetrainRun.objects.get(pk=response.json()["run_id"])
    assert run.options["params"] == {"seed": 11, "n_estimators": 6}
    assert (
        run.model_version.seed,
        run.model_version.hyperparameters["n_estimators"],
    ) == (
        11,
        6,
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"seed": -1}, "seed"),
        ({"seed": 2**32}, "seed"),
        ({"n_estimators": 0}, "n_estimators"),
        ({"n_estimators": 2001}, "n_estimators"),
        ({"n_estimators": "many"}, "n_estimators"),
    ],
)
def test_the_staff_api_refuses_bad_params_per_field_and_records_nothing(
    staff_client, model_root, params, field
):
    response = staff_client.post(
        "/api/admin/manual-retrain", {"params": params}, format="json"
    )

    assert response.status_code == 400
    assert field in str(response.json())
    assert RetrainRun.objects.count() == 0


def test_the_staff_api_refuses_params_with_warm_start(staff_client, model_root):
    response = staff_client.post(
        "/api/admin/manual-retrain",
        {"warm_start": True, "params": {"seed": 1}},
        format="json",
    )

    assert response.status_code == 400
    assert "Choose params or warm_start" in str(response.json())
    assert RetrainRun.objects.count() == 0


def test_unknown_params_are_refused_by_the_service(model_root):
    with pytest.raises(ValidationError, match="Unknown training parameter"):
        retrain_request(
            trigger="manual", actor=Actor.system(), options={"params": {"depth": 3}}
        )
    assert RetrainRun.objects.count() == 0


def test_the_schema_documents_the_params(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    params = schema["components"]["schemas"]["RetrainParams"]["properties"]
    assert set(params) == {"seed", "n_estimators"}
    assert params["n_estimators"]["maximum"] == 2000
