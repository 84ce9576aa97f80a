"""GET /api/draws/, /api/draws/latest/, /api/draws/<no>/."""

import io

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
    draw_factory(
        draw_no=3,
        total_sales=1000,
        first_prize_winners=2,
        first_prize_amount=None,
        rank4_winners=None,
    )

    body = api.get("/api/draws/3/").json()

    assert body == {
        "draw_no": 3,
        "draw_date": "2002-12-21",
        "numbers": [4, 5, 6, 7, 8, 9],
        "bonus": 45,
        "total_sales": 1000,
        "first_prize_winners": 2,
        "first_prize_amount": None,
        "prizes": [
            {"rank": 1, "winners": 2, "prize_each": None},
            {"rank": 2, "winners": 60, "prize_each": 55_000_000},
            {"rank": 3, "winners": 3_000, "prize_each": 1_500_000},
            {"rank": 4, "winners": None, "prize_each": 50_000},
            {"rank": 5, "winners": 2_500_000, "prize_each": 5_000},
        ],
    }


def test_latest_is_the_newest_draw(api, draws_1_to_25):
    response = api.get("/api/draws/latest/")

    assert response.status_code == 200
    assert response.json()["draw_no"] == 25


def test_latest_is_404_while_no_draw_is_stored(api):
    response = api.get("/api/draws/latest/")

    assert response.status_code == 404
    assert response.json()["detail"] == "No draws are stored yet."


def test_an_unknown_draw_is_404(api, draws_1_to_25):
    assert api.get("/api/draws/999/").status_code == 404


def test_a_page_past_the_end_is_404(api, draws_1_to_25):
    assert api.get("/api/draws/?page=3").status_code == 404


def test_the_draws_api_is_read_only(api, draws_1_to_25):
    assert api.post("/api/draws/", {"draw_no": 26}).status_code == 405
    assert api.delete("/api/draws/3/").status_code == 405


# --- Browsing: filters, ordering, page size -------------------------------------------


def draw_nos(response) -> list[int]:
    return [d["draw_no"] for d in response.json()["results"]]


def test_it_filters_by_draw_number_and_date_range(api, draws_1_to_25):
    by_number = api.get("/api/draws/?draw_from=3&draw_to=6")
    by_date = api.get("/api/draws/?date_from=2002-12-14&date_to=2002-12-28")

    assert draw_nos(by_number) == [6, 5, 4, 3]
    assert draw_nos(by_date) == [4, 3, 2]


def test_it_orders_oldest_first_when_asked(api, draws_1_to_25):
    response = api.get("/api/draws/?ordering=draw_no&page_size=3")

    assert draw_nos(response) == [1, 2, 3]
    assert response.json()["count"] == 25


def test_page_size_goes_up_to_100(api, draws_1_to_25):
    assert len(draw_nos(api.get("/api/draws/?page_size=100"))) == 25
    assert len(draw_nos(api.get("/api/draws/?page_size=1"))) == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page_size=ten", "page_size"),
        ("ordering=date", "ordering"),
        ("ordering=-draw_date", "ordering"),
        ("date_from=2002-13-01", "date_from"),
        ("date_to=yesterday", "date_to"),
        ("draw_from=0", "draw_from"),
        ("draw_to=x", "draw_to"),
        ("draw_from=9&draw_to=3", "draw_to"),
        ("date_from=2003-01-01&date_to=2002-12-01", "date_to"),
        ("page=0", "page"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(api, draws_1_to_25, query, field):
    response = api.get(f"/api/draws/?{query}")

    assert response.status_code == 400
    body = response.json()
    assert field in body["errors"]


# --- HTTP caching ----------------------------------------------------------------------


def test_draw_answers_carry_an_etag_and_cache_until_the_next_sync(api, draws_1_to_25):
    for url in ("/api/draws/", "/api/draws/latest/", "/api/draws/3/"):
        response = api.get(url)

        assert response["ETag"].startswith('"')
        max_age = int(response["Cache-Control"].split("max-age=")[1])
        assert response["Cache-Control"].startswith("public, ")
        assert 0 < max_age <= 7 * 24 * 3600
        assert "Accept-Language" in response["Vary"]


def test_the_max_age_ends_at_the_next_scheduled_sync(api, draws_1_to_25, settings):
    from draws.schedule import next_scheduled_sync

    response = api.get("/api/draws/latest/")
    max_age = int(response["Cache-Control"].split("max-age=")[1])

    from django.utils import timezone

    expected = (next_scheduled_sync() - timezone.now()).total_seconds()
    assert abs(max_age - expected) <= 2


def test_a_matching_if_none_match_is_a_304(api, draws_1_to_25):
    etag = api.get("/api/draws/?page_size=5")["ETag"]

    again = api.get("/api/draws/?page_size=5", HTTP_IF_NONE_MATCH=etag)
    weak = api.get("/api/draws/?page_size=5", HTTP_IF_NONE_MATCH=f"W/{etag}")
    other = api.get("/api/draws/?page_size=5", HTTP_IF_NONE_MATCH='"nope"')

    assert again.status_code == 304
    assert again["ETag"] == etag
    assert "max-age=" in again["Cache-Control"]
    assert weak.status_code == 304
    assert other.status_code == 200


def test_the_etag_changes_when_a_draw_is_imported(api, draws_1_to_25, tmp_path):
    from django.core.management import call_command

    before = api.get("/api/draws/?page_size=100")
    path = tmp_path / "one.csv"
    path.write_text(
        "draw_no,draw_date,n1,n2,n3,n4,n5,n6,bonus\n26,2003-05-31,1,2,3,4,5,6,7\n"
    )
    call_command("import_draws", str(path), stdout=io.StringIO())

    after = api.get("/api/draws/?page_size=100", HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert after.json()["results"][0]["draw_no"] == 26


def test_the_etag_depends_on_the_language(draws_1_to_25, rf):
    from django.utils import translation

    from draws.api.caching import draws_etag

    request = rf.get("/api/draws/latest/")
    with translation.override("ko"):
        korean = draws_etag(request)
    with translation.override("en"):
        english = draws_etag(request)

    assert korean != english


def test_the_kept_page_is_the_page_itself(api, draws_1_to_25):
    cold = api.get("/api/draws/?page_size=100")
    warm = api.get("/api/draws/?page_size=100")

    assert warm.status_code == 200
    assert warm.content == cold.content
    assert warm["Content-Type"] == cold["Content-Type"]
    assert warm["ETag"] == cold["ETag"]


def test_a_later_page_keeps_the_filters_and_the_order(api, draws_1_to_25):
    oldest_first = api.get("/api/draws/?ordering=draw_no&page_size=10&page=2")
    newest_first = api.get("/api/draws/?draw_to=20&page_size=4&page=3")

    assert draw_nos(oldest_first) == list(range(11, 21))
    assert draw_nos(newest_first) == [12, 11, 10, 9]


def test_a_draw_number_no_column_holds_is_a_404_not_a_crash(api, draws_1_to_25):
    assert api.get("/api/draws/99999999999999999999/").status_code == 404
    assert api.get("/api/draws/?draw_from=99999999999999999999").status_code == 400
