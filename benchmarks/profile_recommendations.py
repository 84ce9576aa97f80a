"""Where a recommendations request spends its time: cProfile over many requests
through the whole Django stack in one process (middleware, throttling, i18n,
DRF, the view), as a gunicorn worker runs them.

Usage, from the project root, against a migrated database with draws and an
active model (set DATABASE_URL, REDIS_URL as deployed):
    .venv/bin/python benchmarks/profile_recommendations.py [--requests 2000]
        [--path /api/recommendations/?count=5] [--top 30]

Prints, interleaved, the mean wall ms and CPU ms (process time: what this
process spent, not the waits for Redis or PostgreSQL) per request of the floor,
/healthz and the recommendations, then the top functions of --path by own and by
cumulative CPU time. Under load, profile the deployed workers instead with py-spy:
    .venv/bin/py-spy record -p <worker pid> -d 15 -f raw -o worker.txt
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lotto_site.settings")
os.environ.setdefault("API_THROTTLE_ANON", "1000000/min")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

PATHS = ["/api/ping/", "/healthz", "/api/recommendations/?count=5"]


def mean_ms(client: Client, path: str, requests: int) -> tuple[float, float]:
    """(wall, CPU) ms per request."""
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        response = client.get(path, HTTP_HOST="127.0.0.1")
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    return (
        (time.perf_counter() - started) * 1000 / requests,
        (time.process_time() - cpu) * 1000 / requests,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--path", default=PATHS[-1])
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    client = Client()
    for path in PATHS:
        mean_ms(client, path, 50)  # warm: forecast cache, translations, imports
    for _ in range(3):  # interleaved, the order kept
        figures = {p: mean_ms(client, p, 300) for p in PATHS}
        print(
            "  ".join(
                f"{p} {wall:.2f} ms ({cpu:.2f} CPU)"
                for p, (wall, cpu) in figures.items()
            )
            + f"  load {os.getloadavg()[0]:.2f}"
        )
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    mean_ms(client, args.path, args.requests)
    profiler.disable()
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
        print(f"\n--- {args.path}, {args.requests} requests, by {order}")
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
