"""Scale-out benchmark: web hosts that share no disk, on PostgreSQL, Redis and S3.

Usage, from the project root (needs PostgreSQL and Redis on 127.0.0.1, and wrk):
    .venv/bin/python benchmarks/bench_scaleout.py [--rounds 5] [--duration 10]
        [--connections 8] [--loads 15] [--retrains 3] [--estimators 100]
        [--save benchmarks/results/bench_scaleout.json]

One run, with tests/scaleout/hosts.py's processes (each "host" has its own empty
VAR_DIR and MODEL_ROOT) on a fresh PostgreSQL database, a Redis db and moto's
S3 server (`moto_server`, its own process, real HTTP):
1. requests/s: wrk on GET /api/recommendations/?count=5 against two gunicorn
   hosts of one worker each (--connections/2 each, at the same time, summed)
   and against one host of two workers (--connections), interleaved A/B/A/B
   for --rounds rounds of --duration seconds. On one machine the two should
   match: the hosts coordinate through nothing but the database.
2. cold-start model load from S3: --loads times, a fresh process's first load
   of the active model with an empty read cache (download + sha256 + unpickle),
   and the same load from the cache (a HEAD + sha256 + unpickle).
   The cold load is also split: the download alone (GET + sha256, `read_verified`).
3. retrain to served: --retrains forced retrains on the qcluster worker (each
   with a seed of its own, so each host has to fetch new bytes: its prefetch
   does) while a poller asks each host every 0.1 s which version answers; the
   figure is the time from the run's finished_at to the later of the two hosts
   serving it, and the same from the new version's activation (its commit,
   which comes before finished_at: metadata, the automatic backup; so the first
   can be negative). Each host's ml_model_downloads_total by context is shown.

Medians with min and max; the load average before, after and at each round's
start is printed beside them: on a busy machine the figures are noise.
benchmarks/run_all runs it with bounded arguments (about two minutes on a quiet
machine).
"""

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

import boto3  # noqa: E402

from tests.scaleout.hosts import (  # noqa: E402
    Cluster,
    VersionPoller,
    Wrk,
    free_port,
    seconds_after,
)

RECOMMENDATIONS = "/api/recommendations/?count=5"
# The worker host first: migrate, the shipped draws, a first model (one start).
PREPARE = (
    "from django.core.management import call_command; "
    "call_command('migrate', interactive=False, verbosity=0); "
    "call_command('import_draws'); call_command('train_model')"
)
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# Run in a host's environment: N cold loads (empty cache) and N warm ones.
LOAD_SCRIPT = """
import json, shutil, time
from django.conf import settings
from mlops.services.registry.registry import (
    model_version_active, model_version_load, model_version_read_verified)
version = model_version_active()
cold, warm, download = [], [], []
for _ in range({loads}):
    started = time.perf_counter()
    model_version_read_verified(version)
    download.append(time.perf_counter() - started)
    shutil.rmtree(settings.MODEL_CACHE_DIR, ignore_errors=True)
    started = time.perf_counter()
    model_version_load(version)
    cold.append(time.perf_counter() - started)
    started = time.perf_counter()
    model_version_load(version)
    warm.append(time.perf_counter() - started)
print(json.dumps({{
    "cold": cold, "warm": warm, "download": download, "bytes": version.size_bytes
}}))
"""


class MotoServer:
    """moto's S3 server as its own process on 127.0.0.1."""

    def __init__(self):
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.popen = subprocess.Popen(
            [
                str(PROJECT_ROOT / ".venv" / "bin" / "moto_server"),
                "-H",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.client = boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
        )

    def bucket(self, prefix: str) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        self.client.create_bucket(Bucket=name)
        return name

    def stop(self):
        self.popen.terminate()
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            self.popen.kill()


def spread(values: list[float], digits: int = 1) -> dict:
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "n": len(values),
    }


