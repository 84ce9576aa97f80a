"""Benchmark the consumer API: ticket check, cached draw pages, deep pages.

Usage, from the project root (one command, nothing to set up):
    .venv/bin/python benchmarks/bench_consumer_api.py [--rounds 5] [--requests 200]

It builds a throw-away site in a temp directory (a fresh SQLite database, tables
from the models; `--database-url postgres://...` uses an EMPTY scratch database
instead), imports the shipped 1,220 draws and measures in-process with
django.test.Client, through the full middleware stack, production settings
(DEBUG off, DRAWS_VERSION_CHECK_SECONDS=2):

* the floor: GET /api/ping/ if the site has it, else the same minimal DRF APIView
  added by this script (no database; the project's default authentication,
  throttling and renderers);
* POST /api/tickets/check/ with five games (one indexed query);
* GET /api/draws/?page_size=100 warm (served from the kept rendered page) and
  cold (the kept page dropped before each request: query, serialize, render);
* then with 20,000 synthetic draws stored: GET /api/draws/?page=N for random
  pages, cold (no kept page), plus the last page.

Each round interleaves the requests (floor, ticket, warm, cold, ...), so all see
the same machine; each figure is the median over rounds of the per-round p50,
with the min and max of those p50s. The load average is printed: on a busy
machine the ratios mean more than the milliseconds.
Targets: ticket p50 <= 2x floor; warm page_size=100 p50 <= 2x floor; any page of
20,000 draws p50 < 10 ms.
"""

import argparse
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))
TARGET_RATIO = 2.0
DEEP_PAGE_TARGET_MS = 10.0
GAMES = [
    [2, 22, 25, 28, 34, 43],
    [1, 3, 4, 5, 6, 7],
    [2, 22, 25, 28, 34, 16],
    [10, 20, 30, 40, 41, 42],
    [2, 22, 25, 8, 9, 11],
]


def configure(workdir: Path, database_url: str | None) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "lotto_site.settings"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["VAR_DIR"] = str(workdir)
    os.environ["MODEL_ROOT"] = str(workdir / "models")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    # The throttles stay on (their cost is part of every request, the floor's
    # too) but never trip in a benchmark.
    os.environ["API_THROTTLE_ANON"] = "100000000/min"
    os.environ["API_THROTTLE_USER"] = "100000000/min"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


class DisableMigrations(dict):
    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


def build_site() -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if "lotto_draws" in connection.introspection.table_names():
        sys.exit("Refusing: the database already holds lotto_draws; use an empty one.")
    settings.MIGRATION_MODULES = DisableMigrations()
    call_command("migrate", run_syncdb=True, verbosity=0)
    call_command("createcachetable", verbosity=0)  # the default cache may be the DB
    call_command("import_draws", verbosity=0, stdout=open(os.devnull, "w"))


def floor_urlconf() -> tuple[types.ModuleType, str]:
    """The site's URLs, plus a minimal no-database APIView if /api/ping/ is absent."""
    from django.urls import Resolver404, include, path, resolve
    from rest_framework.response import Response
    from rest_framework.views import APIView

    try:
        resolve("/api/ping/")
        floor = "/api/ping/"
    except Resolver404:
        floor = "/bench/ping/"

    class PingApi(APIView):
        def get(self, request):
            return Response({"ok": True})

    module = types.ModuleType("bench_consumer_urls")
    module.urlpatterns = [
        path("bench/ping/", PingApi.as_view()),
        path("", include("lotto_site.urls")),
    ]
    return module, floor


def add_synthetic_draws(total: int) -> None:
    """Draws after the last stored one up to `total`: valid, made up, seeded."""
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
    LottoDraw.objects.bulk_create(draws, batch_size=2000)
    draw_history_changed()


def summarize(p50s: list[float]) -> tuple[float, float, float]:
    return statistics.median(p50s), min(p50s), max(p50s)


