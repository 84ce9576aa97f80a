"""GET /api/statistics/numbers/: counts, gaps, the fairness verdict, errors, caching."""

import numpy as np
import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from draws import fairness
from draws.models import LottoDraw, expected_draw_date

pytestmark = pytest.mark.django_db
URL = "/api/statistics/numbers/"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


def store(main, bonus, first: int = 1) -> None:
    LottoDraw.objects.bulk_create(
        LottoDraw(
            draw_no=first + index,
            draw_date=expected_draw_date(first + index),
            **{f"n{k + 1}": int(number) for k, number in enumerate(sorted(row))},
            bonus=int(extra),
            source="test",
        )
        for index, (row, extra) in enumerate(zip(main, bonus, strict=True))
    )


def fair_history(draws: int, seed: int):
    main, bonus = fairness.simulate_fair_draws(np.random.default_rng(seed), 1, draws)
    return main[0], bonus[0]


@pytest.fixture
def history():
    main, bonus = fair_history(120, seed=21)
    store(main, bonus)
    return main, bonus


def test_every_number_is_counted_as_main_and_as_bonus(api, history):
    main, bonus = history
    body = api.get(URL, HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["window"] == "all"
    assert body["draws"] == 120
    assert (body["first_draw"], body["last_draw"]) == (1, 120)
    assert [row["number"] for row in body["numbers"]] == list(range(1, 46))
    for row in body["numbers"]:
        assert row["main_count"] == int((main == row["number"]).sum())
        assert row["bonus_count"] == int((bonus == row["number"]).sum())
        assert row["expected_main_count"] == pytest.approx(120 * 6 / 45)
        assert row["expected_bonus_count"] == pytest.approx(120 / 45)
    assert sum(row["main_count"] for row in body["numbers"]) == 720


def test_a_window_counts_only_the_last_n_draws(api, history):
    main, _ = history
    body = api.get(URL, {"window": "52"}).json()
    assert body["window"] == "52"
    assert (body["draws"], body["first_draw"], body["last_draw"]) == (52, 69, 120)
    counts = [row["main_count"] for row in body["numbers"]]
    assert counts == [int((main[-52:] == k).sum()) for k in range(1, 46)]


def test_gaps_are_counted_in_draws(api):
    # Number 1 comes up in draws 3 and 9 of 12; number 45 never.
    main = [[2, 3, 4, 5, 6, 7]] * 12
    main = [list(row) for row in main]
    main[2] = [1, 3, 4, 5, 6, 7]
    main[8] = [1, 3, 4, 5, 6, 7]
    store(main, [8] * 12)
    rows = {row["number"]: row for row in api.get(URL).json()["numbers"]}
    assert rows[1]["draws_since_last_seen"] == 3  # draws 10, 11, 12 without it
    assert rows[1]["longest_gap"] == 5  # draws 4-8
    assert rows[2]["draws_since_last_seen"] == 0
    assert rows[45]["draws_since_last_seen"] is None
    assert rows[45]["longest_gap"] == 12


def test_a_fair_history_reads_consistent_with_a_fair_draw(api, history):
    body = api.get(URL, HTTP_ACCEPT_LANGUAGE="en").json()
    verdict = body["fairness"]
    assert verdict["verdict_code"] == "consistent"
    assert verdict["verdict"] == "consistent with a fair draw"
    assert verdict["alpha"] == 0.05
    assert verdict["main_uniformity"]["df"] == 44
    assert verdict["consecutive_overlap"]["expected_mean"] == pytest.approx(0.8)
    assert "random" in body["disclaimer"]


def test_a_biased_history_reads_evidence_of_bias(api):
    main, bonus = fair_history(200, seed=22)
    for row, extra in zip(main, bonus, strict=True):
        if 7 not in row and extra != 7:
            row[0] = 7
    store(main, bonus)
    verdict = api.get(URL, HTTP_ACCEPT_LANGUAGE="en").json()["fairness"]
    assert verdict["verdict_code"] == "bias"
    assert verdict["verdict"] == "evidence of bias"
    assert 7 in verdict["biased_numbers"]


def test_the_verdict_is_korean_by_default_with_the_same_code(api, history):
    korean = api.get(URL).json()["fairness"]
    english = api.get(URL, HTTP_ACCEPT_LANGUAGE="en").json()["fairness"]
    assert korean["verdict_code"] == english["verdict_code"]
    assert korean["p_value"] == english["p_value"]


@pytest.mark.parametrize("window", ["abc", "9", "0", "-5", "1.5", "121", "", "ALL"])
def test_a_bad_window_is_a_400_naming_the_field(api, history, window):
    response = api.get(URL, {"window": window}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    body = response.json()
    errors = body.get("errors", body)
    assert "window" in errors
    assert "120" in str(errors["window"])


def test_a_short_history_has_no_verdict_and_no_window(api):
    main, bonus = fair_history(6, seed=23)
    store(main, bonus)
    body = api.get(URL, HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["draws"] == 6
    assert body["fairness"]["verdict_code"] == "insufficient_data"
    response = api.get(URL, {"window": "10"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Only 6 draws" in str(response.json())


def test_an_empty_history_answers_with_zero_counts(api):
    body = api.get(URL).json()
    assert body["draws"] == 0
    assert {row["main_count"] for row in body["numbers"]} == {0}
    assert body["fairness"]["verdict_code"] == "insufficient_data"


def test_a_repeat_with_the_etag_gets_304_until_a_draw_is_added(api, history):
    first = api.get(URL)
    etag = first["ETag"]
    assert "public" in first["Cache-Control"]
    assert "max-age" in first["Cache-Control"]
    assert api.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert api.get(URL, {"window": "52"}, HTTP_IF_NONE_MATCH=etag).status_code == 200
    store(*fair_history(1, seed=24), first=121)
    fresh = api.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200
    assert fresh["ETag"] != etag
    assert fresh.json()["draws"] == 121


def test_a_repeat_is_served_from_the_kept_body(
    api, history, django_assert_max_num_queries
):
    first = api.get(URL)
    # one query: the history version of the ETag (settings_test re-reads it always)
    with django_assert_max_num_queries(1):
        again = api.get(URL)
    assert again.status_code == 200
    assert again.content == first.content
