"""GET /api/draws/, /api/draws/latest/, /api/draws/<no>/."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def draws_1_to_25(draw_factory):
    return [draw_factory(draw_no=no) for no in range(1, 26)]


def test_the_list_is_paginated_newest_first(api, draws_1_to_25):
    first = api.get("/api/draws/").json()
    second = api.get(first["next"]).json()

    assert first["count"] == 25
    assert [d["draw_no"] for d in first["results"]] == list(range(25, 5, -1))
    assert [d["draw_no"] for d in second["results"]] == [5, 4, 3, 2, 1]
    assert second["next"] is None


def test_a_draw_is_shown_with_its_numbers_bonus_date_and_prizes(api, draw_factory):
    draw_factory(draw_no=3, total_sales=1000, first_prize_winners=2)

    body = api.get("/api/draws/3/").json()

    assert body == {
        "draw_no": 3,
        "draw_date": "2002-12-21",
        "numbers": [4, 5, 6, 7, 8, 9],
        "bonus": 45,
        "total_sales": 1000,
        "first_prize_winners": 2,
        "first_prize_amount": None,
    }


def test_latest_is_the_newest_draw(api, draws_1_to_25):
    response = api.get("/api/draws/latest/")

    assert response.status_code == 200
    assert response.json()["draw_no"] == 25


def test_latest_is_404_while_no_draw_is_stored(api):
    response = api.get("/api/draws/latest/")

    assert response.status_code == 404
    assert response.json() == {
        "detail": "No draws are stored yet.",
        "code": "not_found",
    }


def test_an_unknown_draw_is_404(api, draws_1_to_25):
    assert api.get("/api/draws/999/").status_code == 404


def test_a_page_past_the_end_is_404(api, draws_1_to_25):
    assert api.get("/api/draws/?page=3").status_code == 404


def test_the_draws_api_is_read_only(api, draws_1_to_25):
    assert api.post("/api/draws/", {"draw_no": 26}).status_code == 405
    assert api.delete("/api/draws/3/").status_code == 405
