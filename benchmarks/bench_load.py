"""Load benchmark: the recommendation API under wrk, then again during a retrain.

Usage, from the project root (needs PostgreSQL and Redis on 127.0.0.1, and wrk):
    .venv/bin/python benchmarks/bench_load.py [--duration 30] [--connections 32]
        [--save benchmarks/results/bench_load.json]

What it does, with the processes docker-compose runs (deploy/entrypoint.sh):
1. a fresh PostgreSQL database and an empty Redis db; `web` (migrate, import_draws,
   setup_schedules, gunicorn with 2 workers) and `worker` (train_model
   --if-missing, qcluster);
2. wrk for --duration seconds at --connections connections on
   GET /api/recommendations/?count=5, then on GET /api/draws/latest/ (a trivial
   DRF endpoint) in the same run: requests/s, latency p50/p90/p99, errors;
3. wrk on the recommendations again, in back-to-back --slice second runs for
   --duration seconds, while a forced retrain runs in the Q2 cluster: the slices
   that overlap the run (its started_at..finished_at) give the p99 "during the
   retrain" (the worst slice's). A poller asks for one game every 0.2 s and
   records which model version answered, to see the switch and any failure.

"ms in Django" is the mean of http_request_duration_seconds over the run (from
/metrics): time inside the application; the rest of the latency is queueing for
one of the two workers.

Errors are wrk's socket errors (connect, read, write, timeout) plus non-2xx/3xx
answers. Latency percentiles come from wrk's own histogram (a Lua `done` hook).
"""

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from tests.observability.stack import Stack, queue_retrain  # noqa: E402

RECOMMENDATIONS = "/api/recommendations/?count=5"
TRIVIAL = "/api/draws/latest/"
# wrk calls done() once at the end; print one parseable line.
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


