"""PostgreSQL down: the API answers a JSON 503, never an HTML 500.

A real gunicorn whose DATABASE_URL points at a port nothing listens on (the
shared PostgreSQL keeps running: other test runs use it). A qcluster started
that way stops promptly on SIGTERM.
"""

import json
import os
import secrets
import signal
import subprocess
import time

import pytest
import redis

from tests.dependencies import missing_dependency
from tests.live_server import LiveServer
from tests.mlops.processes import PYTHON, ROOT, subprocess_env
from tests.observability.stack import STACK_REDIS_URL, free_port, redis_client

pytestmark = pytest.mark.slow

# Each door of the API that reads the database; a token header makes the staff
# ones reach authentication (a database read) too.
PATHS = [
    ("/api/recommendations/", {}),
    ("/api/draws/", {}),
    ("/api/draws/latest/", {}),
    ("/api/admin/scheduler-status", {"Authorization": "Token " + "0" * 40}),
    ("/api/admin/retrain-runs/", {"Authorization": "Token " + "0" * 40}),
]


@pytest.fixture
def env_without_database(tmp_path):
    closed = free_port()  # bound, then released: nothing listens there
    env = subprocess_env(
        tmp_path,
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="ERROR",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed}/lotto_nowhere",
        DB_CONN_MAX_AGE="0",
    )
    env.pop("REDIS_URL", None)
    return env


def test_the_api_answers_a_json_503_when_postgresql_is_down(
    tmp_path, env_without_database
):
    server = LiveServer(tmp_path, env_without_database, workers=1)
    server.start()  # /healthz needs no database
    try:
        for path, headers in PATHS:
            status, response_headers, body = server.get(path, headers=headers)
            assert status == 503, (path, status, body[:300])
            assert response_headers["Content-Type"].startswith("application/json")
            assert json.loads(body)["code"] == "database_unavailable", path
        readiness = server.get("/readyz")
        assert readiness[0] == 503
    finally:
        server.stop()


@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_a_qcluster_started_with_postgresql_down_stops_promptly_on_sigterm(
    tmp_path, env_without_database, broker
):
    env = dict(env_without_database)
    if broker == "redis":
        name = f"lotto_dbdown_{os.getpid()}_{secrets.token_hex(3)}"
        client = redis_client(STACK_REDIS_URL)
        try:
            client.ping()
        except redis.ConnectionError as exc:
            missing_dependency(f"needs Redis on 127.0.0.1: {exc}")
        env.update(REDIS_URL=STACK_REDIS_URL, Q_CLUSTER_NAME=name)
    try:
        stop_qcluster_after_start(tmp_path, env)
    finally:
        if broker == "redis":
            keys = list(client.scan_iter(match=f"django_q:{name}:*"))
            if keys:
                client.delete(*keys)  # only what this cluster wrote


def stop_qcluster_after_start(tmp_path, env):
    log = open(tmp_path / "qcluster.log", "wb")  # the child keeps it open
    process = subprocess.Popen(
        [str(PYTHON), "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        time.sleep(8)  # past start-up: its processes now retry the database
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            pytest.fail(
                "qcluster still running 30 s after SIGTERM:\n"
                + (tmp_path / "qcluster.log").read_text(errors="replace")[-3000:]
            )
        assert time.monotonic() - started < 30
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # workers the master left
        except ProcessLookupError:
            pass
