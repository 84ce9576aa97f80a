"""GET /healthz and GET /readyz: process up; database and a serving mode ready."""

import pytest
from django.db import OperationalError

from draws.models import LottoDraw
from mlops.observability import readiness
from mlops.services.registry.storage import get_storage
from mlops.services.training.training import model_version_train
from recommendations.services.forecast_cache import forecast_cache_clear

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_load_cache():
    # A fresh process: nothing loaded, no forecast served from memory.
    forecast_cache_clear()
    yield
    forecast_cache_clear()


@pytest.fixture
def trained(model_root, shipped_draws, settings):
    settings.ML_N_ESTIMATORS = 4
    return model_version_train()


def test_healthz_says_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_it_is_not_ready_without_draws_or_a_model(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "ok"
    assert response.json()["model"] == "unavailable"


def test_with_draws_and_no_model_it_is_ready_in_statistical_mode(client, shipped_draws):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["model"] == "statistical"
    assert response.json()["draws_stored"] == shipped_draws.count()


def test_with_a_loadable_active_model_it_is_ready_in_ml_mode(client, trained):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["model"] == "ml"
    assert response.json()["model_version"] == trained.version


def test_a_tampered_model_file_falls_back_to_statistical_mode(client, trained):
    get_storage().write_bytes(trained.file_path, b"not the model that was trained")
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["model"] == "statistical"
    assert response.json()["model_error"] == "checksum_mismatch"


def test_a_missing_model_file_with_no_draws_is_not_ready(client, trained):
    get_storage().delete(trained.file_path)
    LottoDraw.objects.all().delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["model_error"] == "file_missing"


def test_a_database_outage_is_not_ready(client, monkeypatch):
    class DownConnection:
        def cursor(self):
            raise OperationalError("could not connect to server")

    monkeypatch.setattr(readiness, "connection", DownConnection())
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "error"
