"""Staff API: /api/admin/monitor-status and /api/admin/accuracy-trend."""

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from mlops.services.monitoring.monitoring import get_monitor_status
from mlops.services.monitoring.replay import replayed_status
from tests.mlops.test_predictions import make_version, record_scored

pytestmark = pytest.mark.django_db

STATUS_URL = "/api/admin/monitor-status"
TREND_URL = "/api/admin/accuracy-trend"


@pytest.fixture
def staff_client():
    user = get_user_model().objects.create_user("ops", password="pw", is_staff=True)
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def user_client():
    user = get_user_model().objects.create_user("player", password="pw")
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("url", [STATUS_URL, TREND_URL])
def test_anonymous_requests_are_refused(url):
    response = APIClient().get(url)
    assert response.status_code == 401


@pytest.mark.parametrize("url", [STATUS_URL, TREND_URL])
def test_a_user_who_is_not_staff_is_refused(user_client, url):
    assert user_client.get(url).status_code == 403


def test_a_staff_token_is_accepted():
    user = get_user_model().objects.create_user("bot", is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user)}")
    assert client.get(STATUS_URL).status_code == 200


def test_the_status_is_the_services_answer(staff_client, model_root):
    record_scored(1001, make_version(), 2)
    response = staff_client.get(STATUS_URL)
    assert response.status_code == 200
    body = response.json()
    expected = {**get_monitor_status(), "replayed": replayed_status()}
    assert body == json.loads(json.dumps(expected))
    assert body["replayed"]["series"] == "replayed"
    assert body["sample_size"] == 1
    assert body["accuracy"] == 100.0
    assert body["status"] == "insufficient_data"
    for key in ("baseline", "interval", "verdict", "window", "emergency_retrain"):
        assert key in body


def test_the_trend_lists_the_scored_draws_of_the_period(staff_client, model_root):
    version = make_version()
    today = timezone.localdate()
    record_scored(1001, version, 0, date=today - dt.timedelta(days=40))
    record_scored(1002, version, 3, date=today - dt.timedelta(days=3))
    response = staff_client.get(TREND_URL, {"days": 28})
    assert response.status_code == 200
    body = response.json()
    assert body["days"] == 28
    assert [(e["draw"], e["hits"], e["accuracy"]) for e in body["trend"]] == [
        (1002, 3, 50.0)
    ]
    assert staff_client.get(TREND_URL).json()["days"] == 28  # the default
    assert len(staff_client.get(TREND_URL, {"days": 60}).json()["trend"]) == 2


@pytest.mark.parametrize("days", ["0", "-1", "3651", "abc", "1.5"])
def test_a_bad_number_of_days_is_refused_with_400(staff_client, days):
    response = staff_client.get(TREND_URL, {"days": days})
    assert response.status_code == 400
    assert "days" in response.json()["errors"]


@pytest.mark.parametrize("days", ["1", "3650"])
def test_the_limits_of_days_are_accepted(staff_client, days):
    assert staff_client.get(TREND_URL, {"days": days}).status_code == 200
