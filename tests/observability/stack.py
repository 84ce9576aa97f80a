"""The docker-compose stack's processes, run on this machine without Docker.

`deploy/entrypoint.sh web` and `deploy/entrypoint.sh worker` are what the
containers run; here they run against the local PostgreSQL (a fresh database,
dropped afterwards) and Redis (keys under a claimed cluster name, deleted after;
the database is never flushed: other test runs may be using it).
Used by tests/observability/test_processes.py and the benchmarks (bench_serving.py).

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


def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


# The Redis database a stack uses: never flushed, shared with whoever else uses
# it. The stack's queue, stats and claim all live under its own unique name, and
# destroy() deletes exactly those keys (CI's Q_REDIS_TEST_URL, db 15, by default).
STACK_REDIS_URL = os.environ.get(
    "STACK_REDIS_URL",
    os.environ.get("Q_REDIS_TEST_URL", f"redis://{REDIS_HOST}/15"),
)
CLAIM_PREFIX = "lotto-stack:claimed:"


def claim_redis_namespace(url: str) -> str:
    """A Q2 cluster name no other stack uses, claimed with a marker key."""
    for _ in range(10):
        name = f"lotto_stack_{os.getpid()}_{secrets.token_hex(4)}"
        owner = f"{socket.gethostname()}:{os.getpid()}"
        if redis_client(url).set(CLAIM_PREFIX + name, owner, nx=True, ex=6 * 3600):
            return name
    raise RuntimeError(f"could not claim a stack name in {url}")


def release_redis_namespace(url: str, name: str) -> int:
    """Delete the keys the stack's processes created, and its claim; nothing else.

    Django-Q2 keeps everything of a cluster under `django_q:<cluster name>:`
    (the queue, the stats of each cluster process).
    """
    client = redis_client(url)
    keys = list(client.scan_iter(match=f"django_q:{name}:*", count=500))
    # The default cache (rate-limit counters, kept bodies) shares REDIS_URL.
    keys += client.scan_iter(match=f"{name}:*", count=500)
    keys.append(CLAIM_PREFIX + name)
    return client.delete(*keys)


class Stack:
    """A fresh database, a Redis db number, and the web and worker processes."""

    def __init__(self, workdir: Path, *, workers: int = 2, env=None):
        self.workdir = Path(workdir)
        self.database = f"lotto_stack_{os.getpid()}_{secrets.token_hex(3)}"
        self.redis_url = STACK_REDIS_URL
        self.redis_namespace = claim_redis_namespace(self.redis_url)
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
            "Q_REDIS_URL": self.redis_url,
            "Q_CLUSTER_NAME": self.redis_namespace,
            "CACHE_KEY_PREFIX": self.redis_namespace,
            # The stack measures and tests the service, not the rate limit
            # (tests/api does); the counting still runs on every request.
            "API_THROTTLE_ANON": "1000000/min",
            "API_THROTTLE_USER": "1000000/min",
            "VAR_DIR": str(self.workdir / "var"),
            "MODEL_ROOT": str(self.workdir / "models"),
            "METRICS_BEARER_TOKEN": "",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_ACCESS_LOG": "",
            "LOG_LEVEL": "WARNING",
            "MONITOR_REPLAY_DRAWS": "0",  # no warm-up replay competing for the CPU
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
        # Our queue, stats and claim only: the database may be someone else's too.
        release_redis_namespace(self.redis_url, self.redis_namespace)

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

    def start_web(self, **extra_env: str) -> None:
        """migrate, import_draws, setup_schedules, gunicorn: as the web container
        (`extra_env` added to the environment, e.g. GUNICORN_MAX_REQUESTS)."""
        env = {"PROMETHEUS_MULTIPROC_DIR": str(self.multiproc_dir), **extra_env}
        self._start("web", env)

    def stop_web(self, timeout: float = 30) -> int:
        """SIGTERM the web container's gunicorn, as a redeploy does; its exit code."""
        process = self.processes.pop("web")
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            return process.wait(10)

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
