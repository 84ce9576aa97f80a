"""The draws admin: list, search by draw number, filter by year; read-only."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:draws_lottodraw_changelist"


@pytest.fixture
def draws_1_to_10(draw_factory):
    # Draws 1-4 fall in December 2002, draws 5-10 in January and February 2003.
    return [draw_factory(draw_no=no) for no in range(1, 11)]


def listed(response) -> list[int]:
    return [draw.draw_no for draw in response.context["cl"].result_list]


def test_the_changelist_loads_for_a_superuser_newest_first(admin_client, draws_1_to_10):
    response = admin_client.get(reverse(CHANGELIST))

    assert response.status_code == 200
    assert listed(response) == list(range(10, 0, -1))
    assert b"03 04 05 06 07 08" in response.content  # draw 2, numbers spaced


def test_searching_a_draw_number_finds_exactly_that_draw(admin_client, draws_1_to_10):
    response = admin_client.get(reverse(CHANGELIST), {"q": "7"})

    assert listed(response) == [7]


def test_searching_text_finds_nothing_without_failing(admin_client, draws_1_to_10):
    response = admin_client.get(reverse(CHANGELIST), {"q": "seven"})

    assert response.status_code == 200
    assert listed(response) == []


def test_filtering_by_year_keeps_that_years_draws(admin_client, draws_1_to_10):
    response = admin_client.get(reverse(CHANGELIST), {"year": "2002"})

    assert listed(response) == [4, 3, 2, 1]
    assert b"?year=2003" in response.content  # the filter offers every stored year


def test_the_admin_neither_adds_nor_edits_draws(admin_client, draws_1_to_10):
    admin_client.raise_request_exception = False  # see the 403, not the exception
    add = admin_client.get(reverse("admin:draws_lottodraw_add"))
    change = admin_client.get(
        reverse("admin:draws_lottodraw_change", args=[draws_1_to_10[0].pk])
    )

    assert add.status_code == 403
    assert change.status_code == 200
    assert b'name="_save"' not in change.content


def test_the_changelist_is_closed_to_anonymous_users(client):
    response = client.get(reverse(CHANGELIST))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_draw_page_shows_every_prize_tier(admin_client, draw_factory):
    draw = draw_factory(draw_no=3, rank3_winners=3120, rank3_prize_each=1509786)

    response = admin_client.get(
        reverse("admin:draws_lottodraw_change", args=[draw.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    for field in ("rank2_winners", "rank3_prize_each", "rank5_winners"):
        assert f"field-{field}".encode() in response.content
    assert b"3120" in response.content.replace(b",", b"")
    assert b"1509786" in response.content.replace(b",", b"")


def test_the_list_marks_draws_lacking_prize_figures(admin_client, draw_factory):
    draw_factory(draw_no=1)
    draw_factory(draw_no=2, rank4_winners=None)

    response = admin_client.get(reverse(CHANGELIST))

    assert response.content.count(b"icon-yes") == 1
    assert response.content.count(b"icon-no") == 1
