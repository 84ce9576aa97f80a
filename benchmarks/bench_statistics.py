"""Benchmark the honest statistics: exact verdicts, fairness tests, the statistics API.

Usage, from the project root (one command, nothing to set up):
    .venv/bin/python benchmarks/bench_statistics.py [--runs 7] [--repeat 20]
        [--requests 200]

It builds a throw-away site in a temp directory (fresh SQLite database, tables
from the models; the shipped draws imported), then measures, every figure as
the median over --runs runs with the min and max of the run medians:

* the exact computations for n = 52 forecasts (docs/STATISTICS.md): the any-hit
  and prize rates (binomtest + Clopper-Pearson), mean hits (the convolution of 52
  hypergeometric laws, its p-values and the tilted interval) cold (the convolution
  recomputed) and warm, and all three together; target < 50 ms. The Brier
  Monte Carlo null (1,000 seeded replications) is reported beside them;
* the fairness tests of a window of 52 draws and of the whole history;
* `get_monitor_status()`: its query count (target <= 2) and time;
* in-process with django.test.Client through the full middleware stack,
  interleaved in the same run: GET /api/statistics/numbers/ (cached after the
  first request) against GET /api/ping/ (the no-database floor view; this
  script adds a minimal DRF view when the project has none). Target: p50 ratio
  <= 2.

The load average is printed before and after: the figures mean little on a
busy machine.
"""

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))
TARGET_EXACT_MS = 50.0
TARGET_RATIO = 2.0


