"""Ticket check: POST /api/tickets/check/, the QR format, ranks and the three statuses."""

import datetime as dt
import io
import logging

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from draws.models import LottoDraw
from draws.schedule import KST, scheduled_draw
from draws.tickets import (
    Game,
    TicketProblem,
    prize_rank,
    ticket_check,
    ticket_parse_qr,
)

pytestmark = pytest.mark.django_db

# Draw 1220 as published (the shipped history): numbers, bonus, prizes.
DRAW_1220 = [2, 22, 25, 28, 34, 43]
BONUS_1220 = 16
PRIZES_1220 = {1: 2114514161, 2: 58045487, 3: 1545698, 4: 50000, 5: 5000}
LOSING = [1, 3, 4, 5, 6, 7]  # none of 1220's numbers, nor its bonus
URL = "/api/tickets/check/"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def shipped(db, tmp_path, settings):
    """The shipped rows of draws 1, 2, 1219 and 1220, imported like any file."""
    lines = settings.DRAWS_SHIPPED_CSV.read_text().splitlines()
    wanted = [lines[0], lines[1], lines[2], lines[1219], lines[1220]]
    path = tmp_path / "shipped_subset.csv"
    path.write_text("\n".join(wanted) + "\n")
    call_command("import_draws", str(path), stdout=io.StringIO())


def at(draw_no: int, hour: int, minute: int, second: int = 0) -> dt.datetime:
    """A moment on draw `draw_no`'s Saturday, KST."""
    day = scheduled_draw(draw_no).draw_date
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=KST)


@pytest.fixture
def clock(monkeypatch):
    """Set the clock the API reads (Django's timezone.now, not our code)."""

    def set_to(moment: dt.datetime):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_to


def a_game(matched: int, bonus: bool) -> list[int]:
    """Six numbers sharing `matched` with draw 1220, with or without its bonus."""
    numbers = DRAW_1220[:matched] + ([BONUS_1220] if bonus else [])
    return numbers + LOSING[: 6 - len(numbers)]


EXPECTED_RANKS = {
    (6, False): 1,
    (5, True): 2,
    (5, False): 3,
    (4, True): 4,
    (4, False): 4,
    (3, True): 5,
    (3, False): 5,
    **{(m, b): None for m in (0, 1, 2) for b in (False, True)},
}


@pytest.mark.parametrize(("matched", "bonus"), list(EXPECTED_RANKS))
def test_every_match_count_with_and_without_the_bonus_has_its_rank(matched, bonus):
    assert prize_rank(matched, bonus) == EXPECTED_RANKS[(matched, bonus)]


def test_the_ranks_and_published_prizes_of_a_real_draw(api, shipped):
    cases = list(EXPECTED_RANKS)
    for start in range(0, len(cases), 5):
        chunk = cases[start : start + 5]
        games = [a_game(m, b) for m, b in chunk]
        body = api.post(URL, {"draw": 1220, "games": games}, format="json").json()

        assert body["status"] == "drawn"
        assert body["draw"]["numbers"] == DRAW_1220
        assert body["draw"]["bonus"] == BONUS_1220
        for (matched, bonus), game in zip(chunk, body["games"], strict=True):
            rank = EXPECTED_RANKS[(matched, bonus)]
            assert len(game["matched"]) == matched
            assert game["bonus_matched"] is bonus
            assert game["rank"] == rank
            assert game["prize_each"] == (PRIZES_1220[rank] if rank else None)


@pytest.mark.parametrize(
    ("draw_no", "numbers", "rank", "prize_each"),
    [
        # Published results of the shipped history.
        (1, [10, 23, 29, 33, 37, 40], 1, 0),  # no first-prize winner in draw 1
        (1, [10, 23, 29, 33, 37, 16], 2, 143934100),
        (2, [9, 13, 21, 25, 32, 1], 3, 1842000),
        (1219, [1, 2, 15, 28, 3, 4], 4, 50000),
        (1219, [1, 2, 15, 3, 4, 5], 5, 5000),
    ],
)
def test_real_draws_pay_their_published_prizes(
    api, shipped, draw_no, numbers, rank, prize_each
):
    game = api.post(URL, {"draw": draw_no, "games": [numbers]}, format="json").json()[
        "games"
    ][0]

    assert (game["rank"], game["prize_each"]) == (rank, prize_each)


