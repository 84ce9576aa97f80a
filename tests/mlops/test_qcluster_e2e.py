"""A real `manage.py qcluster` fires the weekly retrain schedule, end to end.

Fresh database (a SQLite file, or a fresh PostgreSQL database when the suite
runs on one) migrated with the real migrations, the shipped draws imported,
`setup_schedules` run, then the weekly retrain's next_run moved to "now".
django-q2's guard loop calls the scheduler every ~30 s, so the run appears
about 30 s after the cluster starts; every wait is bounded and the cluster's
whole process group is killed in a finally.
"""

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.dependencies import missing_dependency
from tests.mlops.processes import (
    PYTHON,
    ROOT,
    FreshDatabase,
    manage,
    subprocess_env,
)

DEADLINE_SECONDS = 75

MAKE_DUE = """
import datetime as dt
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule
from mlops.services.training.scheduling import RETRAIN_SCHEDULE
call_command("import_draws")
call_command("setup_schedules")
# Only the retrain is due: the draw sync would go to the network.
Schedule.objects.exclude(name=RETRAIN_SCHEDULE).update(
    next_run=timezone.now() + dt.timedelta(days=30)
)
Schedule.objects.filter(name=RETRAIN_SCHEDULE).update(
    next_run=timezone.now() - dt.timedelta(seconds=1)
)
"""

RUNS_SQL = (
    "SELECT r.id, r.trigger, r.status, r.promoted, v.version, v.state, r.error_message "
    "FROM mlops_retrainrun r LEFT JOIN mlops_modelversion v "
    "ON v.id = r.model_version_id ORDER BY r.id"
)


def redis_url() -> str | None:
    url = os.environ.get("Q_REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
    try:
        import redis

        redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:
        return None
    return url


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the cluster (it stops its workers), then SIGKILL what is left."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=8)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # workers that outlived the master
    except ProcessLookupError:
        pass
    process.wait(timeout=5)


@pytest.mark.slow
@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_a_real_qcluster_fires_the_weekly_retrain_schedule(broker, tmp_path):
    env = subprocess_env(tmp_path)
    if broker == "redis":
        url = redis_url()
        if url is None:
            missing_dependency("no Redis at Q_REDIS_TEST_URL")
        env["Q_REDIS_URL"] = url
        # Its own queue: another cluster on this Redis must not take our tasks.
        env["Q_CLUSTER_NAME"] = f"lotto_e2e_{uuid.uuid4().hex[:8]}"
    database = FreshDatabase(tmp_path, prefix="lotto_e2e")
    if database.url:
        env["DATABASE_URL"] = database.url
    try:
        runs, status, cluster_log = run_cluster_until_a_run_ends(env, database)
    finally:
        database.drop()

    assert runs, f"no retrain run within {DEADLINE_SECONDS} s:\n{cluster_log[-3000:]}"
    assert len(runs) == 1
    _id, trigger, run_status, promoted, version, state, error = runs[0]
    assert (trigger, run_status) == ("scheduled", "success"), error
    assert promoted in (True, 1)
    assert state == "active"
    assert "created task" in cluster_log  # django-q2's scheduler fired it
    assert status["cluster"]["alive"] is True, status["cluster"]
    assert status["last_run"]["model_version"] == version
    assert status["next_retrain"]["overdue"] is False
    assert status["next_retrain"]["kst"].endswith("T00:00:00+09:00")
    metadata = json.loads(
        (tmp_path / "models" / "metadata" / "retrain_metadata.json").read_text()
    )
    assert (metadata["status"], metadata["model_version"]) == ("success", version)


def run_cluster_until_a_run_ends(env: dict, database: FreshDatabase):
    """Prepare the database, run qcluster until a retrain run ends (or time out)."""
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "shell", "-c", MAKE_DUE)
    log_path = Path(env["VAR_DIR"]) / "qcluster.log"
    with log_path.open("w") as log:
        cluster = subprocess.Popen(
            [PYTHON, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: we kill all of it
        )
    try:
        started, runs = time.monotonic(), []
        while time.monotonic() - started < DEADLINE_SECONDS:
            assert cluster.poll() is None, log_path.read_text()[-3000:]
            runs = database.query(RUNS_SQL)
            if runs and runs[-1][2] in ("success", "failed", "skipped"):
                break
            time.sleep(0.5)
        # While the cluster runs, another process sees its heartbeat.
        status = json.loads(manage(env, "scheduler_status", "--json"))
    finally:
        stop(cluster)
    return runs, status, log_path.read_text()
