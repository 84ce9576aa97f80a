"""Serving as deployed: interleaved wrk rounds on the floor, /healthz and the
recommendations, the recommendations during a retrain, and the cost of one
/metrics scrape, also after many real worker recycles.

Usage, from the project root (needs PostgreSQL and Redis on 127.0.0.1, and wrk):
    .venv/bin/python benchmarks/bench_serving.py [--rounds 6] [--seconds 5]
        [--connections 32] [--retrain-seconds 20] [--real-recycles 40]
        [--save benchmarks/results/bench_serving.json]

As deployed (deploy/entrypoint.sh, deploy/gunicorn.conf.py): a fresh PostgreSQL
database, Redis as the default cache and broker (REDIS_URL, db from
STACK_REDIS_URL / Q_REDIS_TEST_URL), gunicorn with 2 sync workers and the access
log ON (to the log file, as a container's stdout), DEBUG=0, throttling and i18n
on. The throttle rate (API_THROTTLE_ANON) is set far above the offered load, so
the counting runs on every request but never refuses: any 429, any other
non-2xx/3xx answer and any socket error counts as a failure.

Each round runs wrk for --seconds on each of the three endpoints in turn, the
order rotating from round to round; a figure is the median of the rounds with
its min and max. Ratios are taken per round (the two endpoints measured seconds
apart on the same machine state), then the median of those. The load average is
printed with every round: the machine is shared, so absolute req/s drift; the
ratios are what the targets are about.

During a retrain: wrk on the recommendations in back-to-back --slice second
runs for --retrain-seconds while a forced retrain runs in the Q2 cluster; the
slices that overlap the run (its started_at..finished_at) against the others,
and a poller asking for one game every 0.2 s records which model version
answered: the switch must come with no failed answer.

/metrics: --scrapes sequential GETs after the load (both workers have written
their files); median, min and max in ms. Then --recycles dead workers simulated:
copies of one real worker's counter/histogram/gauge files under new pids (what a
recycled worker leaves behind), the collect+render time of a scrape read as they
are and after gunicorn's child_exit step folded them into the archive
(multiproc_archive.py). Then for real: gunicorn restarted with
GUNICORN_MAX_REQUESTS=--max-requests, recommendations asked one at a time until
--real-recycles workers have been replaced (or --recycle-budget seconds passed),
then --scrapes scrapes: median and max, the .db files left, and whether the
recommendations' request count in /metrics still equals the requests sent. The
scrapes count toward GUNICORN_MAX_REQUESTS too, so one can meet a worker being
replaced (queued behind its boot): that is what the max shows, the median is the
scrape itself.

Time (defaults, quiet machine): start-up and first model ~60 s, rounds 6 x 3 x
5 s = 90 s, retrain ~30 s, real recycles ~30-60 s (capped by --recycle-budget:
each recycle boots a worker, slow on a busy machine), scrapes a few seconds.
"""

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from prometheus_client import CollectorRegistry, generate_latest  # noqa: E402
from prometheus_client.multiprocess import MultiProcessCollector  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from benchmarks.wrkrun import WRK_REPORT_LUA, wrk  # noqa: E402
from mlops.observability.multiproc_archive import (  # noqa: E402
    GAUGE_MODES,
    SUMMED_TYPES,
    archive_dead_worker,
)
from tests.observability.stack import Stack, queue_retrain  # noqa: E402

ENDPOINTS = {
    "floor": "/api/ping/",
    "healthz": "/healthz",
    "recommendations": "/api/recommendations/?count=5",
}
RECOMMENDATIONS = ENDPOINTS["recommendations"]
TARGETS = {"recommendations/floor": 1.5, "recommendations/healthz": 2.0}
METRICS_TARGET_MS = 25.0


def spread(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def scrape_times(stack: Stack, scrapes: int) -> dict:
    durations = []
    for _ in range(scrapes):
        started = time.perf_counter()
        status, _ = stack.get("/metrics")
        durations.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"/metrics answered {status}")
    return spread(durations)