def throughput(cluster, args) -> dict:
    """Interleaved A/B: two hosts x 1 worker (summed) vs one host x 2 workers."""
    two = [cluster.processes["host-a"], cluster.processes["host-b"]]
    one = cluster.processes["host-2w"]
    half = max(1, args.connections // 2)
    a_rates, b_rates, loads, errors = [], [], [], 0
    for _ in range(args.rounds):
        loads.append(os.getloadavg()[0])
        runs = [
            Wrk(p.base_url + RECOMMENDATIONS, duration=args.duration, connections=half)
            for p in two
        ]
        results = [run.result() for run in runs]
        a_rates.append(sum(r["requests_per_second"] for r in results))
        errors += sum(r["errors"] for r in results)
        result = Wrk(
            one.base_url + RECOMMENDATIONS,
            duration=args.duration,
            connections=args.connections,
            threads=2,
        ).result()
        b_rates.append(result["requests_per_second"])
        errors += result["errors"]
    return {
        "two_hosts_of_one_worker_rps": spread(a_rates),
        "one_host_of_two_workers_rps": spread(b_rates),
        "ratio_two_hosts_to_one": round(
            statistics.median(a_rates) / statistics.median(b_rates), 3
        ),
        "load_average_per_round": spread(loads, 2),
        "errors": errors,
    }


def cold_start(cluster, args) -> dict:
    out = cluster.must(
        "loader", "shell", "-c", LOAD_SCRIPT.format(loads=args.loads), timeout=900
    )
    figures = json.loads(out.strip().splitlines()[-1])
    return {
        "model_bytes": figures["bytes"],
        "cold_load_ms": spread([1000 * s for s in figures["cold"]]),
        "download_and_sha256_ms": spread([1000 * s for s in figures["download"]]),
        "cached_load_ms": spread([1000 * s for s in figures["warm"]]),
    }


def retrain_to_served(cluster, args) -> dict:
    hosts = [cluster.processes["host-a"], cluster.processes["host-b"]]
    delays, from_finished, failures = [], [], 0
    for _ in range(args.retrains):
        pollers = [VersionPoller(p) for p in hosts]
        for poller in pollers:
            poller.start()
        try:
            run_id = cluster.queue_retrain()
            run = cluster.wait_retrain(run_id, timeout=900)
            if run["status"] != "success":
                raise RuntimeError(f"retrain failed: {run}")
            cluster.wait_all_serving(pollers, run["version"], timeout=60)
        finally:
            for poller in pollers:
                poller.stop()
        seen = [poller.first_seen(run["version"]) for poller in pollers]
        delays.append(seconds_after(run["activated_at"], max(seen)))
        from_finished.append(seconds_after(run["finished_at"], max(seen)))
        failures += sum(len(p.failures()) for p in pollers)
    return {
        "seconds_from_activation": spread(delays, 2),
        "seconds_from_run_finished": spread(from_finished, 2),
        "failed_polls": failures,
        # Where the hosts got the new models: their prefetch, never a request.
        "model_downloads": {p.name: model_downloads(p) for p in hosts},
    }


def model_downloads(process) -> dict[str, float]:
    """ml_model_downloads_total by context, from the host's /metrics."""
    status, body = process.get("/metrics")
    found = re.findall(
        r'^ml_model_downloads_total\{context="(\w+)"\} ([0-9.e+]+)$',
        body.decode() if status == 200 else "",
        re.MULTILINE,
    )
    return {context: float(value) for context, value in found}


def summary(report: dict) -> str:
    """The figures as a person reads them (the JSON follows)."""
    t, c, r = report["throughput"], report["cold_start"], report["retrain_to_served"]

    def line(label, figure, unit=""):
        return (
            f"  {label}: {figure['median']}{unit} "
            f"(min {figure['min']}, max {figure['max']}, n {figure['n']})"
        )

    machine = report["machine"]
    return "\n".join(
        [
            f"bench_scaleout on {machine['cpus']} CPUs, load average "
            f"{machine['load_average_before'][0]} before, "
            f"{machine['load_average_after'][0]} after",
            "requests/s, GET /api/recommendations/?count=5, interleaved rounds:",
            line(
                "two hosts of one gunicorn worker (summed)",
                t["two_hosts_of_one_worker_rps"],
            ),
            line("one host of two gunicorn workers", t["one_host_of_two_workers_rps"]),
            f"  ratio two hosts / one host: {t['ratio_two_hosts_to_one']}; "
            f"failed requests: {t['errors']}",
            line(
                "load average (1 min) at each round's start",
                t["load_average_per_round"],
            ),
            f"cold-start model load from S3 ({c['model_bytes']:,} bytes):",
            line("p50 download + sha256 + unpickle", c["cold_load_ms"], " ms"),
            line("of which download + sha256", c["download_and_sha256_ms"], " ms"),
            line(
                "from the host's read cache (HEAD + sha256 + unpickle)",
                c["cached_load_ms"],
                " ms",
            ),
            "retrain -> both hosts serving the new version:",
            line("from the run's finished_at", r["seconds_from_run_finished"], " s"),
            line("from the activation's commit", r["seconds_from_activation"], " s"),
            f"  failed polls: {r['failed_polls']}; model downloads by host: "
            f"{r['model_downloads']}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--loads", type=int, default=15)
    parser.add_argument("--retrains", type=int, default=3)
    parser.add_argument("--estimators", type=int, default=100)
    parser.add_argument("--save", type=Path)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")

    load_before = os.getloadavg()
    moto = MotoServer()
    workdir = Path(tempfile.mkdtemp(prefix="lotto-bench-scaleout-"))
    models, backups = moto.bucket("models"), moto.bucket("backups")
    cluster = Cluster(
        workdir,
        s3_env={"AWS_S3_ENDPOINT_URL": moto.endpoint_url, **CREDENTIALS},
        models_url=f"s3://{models}/lotto/models",
        backups_url=f"s3://{backups}/lotto",
        extra_env={"ML_N_ESTIMATORS": str(args.estimators), "Q_WORKERS": "1"},
    )
    cluster.create()
    try:
        cluster.must("worker", "shell", "-c", PREPARE, timeout=1800)
        cluster.start_web("host-a", workers=1)
        cluster.start_web("host-b", workers=1)
        cluster.start_web("host-2w", workers=2)
        cluster.start_worker("worker")
        for name in ("host-a", "host-b", "host-2w"):
            cluster.wait_serving(cluster.processes[name], timeout=300)
        results = {
            "throughput": throughput(cluster, args),
            "cold_start": cold_start(cluster, args),
            "retrain_to_served": retrain_to_served(cluster, args),
        }
    finally:
        try:
            cluster.stop()
        finally:
            cluster.destroy()
            moto.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    load_after = os.getloadavg()
    report = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
        },
        "settings": vars(args) | {"save": str(args.save) if args.save else None},
        **results,
    }
    print(summary(report))
    print(json.dumps(report, indent=2))
    if args.save:
        args.save.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
