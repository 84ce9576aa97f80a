"""The consumer API as deployed: ticket check, cached draw pages, pages of 20,000 draws.

Usage, from the project root (needs PostgreSQL and Redis on 127.0.0.1, and wrk):
    STACK_REDIS_URL=redis://127.0.0.1:6379/<db> .venv/bin/python \\
        benchmarks/bench_consumer_api.py [--rounds 5] [--seconds 3] [--connections 2]
        [--synthetic 20000] [--save benchmarks/results/bench_consumer_api.json]

As deployed, like bench_serving (tests/observability/stack.py): `deploy/entrypoint.sh
web` on a fresh PostgreSQL database (migrate, the shipped 1,220 draws), Redis as the
cache (REDIS_URL), gunicorn from deploy/gunicorn.conf.py with 2 sync workers and the
access log ON, DEBUG=0, throttling and i18n on. API_THROTTLE_ANON is far above the
offered load: the throttle counts every request and never refuses; any 429, other
non-2xx answer or socket error counts as a failure.

The figures are latencies (issue 12: p50 against the floor), so wrk runs with
--connections 2, one per gunicorn worker: each request is served as it arrives,
no queue in front of it (at 32 connections every p50 is mostly queueing and the
ratios become throughput ratios, bench_serving's business). Each round runs wrk
for --seconds on every case in turn, the order rotating from round to round; a
figure is the median of the rounds' p50s with min and max; a ratio is taken
within each round (case p50 / floor p50), then the median.

1. The shipped 1,220 draws:
   - the floor, GET /api/ping/ (DRF, no database, the same authentication,
     throttling and renderers as the public endpoints);
   - POST /api/tickets/check/ with five games of draw 1220;
   - GET /api/draws/?page_size=100 warm: the rendered page kept under its ETag;
   - the same page cold: a parameter the API ignores (`cold=<n>`) makes every URL,
     so every ETag, new; no kept page: the draws are taken from the process's copy
     of the history's rows, serialized and rendered each time.
2. Then --synthetic draws stored in all (made-up, valid; inserted by the ORM in
   the stack's database, the workers see them within DRAWS_VERSION_CHECK_SECONDS):
   the floor again, and GET /api/draws/?page=<random> cold, the first page cold
   and the last page cold. (The first request after an import reads the history's
   draw numbers and shown columns again, once per worker: two queries, ~0.1 s for
   20,000 draws; tests/draws/test_api_queries.py.)

Targets: ticket p50 <= 2x floor; warm page_size=100 p50 <= 2x floor; every page of
20,000 draws p50 < 10 ms. Exit 0 all met and no failure, 1 otherwise, 2 no wrk.
"""

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.wrkrun import WRK_REPORT_LUA, wrk  # noqa: E402
from tests.observability.stack import STACK_REDIS_URL, Stack  # noqa: E402

TARGET_RATIO = 2.0
PAGE_TARGET_MS = 10.0
TICKET = {
    "draw": 1220,
    "games": [
        [2, 22, 25, 28, 34, 43],
        [1, 3, 4, 5, 6, 7],
        [2, 22, 25, 28, 34, 16],
        [10, 20, 30, 40, 41, 42],
        [2, 22, 25, 8, 9, 11],
    ],
}
FLOOR = "floor"


def get_script(path: str) -> str:
    return (
        WRK_REPORT_LUA
        + f'\nrequest = function() return wrk.format("GET", "{path}") end\n'
    )


def cold_script(path: str, pages: int | None = None) -> str:
    """Every request a new URL (so a new ETag, no kept page); `pages`: a random page."""
    target = f'"{path}"'
    if pages:
        target = f'"{path}page=" .. math.random(1, {pages}) .. "&"'
    return WRK_REPORT_LUA + (
        "\ncounter = 0\n"
        "request = function()\n"
        "  counter = counter + 1\n"
        f'  return wrk.format("GET", {target} .. "cold=" .. counter)\n'
        "end\n"
    )


def post_script(path: str, body: dict) -> str:
    text = json.dumps(body).replace("\\", "\\\\").replace('"', '\\"')
    return WRK_REPORT_LUA + (
        f'\nwrk.method = "POST"\nwrk.body = "{text}"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'request = function() return wrk.format(nil, "{path}") end\n'
    )