def configure(workdir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "lotto_site.settings"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["VAR_DIR"] = str(workdir)
    os.environ["MODEL_ROOT"] = str(workdir / "models")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    # The throttles stay on (their cost is part of every request) but never
    # answer 429 to the benchmark's thousands of requests.
    os.environ["API_THROTTLE_ANON"] = "100000000/min"
    os.environ["API_THROTTLE_USER"] = "100000000/min"
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
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

    settings.MIGRATION_MODULES = DisableMigrations()
    call_command("migrate", run_syncdb=True, verbosity=0)
    call_command("createcachetable", verbosity=0)  # the database cache, if used
    call_command("import_draws", verbosity=0, stdout=open(os.devnull, "w"))


def ping_urlconf():
    """The site's URLs, plus a no-database DRF view when /api/ping/ is absent."""
    from django.urls import Resolver404, include, path, resolve
    from rest_framework.response import Response
    from rest_framework.views import APIView

    try:
        resolve("/api/ping/")
        return None, "/api/ping/"
    except Resolver404:
        pass

    class PingApi(APIView):
        def get(self, request):
            return Response({"ok": True})

    module = types.ModuleType("bench_statistics_urls")
    module.urlpatterns = [
        path("bench/ping/", PingApi.as_view()),
        path("", include("lotto_site.urls")),
    ]
    return module, "/bench/ping/"


def timed(function, repeat: int) -> float:
    """Median seconds of `repeat` calls."""
    durations = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def summary(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def bench_exact(runs: int, repeat: int) -> dict[str, list[float]]:
    from draws import fairness
    from draws.statistics import history_arrays
    from mlops.ml import metrics

    rng = np.random.default_rng(52)
    hits = rng.choice(7, size=52, p=metrics.hypergeometric_hits_pmf()).tolist()
    forecasts = rng.dirichlet(np.ones(45), size=52) * 6
    draws = np.array([rng.choice(45, 6, replace=False) + 1 for _ in range(52)])
    scores = [metrics.brier_score(p, w) for p, w in zip(forecasts, draws, strict=True)]
    any_hit = sum(1 for h in hits if h >= 1)
    prizes = sum(1 for h in hits if h >= 3)
    _, main, bonus = history_arrays()

    def rates():
        metrics.rate_figure(any_hit, 52, metrics.random_any_hit_probability())
        metrics.rate_figure(prizes, 52, metrics.random_prize_probability())

    def mean_hits_cold():
        fairness.sum_log_pmf.cache_clear()
        metrics.mean_hits_figure(hits)

    def all_exact_cold():
        fairness.sum_log_pmf.cache_clear()
        rates()
        metrics.mean_hits_figure(hits)

    def fairness_cold(window):
        def run():
            fairness.sum_pmf.cache_clear()
            fairness.bonus_null.cache_clear()
            fairness.fairness_test(main[-window:], bonus[-window:])

        return run

    cases = {
        "rates x2 (exact binomial tails + Clopper-Pearson)": rates,
        "mean hits, cold (convolution + p + interval)": mean_hits_cold,
        "mean hits, warm (convolution cached)": lambda: metrics.mean_hits_figure(hits),
        "all exact figures, cold": all_exact_cold,
        "Brier Monte Carlo null (1,000 replications)": lambda: metrics.brier_figure(
            forecasts, scores
        ),
        "fairness tests, last 52 draws, cold": fairness_cold(52),
        f"fairness tests, all {len(main)} draws, cold": fairness_cold(len(main)),
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, function in cases.items():  # interleaved
            results[name].append(timed(function, repeat))
    return results


def bench_monitor(runs: int, repeat: int) -> tuple[int, list[float]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mlops.services.monitoring.monitoring import get_monitor_status

    with CaptureQueriesContext(connection) as queries:
        get_monitor_status()
    return len(queries), [timed(get_monitor_status, repeat) for _ in range(runs)]


def bench_http(requests: int, runs: int) -> tuple[dict[str, list[float]], str]:
    from django.conf import settings
    from django.test import Client
    from django.urls import clear_url_caches

    urlconf, ping = ping_urlconf()
    if urlconf is not None:
        settings.ROOT_URLCONF = urlconf
        clear_url_caches()
    client = Client()
    urls = {
        "GET /api/statistics/numbers/ (cached)": "/api/statistics/numbers/",
        f"GET {ping} (no DB)": ping,
    }
    for url in urls.values():  # warm: the statistics computed and kept
        for _ in range(20):
            response = client.get(url)
            assert response.status_code == 200, (
                url,
                response.status_code,
                response.content[:300],
            )
    p50s: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(runs):
        durations: dict[str, list[float]] = {name: [] for name in urls}
        for _ in range(requests):
            for name, url in urls.items():  # interleaved A/B
                started = time.perf_counter()
                client.get(url)
                durations[name].append(time.perf_counter() - started)
        for name, values in durations.items():
            p50s[name].append(statistics.median(values))
    return p50s, ping


def print_row(name: str, values: list[float], note: str = "") -> None:
    median, low, high = summary(values)
    print(
        f"{name:<50}{median * 1e3:>9.3f} ms  [{low * 1e3:.3f}, {high * 1e3:.3f}]"
        f"  {note}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="lotto-bench-statistics-") as workdir:
        configure(Path(workdir))
        from django.db import connection

        build_site()
        exact = bench_exact(args.runs, args.repeat)
        queries, monitor = bench_monitor(args.runs, args.repeat)
        http, ping = bench_http(args.requests, args.runs)
        connection.close()
    load_after = os.getloadavg()

    print(
        f"bench_statistics: median of {args.runs} runs [min, max of the run "
        f"medians]; each run the median of {args.repeat} calls "
        f"({args.requests} requests per URL for HTTP)"
    )
    print(
        "load average before: {:.2f} {:.2f} {:.2f}; after: {:.2f} {:.2f} {:.2f} "
        "({} CPUs)".format(*load_before, *load_after, os.cpu_count())
    )
    print("-" * 100)
    for name, values in exact.items():
        note = ""
        if name.startswith("all exact"):
            ok = statistics.median(values) * 1e3 < TARGET_EXACT_MS
            note = f"(target < {TARGET_EXACT_MS:.0f} ms) {'PASS' if ok else 'FAIL'}"
        print_row(name, values, note)
    print_row(
        "get_monitor_status()",
        monitor,
        f"{queries} queries (target <= 2) {'PASS' if queries <= 2 else 'FAIL'}",
    )
    for name, values in http.items():
        print_row(name + " p50", values)
    stats_p50 = statistics.median(http["GET /api/statistics/numbers/ (cached)"])
    ping_p50 = statistics.median(http[f"GET {ping} (no DB)"])
    ratio = stats_p50 / ping_p50
    ratios = [
        s / p
        for s, p in zip(
            http["GET /api/statistics/numbers/ (cached)"],
            http[f"GET {ping} (no DB)"],
            strict=True,
        )
    ]
    print(
        f"ratio p50 statistics / ping: {ratio:.2f}x [{min(ratios):.2f}, "
        f"{max(ratios):.2f}] (target <= {TARGET_RATIO:.0f}x) "
        f"{'PASS' if ratio <= TARGET_RATIO else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
