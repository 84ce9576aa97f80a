"""Single flight across processes: separate Python processes race on one database.

The thread race in test_retraining.py needs a server database: SQLite's
in-memory test database (shared cache) answers a concurrent writer with
"database table is locked" at once instead of waiting. What production runs
on SQLite is several processes (web, Q2 workers, the CLI) on one file with a
busy timeout, so that is what this test runs: three processes, each released
at the same instant, each requesting a retrain on a freshly migrated database
(a SQLite file, or a fresh PostgreSQL database when the suite runs on one).
"""

import json
import subprocess

import pytest

from tests.mlops.processes import (
    PYTHON,
    ROOT,
    FreshDatabase,
    manage,
    subprocess_env,
)

RACER = """
import json, sys, django
django.setup()
from mlops.services.registry.audit import Actor
from mlops.services.training.retrain_requests import RetrainAlreadyRunning, retrain_run_now
print("ready", flush=True)
sys.stdin.readline()  # "go"
try:
    run = retrain_run_now(actor=Actor.cli())
    print(json.dumps({"run": run.pk, "status": run.status}), flush=True)
except RetrainAlreadyRunning as exc:
    print(json.dumps({"refused_by": exc.run.pk}), flush=True)
"""


@pytest.fixture
def fresh_database(tmp_path):
    """Env for subprocesses on a freshly migrated database with the shipped draws."""
    env = subprocess_env(tmp_path, LOG_LEVEL="WARNING")
    database = FreshDatabase(tmp_path, prefix="lotto_race")
    if database.url:
        env["DATABASE_URL"] = database.url
    try:
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "import_draws")
        yield env
    finally:
        database.drop()


@pytest.mark.slow
def test_three_processes_requesting_at_once_run_exactly_one_retrain(fresh_database):
    racers = [
        subprocess.Popen(
            [PYTHON, "-c", RACER],
            cwd=ROOT,
            env=fresh_database,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for racer in racers:
            assert racer.stdout.readline().strip() == "ready"
        for racer in racers:  # released together: every insert races
            racer.stdin.write("go\n")
            racer.stdin.flush()
        outputs = [racer.communicate(timeout=120) for racer in racers]
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()

    results = [json.loads(out.strip().splitlines()[-1]) for out, _err in outputs]
    runs = [result for result in results if "run" in result]
    refusals = [result for result in results if "refused_by" in result]
    assert len(runs) == 1, outputs
    assert runs[0]["status"] == "success"
    assert [refusal["refused_by"] for refusal in refusals] == [runs[0]["run"]] * 2
