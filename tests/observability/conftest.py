"""Fixtures for the observability tests: /metrics read back as numbers."""

import pytest

from tests.observability.helpers import parse_metrics


@pytest.fixture(autouse=True)
def _single_process_metrics(monkeypatch):
    # These tests read this process's REGISTRY; a multiprocess dir inherited from
    # the environment would send /metrics to other processes' files instead.
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)


@pytest.fixture
def scrape(client):
    """GET /metrics from 127.0.0.1 and return its samples, asserting a 200."""

    def _scrape(**headers):
        response = client.get("/metrics", **headers)
        assert response.status_code == 200, response.content[:500]
        return parse_metrics(response.content.decode())

    return _scrape
