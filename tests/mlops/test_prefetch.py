"""The prefetch puts the active model in the host's read cache before a request
needs it: with model files on S3 (moto's server, real HTTP), a forecast after a
prefetch sends no GET for the model object; the server's own request log says so.
"""

import time

import pytest
from django.db import transaction
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from mlops.models import ModelVersion
from mlops.services.registry.prefetch import (
    model_prefetch_active,
    model_prefetch_ready,
    model_prefetch_start,
    model_prefetch_stop,
)
from mlops.services.registry.registry import model_version_activate
from mlops.services.training.training import model_version_train
from mlops.storage_backends import get_storage

on_s3 = pytest.mark.parametrize("model_store", ["s3"], indirect=True)


def downloads(context: str) -> float:
    return REGISTRY.get_sample_value("ml_model_downloads_total", {"context": context})


def model_gets(s3_server, mark: int, version: ModelVersion) -> list[str]:
    """GET requests for the version's object since `mark` (HEADs are not reads)."""
    return s3_server.request_log.since(
        mark, method="GET", path_suffix=f"/{version.file_path}"
    )


def recommend(client: APIClient) -> dict:
    response = client.get("/api/recommendations/?count=1", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def cold_host(model_store, trained, fresh_forecast_cache):
    """The active model on S3, and a host whose read cache is empty."""
    cache = get_storage().cache_path(trained.sha256)
    cache.unlink(missing_ok=True)
    return trained


@on_s3
def test_after_a_prefetch_a_forecast_sends_no_get_for_the_model_object(
    cold_host, s3_server
):
    before = downloads("request"), downloads("prefetch")
    assert model_prefetch_active() == cold_host.sha256
    assert downloads("prefetch") == before[1] + 1

    mark = s3_server.request_log.mark()
    answer = recommend(APIClient())

    assert answer["model_version"] == cold_host.version
    assert model_gets(s3_server, mark, cold_host) == []
    assert downloads("request") == before[0]


@on_s3
def test_without_a_prefetch_the_first_forecast_downloads_inside_the_request(
    cold_host, s3_server
):
    before = downloads("request")
    mark = s3_server.request_log.mark()
    answer = recommend(APIClient())

    assert answer["model_version"] == cold_host.version
    assert len(model_gets(s3_server, mark, cold_host)) == 1
    assert downloads("request") == before + 1


@on_s3
def test_a_second_prefetch_of_a_cached_model_downloads_nothing(cold_host, s3_server):
    model_prefetch_active()
    mark = s3_server.request_log.mark()
    assert model_prefetch_active() == cold_host.sha256
    assert model_gets(s3_server, mark, cold_host) == []


def test_on_the_local_disk_there_is_nothing_to_prefetch(trained):
    assert model_prefetch_active() is None
    assert model_prefetch_start() is False
    assert model_prefetch_ready(trained.sha256)


@pytest.fixture
def prefetching():
    yield model_prefetch_start
    model_prefetch_stop()


@on_s3
@pytest.mark.django_db(transaction=True)
def test_requests_keep_the_held_model_until_the_prefetch_has_the_new_one(
    cold_host, s3_server, settings, prefetching
):
    """A new activation: the request path never downloads; the thread does."""
    settings.ML_PREFETCH_SECONDS = 60  # only woken: by the request or the signal
    assert prefetching() is True  # the active model, fetched before any request
    client = APIClient()
    assert recommend(client)["model_version"] == cold_host.version
    before = downloads("request"), downloads("prefetch")

    # Another host's retrain: the version registered, then made active in the
    # database. This process hears no signal: it learns of it from PostgreSQL.
    newer = model_version_train(params={"n_estimators": 7}, activate=False)
    assert newer.sha256 != cold_host.sha256
    with transaction.atomic():
        ModelVersion.objects.filter(pk=cold_host.pk).update(
            state=ModelVersion.State.ARCHIVED
        )
        ModelVersion.objects.filter(pk=newer.pk).update(state=ModelVersion.State.ACTIVE)
    served = []
    deadline = time.monotonic() + 30
    while newer.version not in served and time.monotonic() < deadline:
        served.append(recommend(client)["model_version"])
        time.sleep(0.05)

    assert newer.version in served
    assert set(served) == {cold_host.version, newer.version}  # held, then the new
    assert downloads("request") == before[0]
    assert downloads("prefetch") == before[1] + 1
    assert get_storage().cache_path(newer.sha256).is_file()

    # A rollback in this process: the signal wakes the prefetch, nothing to fetch
    # (the old version is still cached), and requests follow.
    model_version_activate(version=ModelVersion.objects.get(pk=cold_host.pk))
    deadline = time.monotonic() + 30
    while recommend(client)["model_version"] != cold_host.version:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert downloads("request") == before[0]
