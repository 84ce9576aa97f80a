"""One JSON error format under /api/: {"detail", "code", "errors"?}."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import include, path
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def crash(request):
    raise RuntimeError("a bug")


# The project's URLs plus one view that crashes, for the 500 test.
urlpatterns = [
    path("api/crash/", crash),
    path("crash/", crash),
    path("", include("lotto_site.urls")),
]
handler404 = "lotto_site.api.errors.page_not_found"
handler500 = "lotto_site.api.errors.server_error"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str), body
    assert body["detail"].endswith("."), body
    assert set(body) <= {"detail", "code", "errors"}, body
    return body


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def staff_token(django_user_model):
    user = django_user_model.objects.create_user("ops", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename="retrain_model"))
    return Token.objects.create(user=user).key


@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_api_path_answers_the_json_404(api, settings, debug):
    settings.DEBUG = debug

    body = assert_error(api.get("/api/no-such-thing/"), 404, "not_found")

    assert "errors" not in body


def test_a_bad_path_parameter_answers_the_json_404(api):
    assert_error(api.get("/api/draws/abc/"), 404, "not_found")
    assert_error(api.post("/api/admin/retrain-runs/x/"), 404, "not_found")


def test_a_missing_trailing_slash_still_redirects(api):
    response = api.get("/api/draws/latest?x=1")

    assert response.status_code == 301
    assert response["Location"] == "/api/draws/latest/?x=1"


def test_an_unknown_page_outside_the_api_stays_html(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_object_that_does_not_exist_is_the_json_404(api):
    body = assert_error(api.get("/api/draws/999999/"), 404, "draw_not_found")

    assert "errors" not in body


def test_bad_fields_are_listed_with_a_message_and_code_each(api):
    response = api.get("/api/recommendations/", {"count": 99, "include": "x"})

    body = assert_error(response, 400, "invalid")
    assert set(body["errors"]) == {"count", "include"}
    assert body["errors"]["count"] == [
        {
            "message": "Ensure this value is less than or equal to 10.",
            "code": "max_value",
        }
    ]
    assert body["errors"]["include"][0]["code"] == "invalid"


def test_a_refusal_without_a_field_is_the_sentence_itself(api, staff_token):
    api.credentials(HTTP_AUTHORIZATION=f"Token {staff_token}")

    response = api.post(
        "/api/admin/manual-retrain", {"tune": True, "warm_start": True}, format="json"
    )

    body = assert_error(response, 400, "invalid")
    assert "Choose tune or warm_start" in body["detail"]
    assert "errors" not in body


@pytest.mark.parametrize(
    "url", ["/api/draws/", "/api/ping/", "/api/recommendations/", "/api/"]
)
def test_a_bogus_token_is_401_with_a_token_challenge_on_public_endpoints(api, url):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = api.get(url)

    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Token"


def test_no_credentials_on_the_staff_api_is_401_with_a_token_challenge(api):
    response = api.get("/api/admin/monitor-status")

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_a_user_who_is_not_staff_gets_403(api, django_user_model):
    user = django_user_model.objects.create_user("player")
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user)}")

    assert_error(api.get("/api/admin/monitor-status"), 403, "permission_denied")


def test_a_method_the_endpoint_does_not_take_is_405(api):
    assert_error(api.delete("/api/draws/"), 405, "method_not_allowed")


def test_a_body_that_is_not_json_is_415(api, staff_token):
    api.credentials(HTTP_AUTHORIZATION=f"Token {staff_token}")

    response = api.post(
        "/api/admin/manual-retrain", "force=1", content_type="text/plain"
    )

    assert_error(response, 415, "unsupported_media_type")


def test_malformed_json_is_a_400_parse_error(api, staff_token):
    api.credentials(HTTP_AUTHORIZATION=f"Token {staff_token}")

    response = api.post(
        "/api/admin/manual-retrain", "{nope", content_type="application/json"
    )

    assert_error(response, 400, "parse_error")


def test_a_crash_is_a_json_500_and_still_logged(settings, caplog):
    settings.ROOT_URLCONF = __name__
    client = APIClient(raise_request_exception=False)

    response = client.get("/api/crash/")

    assert_error(response, 500, "server_error")
    assert "a bug" in caplog.text  # Django logged the traceback


def test_a_crash_outside_the_api_is_still_an_html_page(settings):
    settings.ROOT_URLCONF = __name__
    client = APIClient(raise_request_exception=False)

    response = client.get("/crash/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
