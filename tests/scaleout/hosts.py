"""Several "hosts" on this machine that share no disk: gunicorn web hosts and a
qcluster worker, each with its own empty VAR_DIR and MODEL_ROOT, coordinating
only through PostgreSQL, Redis and an S3 endpoint.

Used by tests/scaleout/test_two_hosts.py and benchmarks/bench_scaleout.py.
Every wait is bounded; `stop()` ends only the process groups started here.
"""

import datetime as dt
import json
import os
import secrets
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness import (
    PYTHON,
    WRK_REPORT_LUA,
    Database,
    Processes,
    claim_redis_namespace,
    free_port,
    http_get,
    manage,
    queue_retrain_code,
    queued_run_id,
    release_redis_namespace,
    wrk_report,
)

__all__ = ["Cluster", "Load", "VersionPoller", "Wrk", "free_port", "seconds_after"]

# This engineer's Redis db (TEAM.md). Never flushed: the cluster's queue, stats
# and cache keys live under its own claimed name, and destroy() deletes those.
REDIS_URL = os.environ.get("SCALEOUT_REDIS_URL", "redis://127.0.0.1:6379/12")
RECOMMENDATIONS = "/api/recommendations/?count=5"


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path
    port: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, **kwargs):
        return http_get(self.base_url + path, **kwargs)


@dataclass
class Cluster:
    """A database, a Redis db, S3 buckets; web hosts and a worker on them."""

    workdir: Path
    s3_env: dict  # AWS_S3_ENDPOINT_URL and credentials
    models_url: str  # s3://bucket/prefix
    backups_url: str
    extra_env: dict = field(default_factory=dict)
    processes: dict = field(default_factory=dict)

    def __post_init__(self):
        self.workdir = Path(self.workdir)
        self._database = Database("lotto_scaleout")
        self.database = self._database.name
        self._processes = Processes(self.workdir)
        self.redis_namespace = None
        self.retrains = 0
        self.secret_key = secrets.token_urlsafe(50)

    # --- resources ---------------------------------------------------------------

    def query(self, sql: str, params=()) -> list[tuple]:
        return self._database.query(sql, params)

    def create(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.redis_namespace = claim_redis_namespace(REDIS_URL)
        self._database.create()

    def destroy(self) -> None:
        self._database.drop()
        if self.redis_namespace is not None:
            release_redis_namespace(REDIS_URL, self.redis_namespace)

    def env(self, host: str) -> dict:
        """The environment of one host: shared servers, its own empty disk."""
        home = self.workdir / host
        env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("PYTEST", "DJANGO_", "Q_", "AWS_", "MODEL_"))
                and k not in {"DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR"}
            },
            "DJANGO_SETTINGS_MODULE": "lotto_site.settings",
            "DEBUG": "0",
            "SECRET_KEY": self.secret_key,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": self._database.url,
            "REDIS_URL": REDIS_URL,
            "Q_CLUSTER_NAME": self.redis_namespace,
            "CACHE_KEY_PREFIX": self.redis_namespace,
            "MODEL_STORAGE_URL": self.models_url,
            "MODEL_BACKUP_STORAGE_URL": self.backups_url,
            "VAR_DIR": str(home / "var"),
            "MODEL_ROOT": str(home / "models"),  # stays empty: the models are in S3
            "PROMETHEUS_MULTIPROC_DIR": str(home / "prometheus"),
            "METRICS_BEARER_TOKEN": "",
            "GUNICORN_ACCESS_LOG": "",
            "LOG_LEVEL": "WARNING",
            "ML_N_JOBS": "1",
            "SECURE_SSL_REDIRECT": "0",
            # All the load comes from one address: the per-client rate limit
            # (shared through Redis) is not what is measured here.
            "API_THROTTLE_ANON": "10000000/min",
            "API_THROTTLE_USER": "10000000/min",
            **self.s3_env,
            **self.extra_env,
        }
        return env

    # --- processes ---------------------------------------------------------------

    def manage(self, host: str, *args: str, timeout: float = 300):
        return manage(self.env(host), *args, timeout=timeout)

    def must(self, host: str, *args: str, timeout: float = 300) -> str:
        done = self.manage(host, *args, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} on {host} failed:\n"
                f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
            )
        return done.stdout

    def _start(self, name: str, args: list[str], env: dict, port=None) -> Process:
        (self.workdir / name).mkdir(parents=True, exist_ok=True)
        popen = self._processes.start(name, args, env)  # in this session
        process = Process(name, popen, self.workdir / f"{name}.log", port)
        self.processes[name] = process
        return process

    def start_web(self, name: str, *, workers: int = 1) -> Process:
        """gunicorn with `workers` workers (deploy/gunicorn.conf.py)."""
        port = free_port()
        env = {
            **self.env(name),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(workers),
        }
        args = [str(PYTHON), "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"]
        return self._start(name, [*args, "lotto_site.wsgi:application"], env, port)

    def start_worker(self, name: str = "worker") -> Process:
        return self._start(name, [str(PYTHON), "manage.py", "qcluster"], self.env(name))

    def log(self, name: str) -> str:
        return self._processes.log(name)

    def wait_for(self, condition, *, timeout: float, what: str, interval=0.2):
        return self._processes.wait_for(
            condition, timeout=timeout, what=what, interval=interval
        )

    def wait_serving(self, process: Process, timeout: float = 120) -> str:
        """Wait until the host answers recommendations; the version it serves."""

        def answered():
            status, body = process.get(RECOMMENDATIONS, timeout=10)
            return status == 200 and json.loads(body)

        return self.wait_for(
            answered, timeout=timeout, what=f"recommendations from {process.name}"
        ).get("model_version")

    def kill(self, name: str) -> None:
        """SIGKILL a host's whole process group: the machine went away."""
        self._processes.kill(name)

    def stop(self, timeout: float = 20) -> dict[str, int]:
        self.processes.clear()
        return self._processes.stop(timeout)

    # --- the model's life --------------------------------------------------------

    def queue_retrain(self, host: str = "worker") -> int:
        """Queue a forced retrain with a seed of its own (new bytes, new sha256)."""
        self.retrains += 1
        code = queue_retrain_code(reason="scale-out test", seed=1000 + self.retrains)
        return queued_run_id(self.manage(host, "shell", "-c", code, timeout=120))

    def retrain_run(self, run_id: int) -> dict:
        """The run's row; `activated_at`: when its version became the active one."""
        rows = self.query(
            "SELECT r.status, r.finished_at, v.version, r.error_message, "
            "(SELECT min(a.activated_at) FROM mlops_modelactivation a "
            " WHERE a.model_version_id = r.model_version_id) "
            "FROM mlops_retrainrun r LEFT JOIN mlops_modelversion v "
            "ON v.id = r.model_version_id WHERE r.id = %s",
            (run_id,),
        )
        status, finished, version, error, activated = rows[0]
        return {
            "status": status,
            "finished_at": finished,
            "activated_at": activated,
            "version": version,
            "error": error,
        }

    def wait_retrain(self, run_id: int, timeout: float = 240) -> dict:
        """The run's row once it finished (success or failed)."""

        def finished():
            run = self.retrain_run(run_id)
            return run if run["status"] in {"success", "failed"} else None

        return self.wait_for(finished, timeout=timeout, what="the retrain to finish")

    def wait_all_serving(self, pollers, version: str, timeout: float = 30) -> None:
        self.wait_for(
            lambda: all(p.first_seen(version) for p in pollers),
            timeout=timeout,
            what=f"every host serving {version}",
        )

    def active_version(self) -> tuple[str, str, str]:
        """(version, file_path, sha256) of the active version."""
        return self.query(
            "SELECT version, file_path, sha256 FROM mlops_modelversion "
            "WHERE state = 'active'"
        )[0]


