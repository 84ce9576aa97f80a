"""What GET /metrics returns: one registry per scrape, in the format asked for."""

import os

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from .collectors import DatabaseCollector


def multiprocess_enabled() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def scrape_registry() -> CollectorRegistry:
    """Everything /metrics shows, gathered fresh for one scrape.

    Multiprocess mode (gunicorn): the merged files of every web worker, living or
    dead; the global REGISTRY would only hold this worker's share. Otherwise this
    process's REGISTRY, which also carries the process and platform collectors.
    The database collector comes first, so an error it counts shows in this scrape.
    """
    registry = CollectorRegistry()
    registry.register(DatabaseCollector())
    if multiprocess_enabled():
        MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)  # a registry is itself a collector
    return registry


def metrics_render(*, accept: str | None) -> tuple[bytes, str]:
    """The exposition body and its content type (OpenMetrics if asked for)."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(scrape_registry()), content_type
