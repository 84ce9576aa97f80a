"""Rate limits for the API: a fixed window, one atomic increment per request.

DRF's SimpleRateThrottle keeps every timestamp of the window in one cache
entry (read, rewrite; ~0.7 ms a request on Redis). Here each client has one
counter per window: `cache.add(key, 0)` then `cache.incr(key)`; on Redis one
command does both (a Lua script: INCR, and EXPIRE when it created the key),
see `RedisCache` below.

The counters live in the default cache, which every process shares (Redis with
REDIS_URL, else Django's database cache), so two gunicorn workers enforce one
limit. When that cache cannot be reached the request is let through unthrottled
and `api_throttle_cache_errors_total` counts it: a Redis outage must not take
the public API down with it.

Staff users are never throttled. Rates are DRF rate strings (`120/min`) from
API_THROTTLE_ANON and API_THROTTLE_USER; `rates.parse_rate` refuses anything else at
start-up (see settings.py).
"""

import logging
import math
import os
import threading
import time

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from prometheus_client import Counter
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.retry import Retry
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from .rates import parse_rate

logger = logging.getLogger(__name__)


THROTTLE_CACHE_ERRORS_TOTAL = Counter(
    "api_throttle_cache_errors_total",
    "API requests let through unthrottled because the rate-limit cache failed.",
    ["scope"],
)
THROTTLED_TOTAL = Counter(
    "api_throttled_total",
    "API requests refused with 429 by a rate limit, by scope.",
    ["scope"],
)
for _scope in ("anon", "user"):
    THROTTLE_CACHE_ERRORS_TOTAL.labels(scope=_scope)
    THROTTLED_TOTAL.labels(scope=_scope)


CACHE_ERRORS_TOTAL = Counter(
    "cache_errors_total",
    "Cache reads and writes that failed because Redis was unreachable; a read "
    "counts as a miss, a write is skipped.",
    ["operation"],
)
TOLERATED = ("get", "get_many", "set", "set_many", "add", "delete", "touch")
for _operation in TOLERATED:
    CACHE_ERRORS_TOTAL.labels(operation=_operation)


def tolerant(operation: str, fallback):
    """Wrap a cache method: a Redis error is logged, counted and `fallback`."""

    def method(self, *args, **kwargs):
        try:
            return getattr(super(RedisCache, self), operation)(*args, **kwargs)
        except RedisError:
            CACHE_ERRORS_TOTAL.labels(operation=operation).inc()
            logger.warning("Cache %s failed: Redis unreachable", operation)
            return fallback(*args, **kwargs) if callable(fallback) else fallback

    method.__name__ = operation
    return method