def collect_ms(directory: Path, runs: int) -> dict:
    """What one /metrics scrape spends reading the files: generate_latest over a
    MultiProcessCollector of `directory`, median [min, max] of `runs`."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        generate_latest(registry)
        durations.append((time.perf_counter() - started) * 1000)
    return spread(durations)


def recycled_scrape(source: Path, recycles: int, runs: int) -> dict:
    """The files `recycles` dead workers leave (copies of a real worker's, under new
    pids), read as they are, then after gunicorn's child_exit archive step."""
    workdir = Path(tempfile.mkdtemp(prefix="lotto-recycles-"))
    try:
        kinds = {*SUMMED_TYPES, *(f"gauge_{mode}" for mode in GAUGE_MODES)}
        files = [p for p in source.glob("*.db") if p.stem.rsplit("_", 1)[0] in kinds]
        counters = [
            p for p in files
            if p.name.startswith("counter_") and p.stem.rsplit("_", 1)[1].isdigit()
        ] or [p for p in files if p.name.startswith("counter_")]  # fmt: skip
        pid = counters[0].stem.rsplit("_", 1)[1] if counters else None  # a live one
        templates = [p for p in files if p.stem.endswith(f"_{pid}")]
        for fake in range(1, recycles + 1):
            for template in templates:
                kind = template.stem.rsplit("_", 1)[0]
                shutil.copy(template, workdir / f"{kind}_{10_000_000 + fake}.db")
        before = collect_ms(workdir, runs)
        files_before = len(list(workdir.glob("*.db")))
        for fake in range(1, recycles + 1):
            archive_dead_worker(str(workdir), 10_000_000 + fake)
        after = collect_ms(workdir, runs)
        return {
            "recycles": recycles,
            "without_archive": {"scrape_ms": before, "db_files": files_before},
            "scrape_ms": after,
            "db_files": len(list(workdir.glob("*.db"))),
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def worker_boots(stack: Stack) -> int:
    return stack.log("web").count("Booting worker with pid")


def requests_counted(stack: Stack, route: str) -> float:
    """http_requests_total of `route` (every status) in one scrape."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(stack.get("/metrics")[1].decode())
        if family.name == "http_requests"
        for sample in family.samples
        if sample.name == "http_requests_total" and sample.labels["route"] == route
    )


def real_recycles(stack: Stack, args) -> dict:
    """Restart gunicorn with GUNICORN_MAX_REQUESTS, ask for recommendations one at
    a time until --real-recycles workers were replaced, then time the scrapes."""
    stack.stop_web()
    stack.start_web(GUNICORN_MAX_REQUESTS=str(args.max_requests))
    stack.wait_healthy()
    workers = args.workers
    sent = failed = 0
    started = time.monotonic()
    while worker_boots(stack) - workers < args.real_recycles:
        if time.monotonic() - started > args.recycle_budget:
            break
        # A fresh worker boots, then computes its forecast: slow on a busy machine.
        status, _ = stack.get(RECOMMENDATIONS, timeout=60)
        sent += 1
        failed += status != 200
    seconds = time.monotonic() - started
    recycles = worker_boots(stack) - workers
    files = sorted(p.name for p in stack.multiproc_dir.glob("*.db"))
    scrapes = scrape_times(stack, args.scrapes)
    counted = requests_counted(stack, "/api/recommendations/")
    return {
        "max_requests": args.max_requests,
        "recycles": recycles,
        "requests": sent,
        "failures": failed,
        "seconds": round(seconds, 1),
        "db_files": len(files),
        "scrape_ms": scrapes,
        "requests_counted": counted,
        "counts_kept": counted == sent,
    }


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
    """The run's row, read with one SQL query (a manage.py shell every second
    would take CPU from the server being measured)."""
    rows = stack.query(
        "SELECT r.status, r.promoted, r.started_at, r.finished_at, "
        "r.duration_seconds, v.version FROM mlops_retrainrun r "
        "LEFT JOIN mlops_modelversion v ON v.id = r.model_version_id WHERE r.id = %s",
        (run_id,),
    )
    status, promoted, started, finished, seconds, version = rows[0]
    return {
        "status": status,
        "promoted": promoted,
        "started_at": started and started.isoformat(),
        "finished_at": finished and finished.isoformat(),
        "duration_seconds": seconds,
        "version": version,
    }


def slices(pieces: list[dict]) -> dict | None:
    """Medians [min, max] over wrk slices; None for no slice."""
    if not pieces:
        return None
    return {
        "slices": len(pieces),
        "requests": sum(p["requests"] for p in pieces),
        "failures": sum(p["errors"] for p in pieces),
        "requests_per_second": spread([p["requests_per_second"] for p in pieces]),
        "p50_ms": spread([p["p50_ms"] for p in pieces]),
        "p99_ms": spread([p["p99_ms"] for p in pieces]),
    }


def during_retrain(stack: Stack, args, script: Path) -> dict:
    """wrk in back-to-back slices while a forced retrain runs in the cluster."""
    pieces: list[dict] = []
    load = {"duration": args.slice, "connections": args.connections,
            "threads": args.threads, "script": script}  # fmt: skip

    def drive():
        deadline = time.time() + args.retrain_seconds
        while time.time() < deadline:
            wall_start = time.time()
            figures = wrk(stack.base_url + RECOMMENDATIONS, **load)
            pieces.append(figures | {"wall_start": wall_start, "wall_end": time.time()})

    poller = VersionPoller(stack)
    poller.start()
    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    time.sleep(args.slice + 0.5)  # at least one slice before the retrain
    queued = time.monotonic()
    run_id = queue_retrain(stack, reason="serving benchmark")
    stack.wait_for(
        lambda: retrain_record(stack, run_id)["finished_at"],
        timeout=900,
        what="the retrain to finish",
        interval=1,
    )
    driver.join(args.retrain_seconds + 120)
    time.sleep(3)  # ML_ACTIVE_CHECK_SECONDS (2 s): let every worker switch
    poller.halt.set()
    poller.join(15)
    run = retrain_record(stack, run_id)
    begin = dt.datetime.fromisoformat(run["started_at"]).timestamp()
    end = dt.datetime.fromisoformat(run["finished_at"]).timestamp()
    during = [p for p in pieces if p["wall_start"] < end and p["wall_end"] > begin]
    around = [p for p in pieces if p not in during]
    failed = [a for a in poller.answers if a[0] >= queued and a[1] != 200]
    versions = poller.versions()
    switched = len(versions) >= 2 and versions[-1] == run["version"]
    return {
        "slice_seconds": args.slice,
        "during": slices(during),
        "around": slices(around),
        "retrain": run,
        "poller": {
            "answers": len(poller.answers),
            "failed": len(failed),
            "versions_in_order": versions,
        },
        "switched_without_error": bool(
            switched and not failed and not any(p["errors"] for p in pieces)
        ),
    }


def run_rounds(stack: Stack, args, script: Path) -> dict:
    load = {"duration": args.seconds, "connections": args.connections,
            "threads": args.threads, "script": script}  # fmt: skip
    names = list(ENDPOINTS)
    rounds = []
    for number in range(args.rounds):
        order = names[number % 3 :] + names[: number % 3]
        figures = {"load_average": os.getloadavg()[0]}
        for name in order:
            figures[name] = wrk(stack.base_url + ENDPOINTS[name], **load)
        rounds.append(figures)
        rps = {name: figures[name]["requests_per_second"] for name in names}
        print(
            f"  round {number + 1}/{args.rounds} (load {figures['load_average']:.2f}): "
            + ", ".join(f"{name} {rps[name]:,.0f} req/s" for name in names)
            + f"; failures {sum(figures[name]['errors'] for name in names)}"
        )
    return rounds


def summarise(rounds: list[dict]) -> dict:
    result = {}
    for name in ENDPOINTS:
        result[name] = {
            "path": ENDPOINTS[name],
            "requests_per_second": spread(
                [r[name]["requests_per_second"] for r in rounds]
            ),
            "p50_ms": spread([r[name]["p50_ms"] for r in rounds]),
            "p99_ms": spread([r[name]["p99_ms"] for r in rounds]),
            "failures": sum(r[name]["errors"] for r in rounds),
            "requests": sum(r[name]["requests"] for r in rounds),
        }
    # slower-by factor: how many times the floor's throughput exceeds ours
    result["ratios"] = {
        "recommendations/floor": spread(
            [
                r["floor"]["requests_per_second"]
                / r["recommendations"]["requests_per_second"]
                for r in rounds
            ]
        ),  # fmt: skip
        "recommendations/healthz": spread(
            [
                r["healthz"]["requests_per_second"]
                / r["recommendations"]["requests_per_second"]
                for r in rounds
            ]
        ),  # fmt: skip
    }
    result["load_average"] = spread([r["load_average"] for r in rounds])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=5, help="wrk seconds per run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--scrapes", type=int, default=50)
    parser.add_argument("--recycles", type=int, default=200, help="simulated")
    parser.add_argument("--retrain-seconds", type=int, default=20)
    parser.add_argument("--slice", type=int, default=2, help="wrk slice (s)")
    parser.add_argument("--real-recycles", type=int, default=30)
    parser.add_argument("--max-requests", type=int, default=20)
    parser.add_argument("--recycle-budget", type=int, default=150, help="seconds")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep logs (workdir)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="lotto-serving-"))
    script = workdir / "report.lua"
    script.write_text(WRK_REPORT_LUA)
    stack = Stack(
        workdir,
        workers=args.workers,
        env={
            "REDIS_URL": os.environ.get(
                "STACK_REDIS_URL",
                os.environ.get("Q_REDIS_TEST_URL", "redis://127.0.0.1:6379/15"),
            ),
            "GUNICORN_ACCESS_LOG": "-",  # as deployed: every request logged
            "GUNICORN_LOG_LEVEL": "info",
        },
    )
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
        },  # fmt: skip
        "settings": {
            "rounds": args.rounds,
            "seconds": args.seconds,
            "connections": args.connections,
            "threads": args.threads,
            "gunicorn_workers": args.workers,
            "access_log": "on",
            "database": "postgresql",
            "cache": "redis",
            "throttle_anon": stack.env["API_THROTTLE_ANON"],
        },  # fmt: skip
    }
    print(f"Work dir (logs): {workdir}")
    stack.create()
    try:
        stack.start_web()
        stack.wait_healthy()
        stack.start_worker()
        stack.wait_for(
            lambda: json.loads(stack.get("/readyz")[1]).get("model") == "ml",
            timeout=900,
            what="the first model",
        )
        for path in ENDPOINTS.values():  # warm both workers
            for _ in range(20):
                stack.get(path)
        print(
            f"\n{args.rounds} interleaved rounds, wrk {args.seconds} s per endpoint, "
            f"{args.connections} connections, access log on, Redis cache"
        )
        rounds = run_rounds(stack, args, script)
        report["rounds"] = rounds
        report["summary"] = summary = summarise(rounds)
        report["metrics_scrape_ms"] = scrape_times(stack, args.scrapes)
        report["metrics_after_recycles"] = recycled_scrape(
            stack.multiproc_dir, args.recycles, max(5, args.scrapes // 5)
        )
        print(f"\nRecommendations during a forced retrain ({args.retrain_seconds} s)")
        report["during_retrain"] = during_retrain(stack, args, script)
        print(
            f"\nReal recycles: GUNICORN_MAX_REQUESTS={args.max_requests}, "
            f"up to {args.real_recycles} recycles"
        )
        report["metrics_after_real_recycles"] = real_recycles(stack, args)
    finally:
        report["exit_codes"] = stack.stop()
        stack.destroy()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report["machine"]["load_average_at_end"] = os.getloadavg()
    print(f"\n{'endpoint':<40}{'req/s median [min, max]':>30}{'p50 ms':>10}{'fail':>6}")
    for name, path in ENDPOINTS.items():
        figure = summary[name]
        rps = figure["requests_per_second"]
        print(
            f"{'GET ' + path:<40}{rps['median']:>12,.0f} [{rps['min']:,.0f}, "
            f"{rps['max']:,.0f}]".ljust(70)
            + f"{figure['p50_ms']['median']:>10.2f}{figure['failures']:>6}"
        )
    retrain = report["during_retrain"]
    real = report["metrics_after_real_recycles"]
    ok = (
        all(summary[name]["failures"] == 0 for name in ENDPOINTS)
        and retrain["switched_without_error"]
        and real["failures"] == 0
        and real["counts_kept"]
    )
    for name, limit in TARGETS.items():
        ratio = summary["ratios"][name]
        verdict = "PASS" if ratio["median"] <= limit else "FAIL"
        print(
            f"ratio {name}: {ratio['median']:.2f}x [{ratio['min']:.2f}, "
            f"{ratio['max']:.2f}] (target <= {limit}x) {verdict}"
        )
    scrape = report["metrics_scrape_ms"]
    print(
        f"/metrics scrape: {scrape['median']:.1f} ms [{scrape['min']:.1f}, "
        f"{scrape['max']:.1f}] over {args.scrapes} (target < {METRICS_TARGET_MS} ms)"
    )
    recycled = report["metrics_after_recycles"]
    print(
        f"/metrics files after {recycled['recycles']} recycles: "
        f"{recycled['without_archive']['db_files']} files, collect "
        f"{recycled['without_archive']['scrape_ms']['median']:.1f} ms without the "
        f"archive; {recycled['db_files']} files, "
        f"{recycled['scrape_ms']['median']:.1f} ms with it"
    )
    for name in ("around", "during"):
        if retrain[name]:
            part = retrain[name]
            print(
                f"recommendations {name} the retrain: "
                f"{part['requests_per_second']['median']:,.0f} req/s, p99 "
                f"{part['p99_ms']['median']:.1f} ms [{part['p99_ms']['min']:.1f}, "
                f"{part['p99_ms']['max']:.1f}] over {part['slices']} slices, "
                f"failures {part['failures']}"
            )
    print(
        f"retrain {retrain['retrain']['status']} in "
        f"{retrain['retrain']['duration_seconds'] or 0:.1f} s; served versions "
        f"{' -> '.join(map(str, retrain['poller']['versions_in_order']))}; "
        f"{'switched' if retrain['switched_without_error'] else 'DID NOT switch'} "
        f"without error ({retrain['poller']['failed']} failed of "
        f"{retrain['poller']['answers']} polled)"
    )
    print(
        f"/metrics after {real['recycles']} real recycles "
        f"(GUNICORN_MAX_REQUESTS={real['max_requests']}, {real['requests']} requests "
        f"in {real['seconds']:.0f} s): scrape {real['scrape_ms']['median']:.1f} ms, "
        f"max {real['scrape_ms']['max']:.1f}; {real['db_files']} .db files; "
        f"requests counted {real['requests_counted']:.0f} of {real['requests']} "
        f"({'kept' if real['counts_kept'] else 'NOT kept'})"
    )
    print(
        f"load average: start {report['machine']['load_average_at_start'][0]:.2f}, "
        f"rounds {summary['load_average']['median']:.2f} "
        f"[{summary['load_average']['min']:.2f}, {summary['load_average']['max']:.2f}]"
        f", end {report['machine']['load_average_at_end'][0]:.2f} "
        f"({os.cpu_count()} CPUs)"
    )
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(report, indent=2) + "\n")
        print(f"Saved {args.save}")
    met = (
        all(
            summary["ratios"][name]["median"] <= limit
            for name, limit in TARGETS.items()
        )
        and max(scrape["median"], real["scrape_ms"]["median"]) < METRICS_TARGET_MS
    )
    # 0: no failure and every target met; 1: a failure or a target missed.
    return 0 if ok and met else 1


if __name__ == "__main__":
    sys.exit(main())