def test_the_answer_has_the_draw_and_each_game(api, shipped):
    body = api.post(URL, {"draw": 1220, "games": [DRAW_1220]}, format="json").json()

    assert body["draw"]["draw_no"] == 1220
    assert body["draw"]["draw_date"] == "2026-04-18"
    assert body["draw"]["draws_at"] == "2026-04-18T20:35:00+09:00"
    assert body["draw"]["prizes"][0] == {
        "rank": 1,
        "winners": 14,
        "prize_each": 2114514161,
    }
    assert body["status_label"]
    assert body["games"] == [
        {
            "slot": "A",
            "numbers": DRAW_1220,
            "mode": None,
            "mode_label": None,
            "matched": DRAW_1220,
            "bonus_matched": False,
            "rank": 1,
            "prize_each": 2114514161,
        }
    ]


def test_a_prize_unknown_for_the_draw_is_null(api, draw_factory):
    draw_factory(draw_no=5, rank3_prize_each=None)
    draw = LottoDraw.objects.get(draw_no=5)
    five = draw.numbers[:5] + [44]

    game = api.post(URL, {"draw": 5, "games": [five]}, format="json").json()["games"][0]

    assert (game["rank"], game["prize_each"]) == (3, None)


# --- The three statuses around Saturday 20:35 KST ---------------------------------


def test_before_the_broadcast_the_draw_is_pending_with_its_date(api, shipped, clock):
    clock(at(1221, 20, 34, 59))

    body = api.post(URL, {"draw": 1221, "games": [DRAW_1220]}, format="json").json()

    assert body["status"] == "pending"
    assert body["draw"]["draw_date"] == "2026-04-25"
    assert body["draw"]["draws_at"] == "2026-04-25T20:35:00+09:00"
    assert body["draw"]["numbers"] is None
    assert body["games"][0]["rank"] is None
    assert body["games"][0]["matched"] is None


def test_after_the_broadcast_until_the_sync_the_result_is_awaited(api, shipped, clock):
    clock(at(1221, 20, 35))

    body = api.post(URL, {"draw": 1221, "games": [DRAW_1220]}, format="json").json()

    assert body["status"] == "awaiting_result"
    assert body["draw"]["numbers"] is None


def test_once_the_sync_stored_it_the_draw_is_drawn(api, shipped, clock, draw_factory):
    clock(at(1221, 21, 31))
    draw_factory(draw_no=1221)

    body = api.post(URL, {"draw": 1221, "games": [DRAW_1220]}, format="json").json()

    assert body["status"] == "drawn"


def test_the_statuses_come_from_the_clock_not_the_last_stored_draw(shipped):
    games = [Game(tuple(DRAW_1220))]
    before = at(1221, 20, 34, 59)
    after = at(1221, 20, 35)

    assert ticket_check(draw_no=1221, games=games, now=before).status == "pending"
    assert ticket_check(draw_no=1221, games=games, now=after).status == (
        "awaiting_result"
    )
    assert ticket_check(draw_no=1222, games=games, now=after).status == "pending"
    with pytest.raises(TicketProblem) as problem:
        ticket_check(draw_no=1222, games=games, now=before)
    assert problem.value.code == "draw_not_yet_scheduled"


# --- QR codes ------------------------------------------------------------------------

SLOT_1 = "022225283443"  # draw 1220's numbers: 1st prize
SLOT_2 = "010304050607"  # nothing


@pytest.mark.parametrize(
    ("marker", "mode"), [("m", "manual"), ("q", "automatic"), ("s", "semi_automatic")]
)
def test_every_marker_is_read_with_its_mode(marker, mode):
    draw_no, games = ticket_parse_qr(
        f"https://m.dhlottery.co.kr/?v=1220{marker}{SLOT_1}"
    )

    assert draw_no == 1220
    assert games == [Game((2, 22, 25, 28, 34, 43), mode=mode, slot="A")]


@pytest.mark.parametrize(
    "url",
    [
        "http://m.dhlottery.co.kr/?v=1220",
        "https://m.dhlottery.co.kr/?v=1220",
        "http://qr.dhlottery.co.kr/?v=1220",
        "https://qr.dhlottery.co.kr/?v=1220",
        "http://qr.dhlottery.co.kr?v=1220",
        "https://m.dhlottery.co.kr/qr.do?method=winQr&v=1220",
        "HTTPS://M.DHLOTTERY.CO.KR/?v=1220",
    ],
)
@pytest.mark.parametrize("tail", ["", "1604484374", "0123456789012345"])
def test_both_hosts_the_operator_page_and_any_tail_are_read(url, tail):
    value = f"q{SLOT_2}n000000000000m{SLOT_1}n000000000000s{SLOT_2}{tail}"

    draw_no, games = ticket_parse_qr(url + value)

    assert draw_no == 1220
    assert [(g.slot, g.mode) for g in games] == [
        ("A", "automatic"),
        ("C", "manual"),
        ("E", "semi_automatic"),
    ]
    assert games[1].numbers == (2, 22, 25, 28, 34, 43)


