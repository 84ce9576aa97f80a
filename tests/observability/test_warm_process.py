"""A warm process whose active file went says so alike in /readyz, the answer and the page."""

import pytest
from django.urls import reverse

from recommendations.services.forecast_cache import forecast_cache_clear
from tests.factories import store_draws

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _warm_process(settings):
    settings.ML_ACTIVE_CHECK_SECONDS = 3600  # a warm process: state cached
    settings.ML_MODEL_FILE_RECHECK_SECONDS = 0  # every surface checks the file now
    forecast_cache_clear()  # a new process: nothing loaded, nothing checked
    yield
    forecast_cache_clear()


def _missing(path):
    path.unlink()


def _corrupt(path):
    path.write_bytes(path.read_bytes()[:-100] + b"\0" * 100)


@pytest.mark.parametrize(
    ("damage", "problem"),
    [(_missing, "file_missing"), (_corrupt, "checksum_mismatch")],
)
def test_a_warm_process_serving_its_model_from_memory_says_so_everywhere(
    client, admin_client, trained, model_root, damage, problem
):
    served = client.get("/api/recommendations/?count=1").json()
    assert (served["mode"], served["model_version"]) == ("ml", trained.version)
    assert served["model_file"] == "ok"
    assert served["model_file_description"].startswith("The model's file is stored")
    damage(model_root / trained.file_path)

    ready = client.get("/readyz")
    again = client.get("/api/recommendations/?count=1", HTTP_ACCEPT_LANGUAGE="en")
    page = admin_client.get(reverse("operations_dashboard")).content.decode()

    assert ready.status_code == 200
    assert ready.json()["model"] == "ml"
    assert ready.json()["model_source"] == "memory"
    assert ready.json()["model_file"] == ready.json()["model_error"] == problem
    body = again.json()
    assert (body["mode"], body["model_version"]) == ("ml", trained.version)
    assert body["model_file"] == problem
    assert body["model_file_description"].startswith(
        "Served from this process's memory:"
    )
    assert f"model {trained.version}" in page
    assert f"<code>ml ({problem})</code>" in page
    assert "served from this process&#x27;s memory" in page


def test_the_answer_says_the_file_holds_again_once_it_is_put_back(
    client, trained, model_root
):
    path = model_root / trained.file_path
    good = path.read_bytes()
    client.get("/api/recommendations/?count=1")
    path.unlink()
    assert client.get("/api/recommendations/?count=1").json()["model_file"] == (
        "file_missing"
    )

    path.write_bytes(good)

    assert client.get("/api/recommendations/?count=1").json()["model_file"] == "ok"
    assert client.get("/readyz").json()["model_source"] == "file"


def test_statistical_mode_names_no_model_file(client, model_root, settings):
    settings.RECOMMENDATIONS_USE_ML = False
    store_draws(60)

    body = client.get("/api/recommendations/?count=1").json()

    assert body["mode"] == "statistical"
    assert (body["model_file"], body["model_file_description"]) == (None, None)


def test_a_process_that_never_loaded_the_model_reports_the_missing_file(
    client, trained, model_root
):
    (model_root / trained.file_path).unlink()

    ready = client.get("/readyz").json()

    assert (ready["model"], ready["model_error"]) == ("statistical", "file_missing")
    assert ready["model_file"] == "file_missing"
    assert "model_source" not in ready


def test_the_api_schema_documents_model_file_and_its_codes(client):
    schema = client.get("/api/schema/?format=json").json()["components"]["schemas"]

    output = schema["RecommendationOutput"]
    assert {"model_file", "model_file_description"} <= set(output["required"])
    assert schema["ModelFileEnum"]["enum"] == [
        "ok",
        "file_missing",
        "checksum_mismatch",
        "load_failed",
        "memory_error",
        "storage_unavailable",
    ]
