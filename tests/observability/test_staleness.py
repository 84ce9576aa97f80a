"""A stale draw history shows in /readyz (still 200) and /metrics."""

import pytest
from django.utils import timezone

from draws.schedule import last_scheduled_draw, scheduled_draw
from tests.factories import store_draws
from tests.observability.helpers import parse_metrics, sample

pytestmark = pytest.mark.django_db


def test_readyz_reports_a_stale_history_and_stays_ready(client, shipped_draws):
    response = client.get("/readyz")
    assert response.status_code == 200  # a stale history must not unready replicas
    assert response.json()["draws"] == "stale"
    assert response.json()["latest_draw"] == 1220
    assert response.json()["draws_stored"] == 1220


def test_readyz_reports_an_up_to_date_history_as_ok(client):
    store_draws(last_scheduled_draw().draw_no)
    assert client.get("/readyz").json()["draws"] == "ok"


def test_readyz_reports_an_empty_history_and_is_not_ready(client):
    response = client.get("/readyz")
    assert (response.status_code, response.json()["draws"]) == (503, "empty")


def test_metrics_carry_the_staleness_and_the_age_of_the_newest_draw(
    client, shipped_draws
):
    before = timezone.now()
    samples = parse_metrics(client.get("/metrics").content.decode())
    after = timezone.now()
    assert sample(samples, "ml_draws_stale") == 1
    assert sample(samples, "ml_draws_missing") == last_scheduled_draw().draw_no - 1220
    drawn = scheduled_draw(1220).draws_at
    age = sample(samples, "ml_latest_draw_age_seconds")
    assert (before - drawn).total_seconds() <= age <= (after - drawn).total_seconds()


def test_metrics_say_an_up_to_date_history_is_not_stale(client):
    store_draws(last_scheduled_draw().draw_no)
    samples = parse_metrics(client.get("/metrics").content.decode())
    assert sample(samples, "ml_draws_stale") == 0
    assert sample(samples, "ml_draws_missing") == 0