class VersionPoller(threading.Thread):
    """Ask one host for recommendations every `interval` s; note each answer."""

    def __init__(self, process: Process, interval: float = 0.1):
        super().__init__(daemon=True)
        self.process, self.interval = process, interval
        self.answers: list[tuple[float, int, str | None]] = []  # (time.time(), ...)
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                status, body = self.process.get("/api/recommendations/?count=1")
                version = (
                    json.loads(body).get("model_version") if status == 200 else None
                )
            except OSError:
                status, version = 0, None
            self.answers.append((time.time(), status, version))
            self.halt.wait(self.interval)

    def stop(self):
        self.halt.set()
        self.join(15)

    def first_seen(self, version: str) -> float | None:
        for at, status, answered in self.answers:
            if status == 200 and answered == version:
                return at
        return None

    def failures(self) -> list[tuple[float, int, str | None]]:
        return [answer for answer in self.answers if answer[1] != 200]


def seconds_after(finished_at: dt.datetime, wall: float) -> float:
    return wall - finished_at.timestamp()


# --- wrk ----------------------------------------------------------------------------


class Wrk:
    """wrk against one URL in the background; `result()` waits and parses."""

    def __init__(self, url: str, *, duration: float, connections=4, threads=1):
        # One script file per run: wrk reads it while another run may write its own.
        handle, name = tempfile.mkstemp(prefix="lotto-wrk-", suffix=".lua")
        with os.fdopen(handle, "w") as script_file:
            script_file.write(WRK_REPORT_LUA)
        script = Path(name)
        self.script = script
        self.duration = duration
        self.popen = subprocess.Popen(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{int(duration)}s",
                "--timeout",
                "5s",
                "-s",
                str(script),
                url,
            ],  # fmt: skip
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def result(self) -> dict:
        stdout, stderr = self.popen.communicate(timeout=self.duration + 60)
        self.script.unlink(missing_ok=True)
        return wrk_report(stdout, stderr, self.popen.returncode)


class Load(threading.Thread):
    """wrk on each host in back-to-back slices until stopped; every slice kept."""

    def __init__(self, processes: list[Process], *, slice_seconds=3, connections=4):
        super().__init__(daemon=True)
        self.processes = processes
        self.slice_seconds, self.connections = slice_seconds, connections
        self.slices: dict[str, list[dict]] = {p.name: [] for p in processes}
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            running = {
                p.name: Wrk(
                    p.base_url + RECOMMENDATIONS,
                    duration=self.slice_seconds,
                    connections=self.connections,
                )
                for p in self.processes
            }
            for name, wrk in running.items():
                self.slices[name].append(wrk.result())

    def stop(self) -> dict[str, dict]:
        """Stop after the running slice; totals per host."""
        self.halt.set()
        self.join(self.slice_seconds + 90)
        return {
            name: {
                "requests": sum(s["requests"] for s in slices),
                "errors": sum(s["errors"] for s in slices),
                "slices": len(slices),
            }
            for name, slices in self.slices.items()
        }