def add_synthetic_draws(total: int) -> int:
    """Draws after the last stored one up to `total`: valid, made up, seeded.

    Run inside the stack's Django (manage.py shell); returns how many were added.
    """
    from django.db import transaction
    from django.utils import timezone

    from draws.models import LottoDraw, expected_draw_date
    from draws.versioning import draw_history_changed

    rng = random.Random(0)
    last = LottoDraw.objects.order_by("-draw_no").values_list("draw_no", flat=True)[0]
    now = timezone.now()
    draws = []
    for draw_no in range(last + 1, total + 1):
        picked = rng.sample(range(1, 46), 7)
        numbers = sorted(picked[:6])
        draws.append(
            LottoDraw(
                draw_no=draw_no,
                draw_date=expected_draw_date(draw_no),
                bonus=picked[6],
                source="benchmark",
                updated_at=now,
                **{f"n{i}": n for i, n in enumerate(numbers, start=1)},
            )
        )
    with transaction.atomic():
        LottoDraw.objects.bulk_create(draws, batch_size=2000)
        transaction.on_commit(draw_history_changed)
    return len(draws)


def spread(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def run_phase(stack: Stack, cases: dict, args, workdir: Path, label: str) -> dict:
    """Interleaved rounds over `cases` (name: (what, lua script)); the summary."""
    scripts = {}
    for number, (name, (_, script)) in enumerate(cases.items()):
        scripts[name] = workdir / f"{label}-{number}.lua"
        scripts[name].write_text(script)
    names = list(cases)
    rounds = []
    for number in range(args.rounds):
        shift = number % len(names)
        figures = {"load_average": os.getloadavg()[0]}
        for name in names[shift:] + names[:shift]:
            figures[name] = wrk(
                stack.base_url + "/",
                duration=args.seconds,
                connections=args.connections,
                threads=1,
                script=scripts[name],
            )
        rounds.append(figures)
        print(
            f"  round {number + 1}/{args.rounds} (load {figures['load_average']:.2f}): "
            + ", ".join(f"{name} {figures[name]['p50_ms']:.2f} ms" for name in names)
            + f"; failures {sum(figures[name]['errors'] for name in names)}",
            flush=True,
        )
    summary = {}
    for name in names:
        summary[name] = {
            "what": cases[name][0],
            "p50_ms": spread([r[name]["p50_ms"] for r in rounds]),
            "p99_ms": spread([r[name]["p99_ms"] for r in rounds]),
            "requests_per_second": spread(
                [r[name]["requests_per_second"] for r in rounds]
            ),
            "failures": sum(r[name]["errors"] for r in rounds),
            "requests": sum(r[name]["requests"] for r in rounds),
        }
        if name != FLOOR:
            summary[name]["ratio_to_floor"] = spread(
                [r[name]["p50_ms"] / r[FLOOR]["p50_ms"] for r in rounds]
            )
    summary["load_average"] = spread([r["load_average"] for r in rounds])
    return {"rounds": rounds, "summary": summary}


def check(stack: Stack, path: str, expected: int = 200) -> None:
    status, body = stack.get(path)
    if status != expected:
        raise RuntimeError(f"{path} answered {status}: {body[:300]!r}")


def print_phase(title: str, summary: dict) -> None:
    print(f"\n{title}; load average {summary['load_average']['median']:.2f}")
    print(
        f"{'case':<58}{'p50 ms median [min, max]':>28}{'x floor':>9}{'p99 ms':>9}{'fail':>6}"
    )
    for name, figure in summary.items():
        if name == "load_average":
            continue
        p50 = figure["p50_ms"]
        ratio = figure.get("ratio_to_floor")
        print(
            f"{figure['what']:<58}{p50['median']:>10.2f} [{p50['min']:.2f}, {p50['max']:.2f}]".ljust(
                86
            )
            + (f"{ratio['median']:>8.2f}x" if ratio else " " * 9)
            + f"{figure['p99_ms']['median']:>9.1f}{figure['failures']:>6}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=3, help="wrk seconds per case")
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--synthetic", type=int, default=20_000)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep logs (workdir)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="lotto-consumer-"))
    stack = Stack(
        workdir,
        workers=args.workers,
        env={
            "REDIS_URL": STACK_REDIS_URL,
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
        },
        "settings": {
            "rounds": args.rounds,
            "seconds": args.seconds,
            "connections": args.connections,
            "gunicorn_workers": args.workers,
            "access_log": "on",
            "database": "postgresql",
            "cache": "redis",
            "throttle_anon": stack.env["API_THROTTLE_ANON"],
            "synthetic_draws": args.synthetic,
        },
    }
    pages = args.synthetic // 20
    floor = (FLOOR, ("floor: GET /api/ping/", get_script("/api/ping/")))
    shipped = dict(
        [
            floor,
            (
                "ticket",
                (
                    "POST /api/tickets/check/ (5 games)",
                    post_script("/api/tickets/check/", TICKET),
                ),
            ),
            (
                "page100_warm",
                (
                    "GET /api/draws/?page_size=100 warm (kept page)",
                    get_script("/api/draws/?page_size=100"),
                ),
            ),
            (
                "page100_cold",
                (
                    "GET /api/draws/?page_size=100 cold",
                    cold_script("/api/draws/?page_size=100&"),
                ),
            ),
        ]
    )
    grown = dict(
        [
            floor,
            (
                "page_random",
                (
                    f"GET /api/draws/?page=N, N random in 1-{pages:,}, cold",
                    cold_script("/api/draws/?", pages),
                ),
            ),
            (
                "page_first",
                ("GET /api/draws/ (the first page), cold", cold_script("/api/draws/?")),
            ),
            (
                "page_last",
                (
                    f"GET /api/draws/?page={pages} (the last), cold",
                    cold_script(f"/api/draws/?page={pages}&"),
                ),
            ),
        ]
    )
    print(f"Work dir (logs): {workdir}")
    stack.create()
    try:
        stack.start_web()
        stack.wait_healthy()
        check(stack, "/api/draws/?page_size=100&cold=x")  # an ignored parameter
        for path in ("/api/ping/", "/api/draws/?page_size=100"):  # warm both workers
            for _ in range(20):
                check(stack, path)
        print(
            f"\n{args.rounds} interleaved rounds, wrk {args.seconds} s per case, "
            f"{args.connections} connections, access log on, PostgreSQL, Redis cache"
        )
        report["shipped"] = run_phase(stack, shipped, args, workdir, "shipped")
        started = time.monotonic()
        result = stack.manage(
            "shell",
            "-c",
            "from benchmarks.bench_consumer_api import add_synthetic_draws; "
            f"print(add_synthetic_draws({args.synthetic}))",
        )
        if result.returncode != 0:
            raise RuntimeError(f"could not add draws:\n{result.stderr}")
        print(
            f"\nStored {int(result.stdout.split()[-1]):,} synthetic draws "
            f"({time.monotonic() - started:.1f} s)"
        )
        want = f'"count":{args.synthetic}'
        stack.wait_for(
            lambda: all(
                want
                in stack.get(f"/api/draws/?cold=wait{i}")[1].decode().replace(" ", "")
                for i in range(4)
            ),
            timeout=30,
            what=f"both workers listing {args.synthetic} draws",
        )
        check(stack, f"/api/draws/?page={pages}")
        report["grown"] = run_phase(stack, grown, args, workdir, "grown")
    finally:
        report["exit_codes"] = stack.stop()
        stack.destroy()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report["machine"]["load_average_at_end"] = os.getloadavg()
    shipped_s, grown_s = report["shipped"]["summary"], report["grown"]["summary"]
    print_phase("The shipped 1,220 draws", shipped_s)
    print_phase(f"{args.synthetic:,} draws", grown_s)
    ticket = shipped_s["ticket"]["ratio_to_floor"]["median"]
    warm = shipped_s["page100_warm"]["ratio_to_floor"]["median"]
    deepest = max(
        grown_s[n]["p50_ms"]["median"]
        for n in ("page_random", "page_first", "page_last")
    )
    targets = {
        "ticket_ratio": ticket <= TARGET_RATIO,
        "warm_page_ratio": warm <= TARGET_RATIO,
        "page_p50_ms": deepest < PAGE_TARGET_MS,
    }
    report["targets"] = targets
    failures = sum(
        figure["failures"]
        for summary in (shipped_s, grown_s)
        for name, figure in summary.items()
        if name != "load_average"
    )
    print(
        f"\ntargets: ticket {ticket:.2f}x <= {TARGET_RATIO}x "
        f"{'met' if targets['ticket_ratio'] else 'MISSED'}; warm page {warm:.2f}x <= "
        f"{TARGET_RATIO}x {'met' if targets['warm_page_ratio'] else 'MISSED'}; every page "
        f"of {args.synthetic:,} draws p50 {deepest:.2f} ms < {PAGE_TARGET_MS} ms "
        f"{'met' if targets['page_p50_ms'] else 'MISSED'}; failures {failures}"
    )
    print(
        f"load average: start {report['machine']['load_average_at_start'][0]:.2f}, "
        f"end {report['machine']['load_average_at_end'][0]:.2f} ({os.cpu_count()} CPUs)"
    )
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(report, indent=2) + "\n")
        print(f"Saved {args.save}")
    return 0 if all(targets.values()) and failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
