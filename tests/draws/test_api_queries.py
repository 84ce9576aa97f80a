"""GET /api/draws/ costs the same queries however deep the page and however long the
history: none per page once the history version is read, no COUNT(*) and no OFFSET
ever (issue 12's 20,000-draw pages)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from draws.api.caching import kept_pages
from draws.models import LottoDraw
from draws.versioning import draw_history_changed

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(settings):
    # As deployed: the history version is read again after a few seconds, or at
    # once after a write in this process (draw_history_changed).
    settings.DRAWS_VERSION_CHECK_SECONDS = 3600
    draw_history_changed()
    kept_pages.clear()  # every request below renders its page
    yield APIClient()
    kept_pages.clear()
    draw_history_changed()


def store_draws(draw_factory, count: int, *, first: int = 1) -> None:
    draws = [draw_factory.build(draw_no=no) for no in range(first, first + count)]
    LottoDraw.objects.bulk_create(draws, batch_size=500)
    draw_history_changed()


def draws_queries(api, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)
    assert response.status_code == 200, response.content
    return [q["sql"] for q in captured.captured_queries if "lotto_draws" in q["sql"]]


def test_pages_are_served_from_memory_once_the_history_is_read(api, draw_factory):
    store_draws(draw_factory, 300)
    first = draws_queries(api, "/api/draws/")

    pages = [draws_queries(api, f"/api/draws/?page={page}") for page in (2, 8, 15)]

    # the history version, the list of draw numbers, the shown columns of every draw
    assert len(first) == 3
    assert pages == [[], [], []]


def test_the_queries_of_a_page_do_not_grow_with_the_history(api, draw_factory):
    store_draws(draw_factory, 40)
    api.get("/api/draws/")
    short = draws_queries(api, "/api/draws/?page=2&page_size=10")
    store_draws(draw_factory, 2000, first=41)
    after_import = draws_queries(api, "/api/draws/")
    deep = draws_queries(api, "/api/draws/?page=200&page_size=10")

    assert len(after_import) == 3
    assert short == deep == []


def test_a_history_too_long_to_keep_costs_one_indexed_query_a_page(
    api, draw_factory, settings
):
    store_draws(draw_factory, 300)
    kept = api.get("/api/draws/?page=8").json()
    settings.DRAWS_ROWS_IN_MEMORY_MAX = 299
    store_draws(draw_factory, 1, first=301)  # a new version: read again
    draws_queries(api, "/api/draws/")

    pages = [draws_queries(api, f"/api/draws/?page={page}") for page in (2, 8, 15)]
    read = api.get("/api/draws/?page=8&page_size=20&ordering=-draw_no").json()

    for queries in pages:
        assert len(queries) == 1  # the page's rows, by number
        assert "OFFSET" not in queries[0].upper()
        assert "COUNT(" not in queries[0].upper()
        assert "IN (" in queries[0].upper()
    assert [d["draw_no"] for d in read["results"]] == list(range(161, 141, -1))
    assert read["results"][1:] == kept["results"][:-1]  # the same draws, one along


def test_each_filter_set_pages_over_its_own_numbers(api, draw_factory):
    store_draws(draw_factory, 60)
    oldest = api.get("/api/draws/?ordering=draw_no&page_size=10&page=3").json()
    window = api.get("/api/draws/?draw_from=11&draw_to=30&page_size=10&page=2").json()
    newest = api.get("/api/draws/?page_size=10&page=6").json()

    assert [d["draw_no"] for d in oldest["results"]] == list(range(21, 31))
    assert window["count"] == 20
    assert [d["draw_no"] for d in window["results"]] == list(range(20, 10, -1))
    assert [d["draw_no"] for d in newest["results"]] == list(range(10, 0, -1))
    assert api.get("/api/draws/?page_size=10&page=7").status_code == 404


def test_a_new_draw_is_listed_at_once(api, draw_factory):
    store_draws(draw_factory, 30)
    before = api.get("/api/draws/?page_size=5").json()
    draw_factory(draw_no=31)
    draw_history_changed()  # as the import and sync services do on commit
    after = api.get("/api/draws/?page_size=5").json()

    assert before["count"] == 30
    assert after["count"] == 31
    assert after["results"][0]["draw_no"] == 31