def measure(client, cases: dict, *, rounds: int, requests: int) -> dict:
    """Interleave every case per request; return the per-round p50s of each."""
    per_round: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        durations: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(requests):
            for name, (prepare, call) in cases.items():
                prepare()
                started = time.perf_counter()
                response = call()
                durations[name].append(time.perf_counter() - started)
                assert response.status_code == 200, (name, response.status_code)
        for name, values in durations.items():
            per_round[name].append(statistics.median(values))
    return {name: summarize(p50s) for name, p50s in per_round.items()}


def row(name: str, figures, floor=None) -> str:
    median, low, high = figures
    text = f"{name:<46}{median * 1e3:>8.3f} ms  (min {low * 1e3:.3f}, max {high * 1e3:.3f})"
    if floor is not None:
        text += f"  {median / floor:>5.2f}x floor"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--synthetic", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-consumer-") as tmp:
        configure(Path(tmp), args.database_url)
        build_site()
        from django.conf import settings
        from django.test import Client
        from django.urls import clear_url_caches

        from draws.api.caching import kept_pages

        settings.ROOT_URLCONF, floor_url = floor_urlconf()
        clear_url_caches()
        client = Client()
        ticket = json.dumps({"draw": 1220, "games": GAMES})
        page_url = "/api/draws/?page_size=100"

        def nothing():
            return None

        cases = {
            f"floor: GET {floor_url}": (nothing, lambda: client.get(floor_url)),
            "POST /api/tickets/check/ (5 games)": (
                nothing,
                lambda: client.post(
                    "/api/tickets/check/", ticket, content_type="application/json"
                ),
            ),
            "GET /api/draws/?page_size=100 warm": (
                nothing,
                lambda: client.get(page_url),
            ),
            "GET /api/draws/?page_size=100 cold": (
                kept_pages.clear,
                lambda: client.get(page_url),
            ),
        }
        for _, call in cases.values():  # warm up code paths, fill the kept page
            for _ in range(30):
                call()
        results = measure(client, cases, rounds=args.rounds, requests=args.requests)

        add_synthetic_draws(args.synthetic)
        pages = args.synthetic // 20
        rng = random.Random(1)
        deep = {
            f"GET /api/draws/?page=N of {args.synthetic} draws": (
                kept_pages.clear,
                lambda: client.get(f"/api/draws/?page={rng.randint(1, pages)}"),
            ),
            f"GET /api/draws/?page={pages} (the last)": (
                kept_pages.clear,
                lambda: client.get(f"/api/draws/?page={pages}"),
            ),
        }
        for _, call in deep.values():
            for _ in range(10):
                call()
        deep_results = measure(
            client, deep, rounds=args.rounds, requests=max(20, args.requests // 4)
        )

        vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"consumer API benchmark ({vendor}), load average {load}")
        print(
            f"{args.rounds} interleaved rounds x {args.requests} requests; "
            "median of per-round p50 (min, max)"
        )
        floor = results[f"floor: GET {floor_url}"][0]
        for name, figures in results.items():
            print(row(name, figures, None if name.startswith("floor") else floor))
        for name, figures in deep_results.items():
            print(row(name, figures))
        ticket_ratio = results["POST /api/tickets/check/ (5 games)"][0] / floor
        warm_ratio = results["GET /api/draws/?page_size=100 warm"][0] / floor
        deep_p50 = max(f[0] for f in deep_results.values()) * 1e3
        print(
            f"targets: ticket {ticket_ratio:.2f}x <= {TARGET_RATIO}x "
            f"{'met' if ticket_ratio <= TARGET_RATIO else 'MISSED'}; "
            f"warm page {warm_ratio:.2f}x <= {TARGET_RATIO}x "
            f"{'met' if warm_ratio <= TARGET_RATIO else 'MISSED'}; "
            f"deep pages {deep_p50:.2f} ms < {DEEP_PAGE_TARGET_MS} ms "
            f"{'met' if deep_p50 < DEEP_PAGE_TARGET_MS else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
