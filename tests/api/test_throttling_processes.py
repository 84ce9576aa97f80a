"""Two gunicorn workers enforce one rate limit: the counters live in Redis.

gunicorn runs deploy/gunicorn.conf.py with 2 workers on a free 127.0.0.1 port,
the default cache on Redis (API_REDIS_TEST_URL, db 9 by default) under a key
prefix of its own, deleted afterwards. /api/ping/ needs no database, so no
migration is needed either.
"""

import concurrent.futures
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import redis
from prometheus_client.multiprocess import MultiProcessCollector

from tests.dependencies import missing_dependency
from tests.mlops.processes import PYTHON, ROOT, subprocess_env
from tests.observability.stack import free_port, http_get

pytestmark = pytest.mark.slow

REDIS_TEST_URL = os.environ.get("API_REDIS_TEST_URL", "redis://127.0.0.1:6379/9")
ALLOWED = 20
REQUESTS = 80


@pytest.fixture
def gunicorn(tmp_path):
    """gunicorn with 2 workers and the cache on Redis; yields (url, prom dir)."""
    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        missing_dependency(f"no Redis at {REDIS_TEST_URL}")
    prefix = f"test-gunicorn-{uuid.uuid4().hex[:8]}"
    port = free_port()
    prom_dir = tmp_path / "prometheus"
    env = subprocess_env(
        tmp_path,
        REDIS_URL=REDIS_TEST_URL,
        CACHE_KEY_PREFIX=prefix,
        Q_CLUSTER_NAME=prefix,
        # Per day: a window boundary can't fall inside the test (unless run
        # at midnight UTC, when a second window would show as 2 x ALLOWED).
        API_THROTTLE_ANON=f"{ALLOWED}/day",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        GUNICORN_ACCESS_LOG="",
        PROMETHEUS_MULTIPROC_DIR=str(prom_dir),
        ALLOWED_HOSTS="127.0.0.1",
    )
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - the child keeps it
    process = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"]
        + ["lotto_site.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, url, tmp_path / "gunicorn.log")
        yield url, prom_dir
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        log.close()
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)


def wait_until_up(process, url: str, log_path: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log_path.read_text()[-3000:]}")
        try:
            if http_get(url + "/healthz", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"gunicorn did not answer:\n{log_path.read_text()[-3000:]}")


def ping_counts_by_worker(prom_dir: Path) -> dict[str, float]:
    """/api/ping/ answers per gunicorn worker (pid), from its metrics file."""
    found = {}
    for path in prom_dir.glob("counter_*.db"):
        for family in MultiProcessCollector.merge([str(path)]):
            for item in family.samples:
                if (
                    item.name == "http_requests_total"
                    and item.labels.get("route") == "/api/ping/"
                ):
                    pid = path.stem.split("_")[1]
                    found[pid] = found.get(pid, 0) + item.value
    return found


def test_two_gunicorn_workers_enforce_one_limit(gunicorn):
    url, prom_dir = gunicorn

    # Many connections at once, so that both workers take requests; on a quiet
    # machine one worker may take a whole batch, so send batches until both have
    # answered (the limit is per day: every batch counts against the same one).
    statuses, batches = [], 0
    while batches < 5:
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(
                pool.map(lambda _: http_get(url + "/api/ping/"), range(REQUESTS))
            )
        statuses += [status for status, _ in answers]
        batches += 1
        served_by = ping_counts_by_worker(prom_dir)
        if len(served_by) == 2:
            break

    assert statuses.count(200) == ALLOWED, statuses
    assert statuses.count(429) == batches * REQUESTS - ALLOWED, statuses
    assert len(served_by) == 2, served_by  # both workers answered
    assert sum(served_by.values()) == batches * REQUESTS