# INCR the window's counter; the request that creates it sets its expiry. One
# command, atomic in Redis: no counter is ever left without an expiry.
INCR_WINDOW_LUA = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's client, but each thread keeps its `redis.Redis` and its connection.

    Django builds a new `redis.Redis` for every cache call (~80 us of CPU: it
    fills a table of ~170 response callbacks), and each command then takes a
    connection from the pool, polls it and puts it back: together most of what
    the rate limiter cost a request. Here each thread (one in a sync gunicorn
    worker) makes one single-connection client per pool and keeps it; after a
    fork the child makes its own (the parent's socket stays the parent's).

    A kept connection that Redis closed (a restart, an idle timeout) fails its
    next command; the pool used to notice by polling every connection it handed
    out. Here the command is sent once more on a new connection instead (only
    for a closed connection: a timeout is not retried, a hung Redis must not
    stall a request twice).
    """

    def __init__(self, servers, **options):
        options.setdefault(
            "retry",
            Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,)),
        )
        super().__init__(servers, **options)
        self._local = threading.local()

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.pid, local.clients = os.getpid(), {}
        client = local.clients.get(id(pool))
        if client is None:
            client = self._client(connection_pool=pool, single_connection_client=True)
            local.clients[id(pool)] = client
        return client


class RedisCache(DjangoRedisCache):
    """Django's Redis cache that survives a Redis outage, plus `incr_window`.

    What the views keep in the cache (rendered bodies) is an optimisation: with
    Redis unreachable a read is a miss and a write is skipped (counted in
    `cache_errors_total`), as django-redis's IGNORE_EXCEPTIONS does. The rate
    limiter's `incr_window` still raises, so that the throttle can count its
    own failure and let the request through.
    """

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
        self._incr_script = None

    get = tolerant("get", lambda key, default=None, version=None: default)
    get_many = tolerant("get_many", {})
    set = tolerant("set", None)
    set_many = tolerant("set_many", lambda data, *a, **k: list(data))
    add = tolerant("add", False)
    delete = tolerant("delete", False)
    touch = tolerant("touch", False)

    def incr_window(self, key: str, timeout: int) -> int:
        """Add 1 to the counter `key`, created with this timeout; the new count.

        One EVALSHA of INCR_WINDOW_LUA: one command, one round trip, atomic
        across every process (the script is loaded again if Redis lost it).
        """
        key = self.make_key(key)  # ours: ASCII, no spaces, short (not validated)
        client = self._cache.get_client(key, write=True)
        if self._incr_script is None:
            self._incr_script = client.register_script(INCR_WINDOW_LUA)
        return self._incr_script(keys=[key], args=[timeout], client=client)


def incr_window(key: str, timeout: int) -> int:
    """One atomic increment of a window counter in the default cache."""
    if hasattr(cache, "incr_window"):  # RedisCache below
        return cache.incr_window(key, timeout)
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: start the window again
        cache.add(key, 1, timeout)
        return 1


class FixedWindowThrottle(BaseThrottle):
    """A counter per client and window; subclasses say who the client is."""

    scope = ""

    def get_rate(self) -> str | None:
        # Read per request, so a test's settings override takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def client_key(self, request) -> str | None:
        raise NotImplementedError

    def exempt(self, request) -> bool:
        """Staff are never throttled."""
        return getattr(getattr(request, "user", None), "is_staff", False)

    def allow_request(self, request, view) -> bool:
        self.wait_seconds = None
        rate = self.get_rate()
        if not rate or self.exempt(request):
            return True
        client = self.client_key(request)
        if client is None:
            return True
        allowed, period = parse_rate(rate)
        now = time.time()
        window = int(now // period)
        key = f"throttle:{self.scope}:{period}:{window}:{client}"
        try:
            count = incr_window(key, period + 1)
        except Exception:  # noqa: BLE001 - any cache failure: serve, and count it
            THROTTLE_CACHE_ERRORS_TOTAL.labels(scope=self.scope).inc()
            logger.warning(
                "Rate-limit cache unavailable; request not throttled", exc_info=True
            )
            return True
        if count <= allowed:
            return True
        THROTTLED_TOTAL.labels(scope=self.scope).inc()
        self.wait_seconds = max(1, math.ceil((window + 1) * period - now))
        return False

    def wait(self) -> float | None:
        return self.wait_seconds


class AnonRateThrottle(FixedWindowThrottle):
    """Anonymous clients, per IP address (API_NUM_PROXIES says whose)."""

    scope = "anon"

    def client_key(self, request) -> str | None:
        if request.user and request.user.is_authenticated:
            return None  # the user throttle counts them
        return self.get_ident(request)


class UserRateThrottle(FixedWindowThrottle):
    """Authenticated clients (a token or a session), per user."""

    scope = "user"

    def client_key(self, request) -> str | None:
        if request.user and request.user.is_authenticated:
            return str(request.user.pk)
        return None


class FailedAuthenticationThrottle(AnonRateThrottle):
    """A request whose token (or session) is refused counts against its address's
    anonymous limit too: DRF refuses it before any throttle runs, so without
    this a client could send bogus tokens without limit. Used by the API's
    exception handler; `request.user` must not be read (it would fail again)."""

    def exempt(self, request) -> bool:
        return False

    def client_key(self, request) -> str | None:
        return self.get_ident(request)
