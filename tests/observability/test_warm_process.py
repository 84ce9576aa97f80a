"""A warm process whose active file went says so alike in /readyz, the answer and the page."""

import pytest
from django.urls import reverse

from mlops.observability import readiness
from recommendations.services.forecast_cache import forecast_cache_clear

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_process(monkeypatch, settings):
    settings.ML_ACTIVE_CHECK_SECONDS = 3600  # a warm process: state cached
    monkeypatch.setattr(readiness, "_loaded_at", {})
    forecast_cache_clear()
    yield
    forecast_cache_clear()


def test_a_warm_process_serving_its_model_from_memory_says_so_everywhere(
    client, admin_client, trained, model_root
):
    served = client.get("/api/recommendations/?count=1").json()
    assert (served["mode"], served["model_version"]) == ("ml", trained.version)
    (model_root / trained.file_path).unlink()

    ready = client.get("/readyz")
    again = client.get("/api/recommendations/?count=1").json()
    page = admin_client.get(reverse("operations_dashboard")).content.decode()

    assert ready.status_code == 200
    assert ready.json()["model"] == "ml"
    assert ready.json()["model_source"] == "memory"
    assert ready.json()["model_error"] == "file_missing"
    assert (again["mode"], again["model_version"]) == ("ml", trained.version)
    assert f"model {trained.version}" in page
    assert "<code>ml (file_missing)</code>" in page
    assert "served from this process&#x27;s memory" in page


def test_a_process_that_never_loaded_the_model_reports_the_missing_file(
    client, trained, model_root
):
    (model_root / trained.file_path).unlink()

    ready = client.get("/readyz").json()

    assert (ready["model"], ready["model_error"]) == ("statistical", "file_missing")
    assert "model_source" not in ready
