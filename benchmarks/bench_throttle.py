"""What a rate-limit check costs per request on Redis: our fixed window against
DRF's SimpleRateThrottle (the history of every timestamp in the window).

Usage, from the project root (needs Redis on 127.0.0.1:6379):
    .venv/bin/python benchmarks/bench_throttle.py [--rounds 15] [--calls 500]
        [--redis-url redis://127.0.0.1:6379/9]

Both throttles run in this process against the same Django RedisCache (the
production cache backend, REDIS_URL), each under a rate high enough that no
request is refused, so every call does its full work: ours one pipelined
SET NX EX + INCR; DRF's a GET of the history list and a SET of it. DRF's window
holds up to `--history` timestamps (its cost grows with the rate; a client at
120/min keeps up to 120). A and B are interleaved round by round; each round
times `--calls` calls of allow_request and reports microseconds per call. The
medians, min and max over the rounds are printed with the load average. The keys
are written under a random prefix and deleted at the end.
"""

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def setup(redis_url: str, prefix: str) -> None:
    sys.path.insert(0, str(PROJECT_ROOT))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="lotto_site.settings",
        DEBUG="1",
        VAR_DIR=tempfile.mkdtemp(prefix="bench-throttle-"),
        REDIS_URL=redis_url,
        CACHE_KEY_PREFIX=prefix,
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()


def make_throttles(history: int):
    from rest_framework import throttling as drf
    from rest_framework.settings import api_settings

    from lotto_site.api import throttling as ours

    rate = f"{10**9}/min"
    api_settings.DEFAULT_THROTTLE_RATES["anon"] = rate  # ours reads it per call

    class DrfAnon(drf.AnonRateThrottle):
        def get_rate(self):
            return rate

    return ours.AnonRateThrottle, DrfAnon


def one_round(throttle_class, request, calls: int) -> float:
    throttle = throttle_class()
    start = time.perf_counter()
    for _ in range(calls):
        if not throttle.allow_request(request, None):
            raise RuntimeError("a request was refused: the rate is too low")
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--history", type=int, default=120)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()
    prefix = f"bench-throttle-{secrets.token_hex(4)}"
    setup(args.redis_url, prefix)

    from django.contrib.auth.models import AnonymousUser
    from django.core.cache import cache
    from rest_framework.test import APIRequestFactory

    ours, drf = make_throttles(args.history)
    request = APIRequestFactory().get("/api/ping/", REMOTE_ADDR="10.9.8.7")
    request.user = AnonymousUser()
    try:
        # DRF's history at the size a client at `history`/min keeps.
        drf_key = drf().get_cache_key(request, None)
        cache.set(drf_key, [time.time()] * args.history, 60)
        one_round(ours, request, 50)  # warm the connection pool
        one_round(drf, request, 50)
        cache.set(drf_key, [time.time()] * args.history, 60)
        results = {"fixed window (ours)": [], "DRF SimpleRateThrottle": []}
        for _ in range(args.rounds):
            results["fixed window (ours)"].append(one_round(ours, request, args.calls))
            # DRF trims its history to the window; keep it at `history` entries.
            cache.set(drf_key, [time.time()] * args.history, 60)
            results["DRF SimpleRateThrottle"].append(
                one_round(drf, request, args.calls)
            )
    finally:
        client = cache._cache.get_client(write=True)  # noqa: SLF001 - cleanup
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)

    load = os.getloadavg()
    print(
        f"Redis {args.redis_url}; {args.rounds} interleaved rounds x {args.calls} calls"
    )
    print(f"DRF history held at {args.history} timestamps (+ calls of the round)")
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for name, values in results.items():
        print(
            f"{name:26s} median {statistics.median(values):7.1f} us/request "
            f"(min {min(values):.1f}, max {max(values):.1f})"
        )


if __name__ == "__main__":
    main()