def test_a_qr_code_is_checked_like_numbers(api, shipped):
    qr = f"http://qr.dhlottery.co.kr/?v=1220q{SLOT_2}n000000000000m{SLOT_1}0123456789"

    body = api.post(URL, {"qr": qr}, format="json").json()

    assert body["draw"]["draw_no"] == 1220
    assert [(g["slot"], g["mode"], g["rank"]) for g in body["games"]] == [
        ("A", "automatic", None),
        ("C", "manual", 1),
    ]
    assert body["games"][1]["mode_label"]


# --- Every bad input: a 400 naming the field and the reason, nothing changed ----------

BAD_INPUTS = [
    ({"qr": "https://www.example.com/?v=1220m022225283443"}, "qr", "invalid_host"),
    (
        {"qr": "https://dhlottery.co.kr.evil.com/?v=1220m022225283443"},
        "qr",
        "invalid_host",
    ),
    ({"qr": "https://m.dhlottery.co.kr/?v=pd41234561234567890"}, "qr", "not_lotto645"),
    ({"qr": "http://qr.dhlottery.co.kr/?v=PD1"}, "qr", "not_lotto645"),
    ({"qr": "https://m.dhlottery.co.kr/?v=1220x022225283443"}, "qr", "malformed_qr"),
    ({"qr": "https://m.dhlottery.co.kr/?v=1220m0222252834"}, "qr", "malformed_qr"),
    ({"qr": "https://m.dhlottery.co.kr/?v=122m022225283443"}, "qr", "malformed_qr"),
    ({"qr": "https://m.dhlottery.co.kr/?v="}, "qr", "malformed_qr"),
    ({"qr": "https://m.dhlottery.co.kr/?x=1220m022225283443"}, "qr", "malformed_qr"),
    (
        {"qr": "https://m.dhlottery.co.kr/other?v=1220m022225283443"},
        "qr",
        "malformed_qr",
    ),
    ({"qr": "ftp://m.dhlottery.co.kr/?v=1220m022225283443"}, "qr", "malformed_qr"),
    ({"qr": "1220m022225283443"}, "qr", "malformed_qr"),
    ({"qr": "https://m.dhlottery.co.kr/?v=1220n000000000000"}, "qr", "no_games"),
    (
        {"qr": "https://m.dhlottery.co.kr/?v=1220" + "m022225283443" * 6},
        "qr",
        "malformed_qr",
    ),
    ({"qr": "https://m.dhlottery.co.kr/?v=1220m462225283443"}, "qr", "out_of_range"),
    ({"qr": "https://m.dhlottery.co.kr/?v=1220m002225283443"}, "qr", "out_of_range"),
    (
        {"qr": "https://m.dhlottery.co.kr/?v=1220m222225283443"},
        "qr",
        "duplicate_number",
    ),
    (
        {"qr": "https://m.dhlottery.co.kr/?v=9999m022225283443"},
        "qr",
        "draw_not_yet_scheduled",
    ),
    ({"qr": "https://m.dhlottery.co.kr/?v=0000m022225283443"}, "qr", "out_of_range"),
    ({"draw": 1220, "games": [[1, 2, 3, 4, 5, 46]]}, "games", "out_of_range"),
    ({"draw": 1220, "games": [[0, 2, 3, 4, 5, 6]]}, "games", "out_of_range"),
    ({"draw": 1220, "games": [[1, 2, 3, 4, 5, 5]]}, "games", "duplicate_number"),
    ({"draw": 1220, "games": [[1, 2, 3, 4, 5]]}, "games", "not_six_numbers"),
    ({"draw": 1220, "games": [[1, 2, 3, 4, 5, 6, 7]]}, "games", "not_six_numbers"),
    ({"draw": 1220, "games": [[1, 2, 3, 4, 5, 6]] * 6}, "games", "too_many_games"),
    ({"draw": 1220, "games": []}, "games", "no_games"),
    ({"draw": 99999, "games": [DRAW_1220]}, "draw", "draw_not_yet_scheduled"),
    ({"draw": 0, "games": [DRAW_1220]}, "draw", "out_of_range"),
    ({"draw": "x", "games": [DRAW_1220]}, "draw", "invalid"),
    ({"games": [DRAW_1220]}, "draw", "required"),
    ({"draw": 1220}, "games", "required"),
    ({"draw": 1220, "games": [DRAW_1220], "qr": "x"}, "qr", "qr_or_games"),
    ({"draw": 1220, "games": [[1, 2, 3, 4, 5, "x"]]}, "games", "not_a_number"),
    ({"draw": 1220, "games": [[1, 2, 3, 4, 5, 6.5]]}, "games", "not_a_number"),
    ({"draw": 1220, "games": "1,2,3,4,5,6"}, "games", "invalid"),
    ({"draw": 1220, "games": [[1, 2, 3, 4, 5, 6]] * 1000}, "games", "too_many_games"),
    ({"draw": True, "games": [DRAW_1220]}, "draw", "invalid"),
    ({"draw": 1220.0, "games": [DRAW_1220]}, "draw", "invalid"),
    ({"qr": 5}, "qr", "invalid"),
    ({"qr": "https://m.dhlottery.co.kr/?v=" + "1" * 600}, "qr", "malformed_qr"),
    ([1, 2, 3], "non_field_errors", "invalid"),
]


