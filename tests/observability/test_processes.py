"""The compose stack's processes on PostgreSQL and Redis: gunicorn (2 workers)
and the Q2 cluster, started by deploy/entrypoint.sh exactly as the containers
start them. Slow (about a minute): migrations, the draw import, two trainings.
"""

import concurrent.futures
import json
from pathlib import Path

import psycopg2
import pytest
import redis
from prometheus_client.multiprocess import MultiProcessCollector

from tests.dependencies import missing_dependency
from tests.observability.helpers import parse_metrics, sample
from tests.observability.stack import Stack, queue_retrain

pytestmark = pytest.mark.slow

FAST_TRAINING = {"ML_N_ESTIMATORS": "10", "ML_N_JOBS": "1", "Q_WORKERS": "1"}
LATEST = {"method": "GET", "route": "/api/draws/latest/", "status": "200"}


@pytest.fixture
def make_stack(tmp_path):
    """make_stack(env) -> a created Stack; stopped and dropped after the test."""
    stacks = []

    def make(env: dict) -> Stack:
        try:
            stack = Stack(tmp_path / f"stack{len(stacks)}", env=env)
            stack.create()
        except (psycopg2.OperationalError, redis.ConnectionError) as exc:
            missing_dependency(f"needs PostgreSQL and Redis on 127.0.0.1: {exc}")
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        try:
            stack.stop()  # a no-op when the test stopped it already
        finally:
            stack.destroy()


def scrape(stack: Stack) -> dict:
    status, body = stack.get("/metrics")
    assert status == 200, body[:500]
    return parse_metrics(body.decode())


def readiness(stack: Stack) -> dict:
    return json.loads(stack.get("/readyz")[1])


def counts_by_worker(multiproc_dir: Path, **labels) -> dict[str, float]:
    """http_requests_total with these labels, per worker's counter file."""
    found = {}
    for path in multiproc_dir.glob("counter_*.db"):
        for family in MultiProcessCollector.merge([str(path)]):
            for item in family.samples:
                if item.name == "http_requests_total" and item.labels == labels:
                    found[path.stem.split("_")[1]] = item.value
    return found


def test_the_compose_processes_serve_recommendations_and_metrics(make_stack):
    stack = make_stack(FAST_TRAINING)
    stack.start_web()
    stack.wait_healthy()
    status, body = stack.get("/readyz")
    assert status == 200, body
    assert json.loads(body)["database"] == "ok"

    stack.start_worker()  # trains the first model, then runs qcluster
    stack.wait_for(
        lambda: readiness(stack).get("model") == "ml", timeout=300, what="ml mode"
    )
    first_version = readiness(stack)["model_version"]

    status, body = stack.get("/api/recommendations/?count=5")
    assert status == 200, body[:500]
    recommendation = json.loads(body)
    assert len(recommendation["games"]) == 5
    assert recommendation["mode"] == "ml"

    # Many fresh connections, so both workers answer some of them.
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: stack.get("/api/draws/latest/")[0], range(60))
        )
    assert answers == [200] * 60
    samples = scrape(stack)
    assert sample(samples, "http_requests_total", **LATEST) == 60
    per_worker = counts_by_worker(stack.multiproc_dir, **LATEST)
    assert len(per_worker) == 2, per_worker
    assert sum(per_worker.values()) == 60
    assert sample(samples, "ml_recommendations_served_total", mode="ml") >= 1
    assert sample(samples, "ml_inference_time_seconds_count") >= 1
    assert sample(samples, "ml_draws_stored") == readiness(stack)["draws_stored"] > 0

    # The Q2 cluster retrains; the web server's /metrics reads the result.
    queue_retrain(stack, reason="process test")
    stack.wait_for(
        lambda: (
            sample(
                scrape(stack), "ml_retrains_total", trigger="manual", status="success"
            )
            == 1
        ),
        timeout=300,
        what="a successful retrain in /metrics",
    )
    samples = scrape(stack)
    (new_version,) = [
        dict(labels)["version"]
        for name, labels in samples
        if name == "ml_active_model_info"
    ]
    assert new_version != first_version
    assert sample(samples, "ml_retrain_last_status", status="success") == 1
    assert sample(samples, "ml_model_age_seconds") < 300
    stack.wait_for(
        lambda: readiness(stack).get("model_version") == new_version,
        timeout=120,
        what="/readyz on the new model",
    )

    codes = stack.stop()
    assert codes == {"web": 0, "worker": 0}, (
        stack.log("web")[-2000:],
        stack.log("worker")[-2000:],
    )


def test_counts_survive_workers_that_gunicorn_replaces(make_stack):
    """max_requests recycles workers; their counts stay in the merged total."""
    stack = make_stack({"GUNICORN_MAX_REQUESTS": "15"})
    stack.start_web()
    stack.wait_healthy()
    # While both workers are replaced at once a request waits for a new one to
    # boot: seconds on a loaded machine, so wait longer than stack.get's 10 s.
    answers = [stack.get("/api/draws/latest/", timeout=60)[0] for _ in range(100)]
    assert answers == [200] * 100
    samples = scrape(stack)
    assert sample(samples, "http_requests_total", **LATEST) == 100
    by_worker = counts_by_worker(stack.multiproc_dir, **LATEST)
    # Recycled workers' files are folded into the archive when they exit
    # (mlops/observability/multiproc_archive.py): their counts live on there.
    assert by_worker.get("archive", 0) > 0, by_worker
    assert sum(by_worker.values()) == 100
    assert stack.stop() == {"web": 0}