def wrk(url: str, *, duration: int, connections: int, threads: int, script: Path):
    """Run wrk and return its figures (ms, requests/s, errors)."""
    result = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "5s",
            "--latency",
            "-s",
            str(script),
            url,
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=duration + 60,
    )
    match = re.search(r"^WRK_JSON (\{.*\})$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    raw = json.loads(match.group(1))
    seconds = raw["duration_us"] / 1e6
    errors = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
    return {
        "requests": raw["requests"],
        "requests_per_second": round(raw["requests"] / seconds, 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "errors": errors,
        "error_detail": {
            k: raw[k] for k in ("connect", "read", "write", "status", "timeout")
        },
        "seconds": round(seconds, 1),
    }


def django_time(stack: Stack, route: str) -> tuple[float, float]:
    """(seconds, requests) inside Django for a route, from /metrics."""
    wanted = {"method": "GET", "route": route}
    found = {
        item.name: item.value
        for family in text_string_to_metric_families(stack.get("/metrics")[1].decode())
        for item in family.samples
        if family.name == "http_request_duration_seconds" and item.labels == wanted
    }
    return (
        found.get("http_request_duration_seconds_sum", 0.0),
        found.get("http_request_duration_seconds_count", 0.0),
    )


def measured(stack: Stack, path: str, load: dict) -> dict:
    """wrk figures plus the mean time inside Django (the rest is queueing)."""
    route = path.split("?")[0]
    seconds_before, count_before = django_time(stack, route)
    figures = wrk(stack.base_url + path, **load)
    seconds_after, count_after = django_time(stack, route)
    requests = count_after - count_before
    figures["django_mean_ms"] = round(
        1000 * (seconds_after - seconds_before) / requests if requests else 0.0, 2
    )
    return figures


class VersionPoller(threading.Thread):
    """Ask for one game every `interval` s; note each answer's status and version."""

    def __init__(self, stack: Stack, interval: float = 0.2):
        super().__init__(daemon=True)
        self.stack, self.interval = stack, interval
        self.answers: list[tuple[float, int, str | None]] = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                status, body = self.stack.get(
                    "/api/recommendations/?count=1", timeout=10
                )
                version = (
                    json.loads(body).get("model_version") if status == 200 else None
                )
            except OSError:
                status, version = 0, None
            self.answers.append((time.monotonic(), status, version))
            self.halt.wait(self.interval)

    def versions(self) -> list[str]:
        """The distinct versions in the order they first answered."""
        seen = []
        for _, status, version in self.answers:
            if status == 200 and version not in seen:
                seen.append(version)
        return seen


def retrain_record(stack: Stack, run_id: int) -> dict:
    """The run's row, read with one SQL query: a manage.py shell every second
    would take CPU from the server being measured."""
    rows = stack.query(
        "SELECT r.status, r.promoted, r.started_at, r.finished_at, "
        "r.duration_seconds, v.version, r.error_message FROM mlops_retrainrun r "
        "LEFT JOIN mlops_modelversion v ON v.id = r.model_version_id WHERE r.id = %s",
        (run_id,),
    )
    status, promoted, started, finished, seconds, version, error = rows[0]
    return {
        "status": status,
        "promoted": promoted,
        "started_at": started and started.isoformat(),
        "finished_at": finished and finished.isoformat(),
        "duration_seconds": seconds,
        "version": version,
        "error": error,
    }


def overlaps(piece: dict, begin: float, end: float) -> bool:
    return piece["wall_start"] < end and piece["wall_end"] > begin


def merge(pieces: list[dict]) -> dict:
    """Totals over consecutive wrk runs; a percentile is the worst piece's."""
    seconds = sum(p["seconds"] for p in pieces)
    requests = sum(p["requests"] for p in pieces)
    return {
        "requests": requests,
        "requests_per_second": round(requests / seconds, 1) if seconds else 0.0,
        "p50_ms": max(p["p50_ms"] for p in pieces),
        "p90_ms": max(p["p90_ms"] for p in pieces),
        "p99_ms": max(p["p99_ms"] for p in pieces),
        "max_ms": max(p["max_ms"] for p in pieces),
        "errors": sum(p["errors"] for p in pieces),
        "seconds": round(seconds, 1),
        "pieces": len(pieces),
        "percentiles_are": "the worst slice's",
    }


def load_during_retrain(stack: Stack, load: dict, slice_seconds: int) -> dict:
    """wrk in back-to-back slices while a retrain is queued after the first one.

    A retrain may take only seconds; one 30 s wrk run would drown its effect.
    Slices that overlap the run's started_at..finished_at (from the database)
    give "during"; the others "around". A merged p99 is the worst slice's.
    """
    pieces: list[dict] = []
    slice_load = {**load, "duration": slice_seconds}

    def drive():
        deadline = time.time() + load["duration"]
        while time.time() < deadline:
            wall_start = time.time()
            figures = wrk(stack.base_url + RECOMMENDATIONS, **slice_load)
            pieces.append(figures | {"wall_start": wall_start, "wall_end": time.time()})

    poller = VersionPoller(stack)
    poller.start()
    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    time.sleep(slice_seconds + 0.5)  # at least one slice before the retrain
    queued = time.monotonic()
    run_id = queue_retrain(stack, reason="load benchmark")
    stack.wait_for(
        lambda: retrain_record(stack, run_id)["finished_at"],
        timeout=1800,
        what="the retrain to finish",
        interval=1,
    )
    driver.join(load["duration"] + 120)
    time.sleep(3)  # ML_ACTIVE_CHECK_SECONDS (2 s): let every worker switch
    poller.halt.set()
    poller.join(15)
    run = retrain_record(stack, run_id)
    begin = dt.datetime.fromisoformat(run["started_at"]).timestamp()
    end = dt.datetime.fromisoformat(run["finished_at"]).timestamp()
    during = [p for p in pieces if overlaps(p, begin, end)]
    around = [p for p in pieces if not overlaps(p, begin, end)]
    failed = [a for a in poller.answers if a[0] >= queued and a[1] != 200]
    versions = poller.versions()
    switched = len(versions) >= 2 and versions[-1] == run["version"]
    result = {
        "whole_window": merge(pieces),
        "slices_during_retrain": merge(during) if during else None,
        "slices_around_retrain": merge(around) if around else None,
        "slice_seconds": slice_seconds,
        "retrain": run,
        "poller": {
            "answers": len(poller.answers),
            "failed": len(failed),
            "versions_in_order": versions,
        },
        "switched_without_error": bool(
            switched and not failed and merge(pieces)["errors"] == 0
        ),
    }
    print_row(f"whole {load['duration']} s window ({len(pieces)} slices)",
              result["whole_window"])  # fmt: skip
    if during:
        print_row(f"slices during the retrain ({len(during)})", merge(during))
    if around:
        print_row(f"slices around it ({len(around)})", merge(around))
    print("  * p50/p90/p99 of the worst wrk slice in the group")
    print(
        f"  retrain run {run_id}: {run['status']}, promoted {run['promoted']}, "
        f"{run['duration_seconds'] or 0:.1f} s in the cluster"
    )
    print(
        f"  served versions: {' -> '.join(map(str, versions))}; "
        f"{'switched' if switched else 'DID NOT switch'} with "
        f"{len(failed)} failed answer(s) of {len(poller.answers)} polled"
    )
    return result


def print_row(name: str, figures: dict) -> None:
    if "pieces" in figures:
        name += " *"  # percentiles: the worst slice's
    print(
        f"  {name:<36} {figures['requests_per_second']:>9.1f} req/s   "
        f"p50 {figures['p50_ms']:>7.1f} ms   p90 {figures['p90_ms']:>7.1f} ms   "
        f"p99 {figures['p99_ms']:>7.1f} ms   errors {figures['errors']}"
        f"  ({figures['requests']} requests)"
        + (
            f"; {figures['django_mean_ms']:.1f} ms in Django"
            if "django_mean_ms" in figures
            else ""
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=30, help="seconds per run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--slice", type=int, default=2, help="wrk slice length during the retrain (s)"
    )
    parser.add_argument("--save", type=Path, help="also write the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep logs (workdir)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="lotto-bench-"))
    script = workdir / "report.lua"
    script.write_text(WRK_REPORT_LUA)
    stack = Stack(workdir, workers=args.workers)
    load = {"duration": args.duration, "connections": args.connections,
            "threads": args.threads, "script": script}  # fmt: skip
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
        },
        "settings": {k: v for k, v in load.items() if k != "script"}
        | {"gunicorn_workers": args.workers, "database": "postgresql"},
    }
    print(f"Work dir (logs): {workdir}")
    stack.create()
    try:
        print("Starting web (migrate, import_draws, setup_schedules, gunicorn) ...")
        stack.start_web()
        stack.wait_healthy()
        print("Starting worker (train_model --if-missing, qcluster) ...")
        stack.start_worker()
        stack.wait_for(
            lambda: json.loads(stack.get("/readyz")[1]).get("model") == "ml",
            timeout=900,
            what="the first model",
        )
        for path in (RECOMMENDATIONS, TRIVIAL):  # warm both workers' caches
            for _ in range(20):
                stack.get(path)

        print(f"\nSteady load: wrk {args.duration} s, {args.connections} connections")
        steady = {
            "recommendations": measured(stack, RECOMMENDATIONS, load),
            "trivial_drf": measured(stack, TRIVIAL, load),
        }
        print_row(f"GET {RECOMMENDATIONS}", steady["recommendations"])
        print_row(f"GET {TRIVIAL}", steady["trivial_drf"])
        report["steady"] = steady

        print("\nDuring a retrain in the Q2 cluster (forced promotion):")
        report["during_retrain"] = load_during_retrain(stack, load, args.slice)
    finally:
        codes = stack.stop()
        stack.destroy()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report["exit_codes"] = codes
    report["machine"]["load_average_at_end"] = os.getloadavg()
    print(
        f"\nLoad average at start {report['machine']['load_average_at_start'][0]:.2f}, "
        f"at end {report['machine']['load_average_at_end'][0]:.2f} "
        f"({os.cpu_count()} CPUs; wrk, gunicorn, qcluster and PostgreSQL share them)"
    )
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nSaved {args.save}")
    ok = (
        steady["recommendations"]["errors"] == 0
        and steady["trivial_drf"]["errors"] == 0
        and report["during_retrain"]["switched_without_error"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
