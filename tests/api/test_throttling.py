"""Rate limits: fixed window, per IP for anonymous clients, per token, staff
exempt, 429 with Retry-After; the counters in the database cache or Redis, and
a Redis outage answered unthrottled and counted."""

import os
import subprocess
import uuid

import pytest
import redis
from django.core.cache import cache
from prometheus_client import REGISTRY
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from lotto_site.api.rates import parse_rate
from tests.dependencies import missing_dependency
from tests.mlops.processes import PYTHON, ROOT, subprocess_env
from tests.observability.stack import free_port

pytestmark = pytest.mark.django_db

PING = "/api/ping/"
REDIS_TEST_URL = os.environ.get("API_REDIS_TEST_URL", "redis://127.0.0.1:6379/9")


@pytest.fixture
def rates(settings):
    """rates(anon=..., user=...): set the limits; every test starts from zero
    (the test settings' cache is this process's memory)."""

    def set_rates(anon="1000/min", user="1000/min"):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"anon": anon, "user": user},
        }

    cache.clear()
    return set_rates


def statuses(client, n: int, url: str = PING, **extra) -> list[int]:
    return [client.get(url, **extra).status_code for _ in range(n)]


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user)}")
    return client


def cache_errors(scope: str) -> float:
    value = REGISTRY.get_sample_value(
        "api_throttle_cache_errors_total", {"scope": scope}
    )
    return value or 0.0


def test_an_anonymous_client_gets_429_with_retry_after_past_its_rate(rates):
    rates(anon="3/min")
    client = APIClient()

    assert statuses(client, 3) == [200, 200, 200]
    refused = client.get(PING)

    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert refused.json()["detail"].startswith("Request was throttled.")
    assert 1 <= int(refused["Retry-After"]) <= 60


def test_anonymous_clients_are_counted_per_ip_address(rates):
    rates(anon="2/min")
    client = APIClient()

    assert statuses(client, 3, REMOTE_ADDR="10.0.0.1") == [200, 200, 429]
    assert statuses(client, 2, REMOTE_ADDR="10.0.0.2") == [200, 200]


def test_a_forged_x_forwarded_for_does_not_reset_the_count(rates):
    rates(anon="2/min")
    client = APIClient()
    forged = [
        client.get(PING, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(3)
    ]

    assert forged == [200, 200, 429]


def test_behind_one_proxy_the_forwarded_client_address_is_counted(rates, settings):
    rates(anon="1/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    client = APIClient()

    first = client.get(PING, HTTP_X_FORWARDED_FOR="203.0.113.1").status_code
    other = client.get(PING, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code
    again = client.get(PING, HTTP_X_FORWARDED_FOR="203.0.113.1").status_code

    assert [first, other, again] == [200, 200, 429]


def test_a_token_has_its_own_rate_whatever_the_address(rates, django_user_model):
    rates(anon="1/min", user="3/min")
    client = token_client(django_user_model.objects.create_user("app"))

    assert statuses(client, 2, REMOTE_ADDR="10.0.0.1") == [200, 200]
    assert statuses(client, 2, REMOTE_ADDR="10.0.0.2") == [200, 429]
    # The anonymous count of that address was never touched.
    assert APIClient().get(PING, REMOTE_ADDR="10.0.0.1").status_code == 200


def test_bogus_tokens_count_against_the_address_anonymous_limit(rates):
    rates(anon="2/min")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    answers = statuses(client, 3)

    assert answers == [401, 401, 429]
    assert APIClient().get(PING).status_code == 429  # the same address


def test_staff_are_never_throttled(rates, django_user_model):
    rates(anon="1/min", user="1/min")
    client = token_client(django_user_model.objects.create_user("ops", is_staff=True))

    assert statuses(client, 5) == [200] * 5


def test_every_public_endpoint_is_throttled(rates):
    rates(anon="1/min")
    client = APIClient()
    urls = ["/api/", "/api/draws/", "/api/recommendations/", "/api/draws/latest/"]

    for url in urls:
        cache.clear()
        assert client.get(url).status_code != 429
        assert client.get(url).status_code == 429, url


def test_the_database_cache_holds_the_counters(rates, settings):
    # The embedded default (no REDIS_URL); migrate created the table.
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "lotto_cache",
        },
    }
    rates(anon="2/min")

    assert statuses(APIClient(), 3) == [200, 200, 429]


@pytest.fixture
def redis_cache(settings):
    """The default cache on Redis (API_REDIS_TEST_URL, db 9), under a prefix of
    its own whose keys are deleted afterwards."""
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        missing_dependency(f"no Redis at {REDIS_TEST_URL}")
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "lotto_site.api.throttling.RedisCache",
            "LOCATION": REDIS_TEST_URL,
            "KEY_PREFIX": prefix,
        },
    }
    yield client
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def test_redis_holds_one_expiring_counter_per_client_and_window(rates, redis_cache):
    rates(anon="2/min")

    assert statuses(APIClient(), 3) == [200, 200, 429]
    (key,) = [k for k in redis_cache.scan_iter("test-*") if b"throttle:anon" in k]
    assert int(redis_cache.get(key)) == 3
    assert 0 < redis_cache.ttl(key) <= 61


def test_the_kept_redis_connection_survives_being_dropped(rates, redis_cache):
    # Each thread keeps one connection for the limiter (no pool checkout per
    # request); when Redis drops it (a restart, a timeout), the next request
    # reconnects and the count goes on.
    rates(anon="2/min")
    assert statuses(APIClient(), 1) == [200]
    kept = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is kept

    errors = cache_errors("anon")
    redis_cache.client_kill_filter(_id=kept.client_id())

    assert statuses(APIClient(), 2) == [200, 429]
    assert cache_errors("anon") == errors  # reconnected, not let through


def test_with_redis_unreachable_requests_are_served_and_counted(rates, settings):
    port = free_port()  # nothing listens there
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "lotto_site.api.throttling.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/9",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    rates(anon="1/min")
    before = cache_errors("anon")

    assert statuses(APIClient(), 3) == [200, 200, 200]
    # Endpoints that keep rendered bodies in the cache answer too (a miss).
    for url in ("/api/draws/", "/api/draws/latest/", "/api/"):
        assert APIClient().get(url).status_code in {200, 404}, url
    assert cache_errors("anon") == before + 6


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [
        ("120/min", (120, 60)),
        ("5/s", (5, 1)),
        ("10/hour", (10, 3600)),
        ("1/d", (1, 86400)),
    ],
)
def test_drf_rate_strings_are_understood(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["abc", "120", "0/min", "-1/min", "120/week", "x/min"])
def test_a_rate_that_does_not_parse_is_refused(rate):
    with pytest.raises(ValueError, match="is not a rate"):
        parse_rate(rate)


@pytest.mark.parametrize("name", ["API_THROTTLE_ANON", "API_THROTTLE_USER"])
def test_a_bad_rate_setting_stops_start_up_in_one_line_naming_it(tmp_path, name):
    env = subprocess_env(tmp_path, **{name: "lots"})
    done = subprocess.run(
        [PYTHON, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"{name}: 'lots' is not a rate: write requests/period, e.g. 120/min "
        "(period: sec, min, hour or day)"
    ]
