"""Running the service's real processes from a test or a benchmark.

One harness for every process-level test: `tests/observability/stack.py` (the
docker-compose stack: `deploy/entrypoint.sh web|worker`) and
`tests/scaleout/hosts.py` (hosts that share no disk) both build on it:

- `Database`: a fresh PostgreSQL database, dropped afterwards;
- a claimed namespace in a shared Redis db (`claim_redis_namespace`): the
  processes' queue, stats and cache keys live under it, and only those are
  deleted (`release_redis_namespace`); the db is never flushed;
- `Processes`: process groups started here, each with its log file; bounded
  waits that fail early when a process dies; `stop()` ends only what it started;
- `QUEUE_RETRAIN`: a forced retrain queued through the retraining service.
"""

import json
import os
import re
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

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
PG_ADMIN_DSN = os.environ.get(
    "STACK_PG_ADMIN_DSN", "dbname=postgres user=postgres host=127.0.0.1 port=5432"
)
CLAIM_PREFIX = "lotto-stack:claimed:"


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


class Database:
    """A fresh PostgreSQL database named `<prefix>_<pid>_<random>`."""

    def __init__(self, prefix: str):
        self.name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
        self.url = f"postgres://postgres@127.0.0.1:5432/{self.name}"

    @staticmethod
    def _admin(sql: str) -> None:
        connection = psycopg2.connect(PG_ADMIN_DSN)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    def create(self) -> None:
        self._admin(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def query(self, sql: str, params=()) -> list[tuple]:
        """Rows from the database (cheaper than a manage.py shell)."""
        connection = psycopg2.connect(
            dbname=self.name, user="postgres", host="127.0.0.1", port=5432
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            connection.close()


class Processes:
    """Process groups started from here, by name, each logging to <name>.log."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.started: dict[str, subprocess.Popen] = {}
        self.killed: set[str] = set()  # ended on purpose: not a failure

    def start(
        self, name: str, args: list[str], env: dict, *, own_session: bool = False
    ) -> subprocess.Popen:
        """Start `args` in a process group of its own (stop() ends all of it).

        own_session=False keeps it in this session: with the kernel's autogroup
        scheduling each session gets an equal CPU share, so on a busy machine a
        process in a session of its own gets more CPU than its peers.
        """
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.workdir / f"{name}.log", "wb") as log:  # the child keeps its own
            popen = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                **(
                    {"start_new_session": True} if own_session else {"process_group": 0}
                ),
            )
        self.started[name] = popen
        return popen

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for(self, condition, *, timeout: float, what: str, interval=0.2):
        """Poll `condition()` until it returns a truthy value; fail after timeout,
        or at once when a started process exits (unless killed on purpose)."""
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            for name, popen in self.started.items():
                if popen.poll() is not None and name not in self.killed:
                    raise RuntimeError(
                        f"{name} exited with {popen.returncode} while waiting for "
                        f"{what}:\n{self.log(name)[-4000:]}"
                    )
            try:
                result = condition()
            except OSError as exc:  # connection refused while starting
                result, last_error = None, exc
            if result:
                return result
            time.sleep(interval)
        raise TimeoutError(f"no {what} after {timeout:.0f} s (last: {last_error})")

    def kill(self, name: str) -> None:
        """SIGKILL one process group: the machine went away."""
        self.killed.add(name)
        os.killpg(self.started[name].pid, signal.SIGKILL)
        self.started[name].wait(10)

    def stop(self, timeout: float = 30) -> dict[str, int]:
        """SIGTERM each leader, as `docker stop` does (gunicorn and qcluster stop
        their own children); SIGKILL its process group after `timeout`."""
        codes = {}
        for popen in self.started.values():
            if popen.poll() is None:
                popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name, popen in self.started.items():
            try:
                codes[name] = popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(popen.pid, signal.SIGKILL)
                codes[name] = popen.wait(10)
            try:  # a child the leader left behind
                os.killpg(popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.started.clear()
        self.killed.clear()
        return codes


def manage(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`manage.py <args>` in `env`, its output captured."""
    return subprocess.run(
        [str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# How a retrain is queued on the Q2 cluster: through the retraining service,
# which records the RetrainRun (single flight) and then calls
# async_task("mlops.tasks.retrain_task", run_id). force: promote the new model
# even if the gate finds it worse, so the served version is sure to switch.
# A seed of its own makes the new model's bytes (and sha256) differ too: the
# same data and parameters give the same bytes, which no host would download.
QUEUE_RETRAIN = (
    "from mlops.services.registry.audit import Actor; "
    "from mlops.services.training.retrain_requests import retrain_request; "
    "run = retrain_request(trigger='manual', actor=Actor.cli(), "
    "options={{'force': True, 'reason': {reason!r}{params}}}); print(run.pk)"
)


def queue_retrain_code(*, reason: str, seed: int | None = None) -> str:
    """The `manage.py shell -c` code that queues a forced retrain."""
    params = "" if seed is None else f", 'params': {{'seed': {int(seed)}}}"
    return QUEUE_RETRAIN.format(reason=reason, params=params)


def queued_run_id(result: subprocess.CompletedProcess) -> int:
    if result.returncode != 0:
        raise RuntimeError(f"could not queue a retrain:\n{result.stderr}")
    return int(result.stdout.strip().splitlines()[-1])


# --- wrk ----------------------------------------------------------------------------

# wrk calls done() once at the end; print one parseable line. Tests (the two-host
# load) and benchmarks (benchmarks/wrkrun.py) read wrk through this one report.
WRK_REPORT_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_JSON {\"requests\": %d, \"duration_us\": %d, \"connect\": %d, " ..
    "\"read\": %d, \"write\": %d, \"status\": %d, \"timeout\": %d, " ..
    "\"p50_us\": %d, \"p90_us\": %d, \"p99_us\": %d, \"max_us\": %d}\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
"""
WRK_ERRORS = ("connect", "read", "write", "status", "timeout")


def wrk_report(stdout: str, stderr: str, returncode: int) -> dict:
    """wrk's figures from its WRK_JSON line: requests, latency in ms, errors.

    `errors` counts wrk's socket errors and every answer that is not 2xx/3xx.
    """
    match = re.search(r"^WRK_JSON (\{.*\})$", stdout, re.MULTILINE)
    if returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed:\n{stdout}\n{stderr}")
    raw = json.loads(match.group(1))
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "seconds": seconds,
        "requests_per_second": raw["requests"] / seconds,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "errors": sum(raw[k] for k in WRK_ERRORS),
        "error_detail": {k: raw[k] for k in WRK_ERRORS},
    }
