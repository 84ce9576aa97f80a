"""Admin logins are throttled (django-axes): guessing stops working after a few tries."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "the-right-password-42"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "operator", password=PASSWORD, is_staff=True, is_superuser=True
    )


def login(client, password, *, username="operator", address="198.51.100.7"):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_fails_after_too_many_wrong_ones(client, staff, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, f"guess-{attempt}").status_code == 200  # form again
    locked = login(client, "guess-last")
    right = login(client, PASSWORD)
    assert locked.status_code == 429
    assert right.status_code == 429
    assert int(right["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert b"Too many failed logins" in right.content
    assert not logged_in(client)


def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, staff):
    # The attack run's case: 30 guesses, then the real password.
    for attempt in range(30):
        login(client, f"guess-{attempt}")
    assert login(client, PASSWORD).status_code == 429
    assert not logged_in(client)


def test_the_lock_is_lifted_after_the_cool_off(client, staff, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, f"guess-{attempt}")
    assert login(client, PASSWORD).status_code == 429
    past = timezone.now() - settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=past)
    assert login(client, PASSWORD).status_code == 302
    assert logged_in(client)


def test_a_lock_holds_one_user_name_from_one_address(client, staff, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, f"guess-{attempt}")
    # The same user from another address still gets in.
    assert login(client, PASSWORD, address="203.0.113.20").status_code == 302


def test_a_success_before_the_limit_resets_the_count(client, staff, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, f"guess-{attempt}")
    assert login(client, PASSWORD).status_code == 302
    client.logout()
    assert login(client, "one-more-guess").status_code == 200
    assert login(client, PASSWORD).status_code == 302
