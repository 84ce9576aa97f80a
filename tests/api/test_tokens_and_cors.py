"""Tokens issued by staff (command and admin), and CORS for listed origins."""

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ORIGIN = "https://app.example.com"


def issue(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue().strip()


def test_issue_token_prints_a_key_that_authenticates(django_user_model):
    django_user_model.objects.create_user("app")

    key, message = issue("app")

    assert Token.objects.get(user__username="app").key == key
    assert message == "Issued a new token for app."
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/ping/").status_code == 200


def test_issue_token_again_prints_the_same_key_and_rotate_replaces_it(
    django_user_model,
):
    django_user_model.objects.create_user("app")
    first, _ = issue("app")

    again, message = issue("app")
    rotated, _ = issue("app", "--rotate")

    assert again == first
    assert "already has this token" in message
    assert rotated != first
    assert not Token.objects.filter(key=first).exists()


def test_issue_token_refuses_an_unknown_user_unless_asked_to_create_it(
    django_user_model,
):
    with pytest.raises(CommandError, match="There is no user ghost"):
        issue("ghost")
    assert not django_user_model.objects.filter(username="ghost").exists()

    key, _ = issue("ghost", "--create-user")

    user = django_user_model.objects.get(username="ghost")
    assert user.auth_token.key == key
    assert not user.has_usable_password()  # an API-only account
    assert not user.is_staff


def test_issue_token_refuses_an_inactive_user(django_user_model):
    django_user_model.objects.create_user("gone", is_active=False)

    with pytest.raises(CommandError, match="inactive"):
        issue("gone")
    assert not Token.objects.exists()


def test_staff_issue_a_token_in_the_admin(admin_client, django_user_model):
    user = django_user_model.objects.create_user("app")

    response = admin_client.post("/admin/authtoken/tokenproxy/add/", {"user": user.pk})

    assert response.status_code == 302
    assert Token.objects.filter(user=user).exists()


def test_no_origin_may_call_the_api_from_a_browser_by_default():
    response = APIClient().get("/api/ping/", HTTP_ORIGIN=ORIGIN)

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_a_listed_origin_may_call_the_api_and_read_retry_after(settings):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]
    client = APIClient()

    preflight = client.options(
        "/api/recommendations/",
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    answer = client.get("/api/ping/", HTTP_ORIGIN=ORIGIN)

    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == ORIGIN
    assert "authorization" in preflight["Access-Control-Allow-Headers"]
    assert answer["Access-Control-Allow-Origin"] == ORIGIN
    assert "Retry-After" in answer["Access-Control-Expose-Headers"]


def test_an_origin_that_is_not_listed_gets_no_cors_headers(settings):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]

    response = APIClient().get("/api/ping/", HTTP_ORIGIN="https://evil.example")

    assert "Access-Control-Allow-Origin" not in response


def test_cors_covers_the_api_only(settings):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]

    response = APIClient().get("/healthz", HTTP_ORIGIN=ORIGIN)

    assert "Access-Control-Allow-Origin" not in response
