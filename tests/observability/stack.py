"""The docker-compose stack's processes, run on this machine without Docker.

`deploy/entrypoint.sh web` and `deploy/entrypoint.sh worker` are what the
containers run; here they run against the local PostgreSQL (a fresh database,
dropped afterwards) and Redis (an empty database number, claimed, flushed after).
Used by tests/observability/test_processes.py and benchmarks/bench_load.py.

Every wait is bounded, and `stop()` ends only the process groups started here.
"""

import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg2
import redis

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
PG_ADMIN_DSN = os.environ.get(
    "STACK_PG_ADMIN_DSN", "dbname=postgres user=postgres host=127.0.0.1 port=5432"
)
REDIS_HOST = "127.0.0.1:6379"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, *, timeout: float = 10.0, headers: dict | None = None):
    """(status, body bytes); HTTP errors are answers too, not exceptions."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def redis_client(db: int) -> redis.Redis:
    host, port = REDIS_HOST.split(":")
    return redis.Redis(host=host, port=int(port), db=db)


# Redis db numbers a stack may use: not 0 (the usual default) and not 15 (CI's
# Q_REDIS_TEST_URL). Concurrent test runs and benchmarks each claim their own.
REDIS_DBS = range(1, 15)
CLAIM_KEY = "lotto-stack:claimed-by"


def claim_redis_db() -> int:
    """An empty Redis db, claimed with a key so that a concurrent stack skips it."""
    token = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    for db in REDIS_DBS:
        client = redis_client(db)
        if client.set(CLAIM_KEY, token, nx=True, ex=3600):
            if client.dbsize() == 1:  # only our claim: nobody else's data here
                return db
            client.delete(CLAIM_KEY)
    raise RuntimeError(f"no empty Redis database among {list(REDIS_DBS)}")


class Stack:
    """A fresh database, a Redis db number, and the web and worker processes."""

    def __init__(self, workdir: Path, *, workers: int = 2, env=None):
        self.workdir = Path(workdir)
        self.database = f"lotto_stack_{os.getpid()}_{secrets.token_hex(3)}"
        self.redis_db = claim_redis_db()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.multiproc_dir = self.workdir / "prometheus"
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST")},
            "DJANGO_SETTINGS_MODULE": "lotto_site.settings",
            "PYTHON": str(PYTHON),
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{self.database}",
            "Q_REDIS_URL": f"redis://{REDIS_HOST}/{self.redis_db}",
            "VAR_DIR": str(self.workdir / "var"),
            "MODEL_ROOT": str(self.workdir / "models"),
            "METRICS_BEARER_TOKEN": "",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_ACCESS_LOG": "",
            "LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        for name in ("PROMETHEUS_MULTIPROC_DIR", "SECURE_SSL_REDIRECT"):
            self.env.pop(name, None)

    # --- resources ---------------------------------------------------------------

    def _admin(self, sql: str) -> None:
        connection = psycopg2.connect(PG_ADMIN_DSN)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    def query(self, sql: str, params=()) -> list[tuple]:
        """Rows from the stack's own database (cheaper than a manage.py shell)."""
        connection = psycopg2.connect(
            dbname=self.database, user="postgres", host="127.0.0.1", port=5432
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            connection.close()

    def create(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._admin(f'CREATE DATABASE "{self.database}"')

    def destroy(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        redis_client(self.redis_db).flushdb()  # the queue, and our claim

    # --- processes ---------------------------------------------------------------

    def _start(self, role: str, extra_env: dict) -> subprocess.Popen:
        log = open(self.workdir / f"{role}.log", "wb")  # the child keeps it open
        process = subprocess.Popen(
            [str(ENTRYPOINT), role],
            cwd=ROOT,
            env={**self.env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends all of it
        )
        self.processes[role] = process
        return process

    def start_web(self) -> None:
        """migrate, import_draws, setup_schedules, gunicorn: as the web container."""
        self._start("web", {"PROMETHEUS_MULTIPROC_DIR": str(self.multiproc_dir)})

    def start_worker(self, *, train_on_start: bool = True) -> None:
        """train_model --if-missing, then qcluster: as the worker container."""
        self._start("worker", {"TRAIN_ON_START": "1" if train_on_start else "0"})

    def manage(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(PYTHON), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def log(self, role: str) -> str:
        path = self.workdir / f"{role}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for(self, condition, *, timeout: float, what: str, interval=0.5):
        """Poll `condition()` until it returns a truthy value; fail after timeout."""
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            for role, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{role} exited with {process.returncode} while waiting for "
                        f"{what}:\n{self.log(role)[-4000:]}"
                    )
            try:
                result = condition()
            except OSError as exc:  # connection refused while starting
                result, last_error = None, exc
            if result:
                return result
            time.sleep(interval)
        raise TimeoutError(f"no {what} after {timeout:.0f} s (last: {last_error})")

    def get(self, path: str, **kwargs):
        return http_get(self.base_url + path, **kwargs)

    def wait_healthy(self, timeout: float = 240) -> None:
        self.wait_for(
            lambda: self.get("/healthz", timeout=2)[0] == 200,
            timeout=timeout,
            what="200 from /healthz",
        )

    def stop(self, timeout: float = 30) -> dict[str, int]:
        """SIGTERM each started process, as `docker stop` does (the leader only:
        gunicorn and qcluster stop their own children); SIGKILL its process
        group after `timeout`."""
        codes = {}
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for role, process in self.processes.items():
            try:
                codes[role] = process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                codes[role] = process.wait(10)
            try:  # a child the leader left behind
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.processes.clear()
        return codes


# How a retrain is queued on the Q2 cluster: through the retraining service,
# which records the RetrainRun (single flight) and then calls
# async_task("mlops.tasks.retrain_task", run_id). force: promote the new model
# even if the gate finds it worse, so the served version is sure to switch.
QUEUE_RETRAIN = (
    "from mlops.services.registry.audit import Actor; "
    "from mlops.services.training.retrain_requests import retrain_request; "
    "run = retrain_request(trigger='manual', actor=Actor.cli(), "
    "options={'force': True, 'reason': '%s'}); print(run.pk)"
)


def queue_retrain(stack: Stack, *, reason: str) -> int:
    """Queue a forced retrain on the stack's cluster; return the run's id."""
    result = stack.manage("shell", "-c", QUEUE_RETRAIN % reason, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"could not queue a retrain:\n{result.stderr}")
    return int(result.stdout.strip().splitlines()[-1])
