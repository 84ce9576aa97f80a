"""The docker-compose stack's processes, run on this machine without Docker.

`deploy/entrypoint.sh web` and `deploy/entrypoint.sh worker` are what the
containers run; here they run against the local PostgreSQL (a fresh database,
dropped afterwards) and Redis (keys under a claimed cluster name, deleted after;
the database is never flushed: other test runs may be using it).
Used by tests/observability/test_processes.py and the benchmarks (bench_serving.py); built
on tests/harness.py, as the scale-out hosts (tests/scaleout/hosts.py) are.

Every wait is bounded, and `stop()` ends only the process groups started here.
"""

import os
import secrets
import signal
import subprocess
from pathlib import Path

from tests.harness import (
    CLAIM_PREFIX,
    PG_ADMIN_DSN,
    PYTHON,
    ROOT,
    Database,
    Processes,
    claim_redis_namespace,
    free_port,
    http_get,
    manage,
    queue_retrain_code,
    queued_run_id,
    redis_client,
    release_redis_namespace,
)

# Re-exported: tests and benchmarks import these from here.
__all__ = [
    "CLAIM_PREFIX",
    "PG_ADMIN_DSN",
    "STACK_REDIS_URL",
    "Stack",
    "claim_redis_namespace",
    "free_port",
    "http_get",
    "queue_retrain",
    "redis_client",
    "release_redis_namespace",
]

ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
REDIS_HOST = "127.0.0.1:6379"

# The Redis database a stack uses: never flushed, shared with whoever else uses
# it. The stack's queue, stats and claim all live under its own unique name, and
# destroy() deletes exactly those keys (CI's Q_REDIS_TEST_URL, db 15, by default).
STACK_REDIS_URL = os.environ.get(
    "STACK_REDIS_URL",
    os.environ.get("Q_REDIS_TEST_URL", f"redis://{REDIS_HOST}/15"),
)


class Stack:
    """A fresh database, a Redis db number, and the web and worker processes."""

    def __init__(self, workdir: Path, *, workers: int = 2, env=None):
        self.workdir = Path(workdir)
        self._database = Database("lotto_stack")
        self.database = self._database.name
        self.redis_url = STACK_REDIS_URL
        self.redis_namespace = claim_redis_namespace(self.redis_url)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.multiproc_dir = self.workdir / "prometheus"
        self._processes = Processes(self.workdir)
        self.processes = self._processes.started  # role -> Popen
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST")},
            "DJANGO_SETTINGS_MODULE": "lotto_site.settings",
            "PYTHON": str(PYTHON),
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": self._database.url,
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

    def query(self, sql: str, params=()) -> list[tuple]:
        """Rows from the stack's own database (cheaper than a manage.py shell)."""
        return self._database.query(sql, params)

    def create(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._database.create()

    def destroy(self) -> None:
        self._database.drop()
        # Our queue, stats and claim only: the database may be someone else's too.
        release_redis_namespace(self.redis_url, self.redis_namespace)

    # --- processes ---------------------------------------------------------------

    def _start(self, role: str, extra_env: dict):
        # A session of its own per role, as before the harness was shared.
        return self._processes.start(
            role,
            [str(ENTRYPOINT), role],
            {**self.env, **extra_env},
            own_session=True,
        )

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

    def manage(self, *args: str, timeout: float = 300):
        return manage(self.env, *args, timeout=timeout)

    def log(self, role: str) -> str:
        return self._processes.log(role)

    def wait_for(self, condition, *, timeout: float, what: str, interval=0.5):
        """Poll `condition()` until it returns a truthy value; fail after timeout."""
        return self._processes.wait_for(
            condition, timeout=timeout, what=what, interval=interval
        )

    def get(self, path: str, **kwargs):
        return http_get(self.base_url + path, **kwargs)

    def wait_healthy(self, timeout: float = 240) -> None:
        self.wait_for(
            lambda: self.get("/healthz", timeout=2)[0] == 200,
            timeout=timeout,
            what="200 from /healthz",
        )

    def stop(self, timeout: float = 30) -> dict[str, int]:
        """SIGTERM each started process, as `docker stop` does; SIGKILL its
        process group after `timeout`. The exit codes by role."""
        return self._processes.stop(timeout)


def queue_retrain(stack: Stack, *, reason: str) -> int:
    """Queue a forced retrain on the stack's cluster; return the run's id."""
    code = queue_retrain_code(reason=reason)
    return queued_run_id(stack.manage("shell", "-c", code, timeout=120))