@pytest.mark.parametrize(("payload", "field", "code"), BAD_INPUTS)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(
    api, draw_factory, payload, field, code
):
    draw_factory(draw_no=1220)
    before = list(LottoDraw.objects.values_list("draw_no", "updated_at"))

    response = api.post(URL, payload, format="json")

    assert response.status_code == 400
    body = response.json()
    if "errors" in body:  # the project's error format
        assert body["errors"][field][0]["code"] == code
    else:  # a problem of no field: its sentence is the detail
        assert field == "non_field_errors"
        assert body["code"] == code
    assert list(LottoDraw.objects.values_list("draw_no", "updated_at")) == before


def test_the_ticket_is_never_logged(api, shipped, caplog):
    with caplog.at_level(logging.DEBUG):
        api.post(URL, {"draw": 1220, "games": [[7, 11, 19, 31, 38, 41]]}, format="json")
        api.post(URL, {"draw": 1220, "games": [[7, 11, 19, 31, 38, 46]]}, format="json")

    logged = " ".join(r.getMessage() for r in caplog.records)
    for spelled in ("31, 38, 41", "31,38,41", "31 38 41", "[7, 11"):
        assert spelled not in logged


# --- manage.py check_ticket ----------------------------------------------------------


def test_check_ticket_prints_each_game_with_its_rank_and_prize(shipped):
    out = io.StringIO()
    call_command(
        "check_ticket",
        "--draw",
        "1220",
        "--game",
        "2,22,25,28,34,43",
        "--game",
        "1 3 4 5 6 7",
        stdout=out,
    )

    text = out.getvalue()
    assert "1220" in text
    assert "drawn" in text
    assert "2114514161" in text.replace(",", "")


def test_check_ticket_reads_a_qr_code(shipped):
    out = io.StringIO()
    call_command(
        "check_ticket",
        "--qr",
        f"https://m.dhlottery.co.kr/?v=1220m{SLOT_1}",
        stdout=out,
    )

    assert "2114514161" in out.getvalue().replace(",", "")


def test_check_ticket_refuses_bad_input_in_one_line(shipped):
    with pytest.raises(CommandError, match="not_lotto645"):
        call_command("check_ticket", "--qr", "https://m.dhlottery.co.kr/?v=pd1")


def test_the_labels_follow_the_language_and_the_codes_do_not(api, shipped):
    payload = {"draw": 1220, "games": [DRAW_1220]}
    korean = api.post(URL, payload, format="json", HTTP_ACCEPT_LANGUAGE="ko").json()
    english = api.post(URL, payload, format="json", HTTP_ACCEPT_LANGUAGE="en").json()

    assert english["status_label"] == "Drawn"
    assert korean["status_label"] == "추첨 완료"
    assert korean["status"] == english["status"] == "drawn"  # the code never changes


def test_a_form_body_is_refused_not_guessed(api, shipped):
    response = api.post(URL, {"draw": "1220", "games": "2,22,25,28,34,43"})

    assert response.status_code == 415
