"""The ping, the landing pages, REDIS_URL, and a database that is down."""

import json
import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from rest_framework.test import APIClient

from lotto_site.api.views import PingApi
from recommendations.api.views import RecommendationListApi
from tests.mlops.processes import PYTHON, ROOT, subprocess_env
from tests.observability.stack import free_port

pytestmark = pytest.mark.django_db


def test_ping_answers_ok_without_touching_the_database():
    with CaptureQueriesContext(connection) as queries:
        response = APIClient().get("/api/ping/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert len(queries) == 0


def test_ping_has_the_public_endpoints_auth_throttling_and_renderers():
    ping, public = PingApi(), RecommendationListApi()
    for policy in ("authentication_classes", "throttle_classes", "renderer_classes"):
        assert getattr(ping, policy) == getattr(public, policy), policy
    assert ping.get_permissions()[0].__class__ is public.get_permissions()[0].__class__


@pytest.mark.parametrize("url", ["/", "/api/"])
def test_the_landing_page_links_the_docs_health_and_disclaimer(client, url):
    response = client.get(url, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    for link in ("/api/docs/", "/healthz", "#disclaimer", "/api/ping/"):
        assert f'{link}"' in page, link
    assert "no recommendation, model or statistic improves the odds" in page


def test_a_program_asking_api_gets_the_links_as_json():
    body = APIClient().get("/api/").json()

    assert body["links"]["docs"] == "http://testserver/api/docs/"
    assert body["links"]["health"] == "http://testserver/healthz"
    assert body["links"]["disclaimer"] == "http://testserver/#disclaimer"
    assert "improves the odds" in body["disclaimer"]


def settings_in_subprocess(tmp_path, **env) -> dict:
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps({'cache': settings.CACHES['default'], "
        "'q': settings.Q_CLUSTER}, default=str))"
    )
    done = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=subprocess_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["REDIS_URL", "Q_REDIS_URL"])
def test_one_redis_url_drives_the_cache_and_the_q2_broker(tmp_path, name):
    url = "redis://127.0.0.1:6379/9"

    found = settings_in_subprocess(tmp_path, **{name: url})

    assert found["cache"]["BACKEND"] == "lotto_site.api.throttling.RedisCache"
    assert found["cache"]["LOCATION"] == url
    assert found["q"]["redis"] == url
    assert "orm" not in found["q"]


def test_without_redis_the_database_cache_and_the_orm_broker(tmp_path):
    found = settings_in_subprocess(tmp_path)

    assert found["cache"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert found["q"]["orm"] == "default"
    assert "redis" not in found["q"]


def request_in_subprocess(tmp_path, path: str, **env) -> tuple[int, dict]:
    code = (
        "from django.test import Client; "
        "r = Client(raise_request_exception=False)"
        f".get({path!r}, HTTP_ACCEPT_LANGUAGE='en'); "
        "print(r.status_code); print(r.content.decode())"
    )
    done = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=subprocess_env(tmp_path, ALLOWED_HOSTS="testserver", **env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    status, body = done.stdout.strip().splitlines()[-2:]
    return int(status), json.loads(body)


def test_a_database_that_is_down_answers_503_database_unavailable(tmp_path):
    down = f"postgres://postgres@127.0.0.1:{free_port()}/lotto"  # nothing listens

    status, body = request_in_subprocess(
        tmp_path, "/api/draws/latest/", DATABASE_URL=down
    )

    assert status == 503
    assert body["code"] == "database_unavailable"
    assert body["detail"] == (
        "The database is unavailable right now; try again in a moment."
    )


def test_ping_answers_while_the_database_is_down(tmp_path):
    down = f"postgres://postgres@127.0.0.1:{free_port()}/lotto"

    status, body = request_in_subprocess(tmp_path, "/api/ping/", DATABASE_URL=down)

    # The rate-limit cache is the database cache here: down too, so unthrottled.
    assert (status, body) == (200, {"status": "ok"})


def test_the_landing_page_speaks_korean_when_asked(client):
    with translation.override("ko"):
        korean = translation.gettext("API documentation")
    assert korean != "API documentation"  # the catalog has it

    response = client.get("/", HTTP_ACCEPT_LANGUAGE="ko")

    page = response.content.decode()
    assert '<html lang="ko">' in page
    assert korean in page
    assert "Accept-Language" in response["Vary"]
