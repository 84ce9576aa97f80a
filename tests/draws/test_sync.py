"""sync_draws against a real local HTTP server replaying recorded official answers."""

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from draws.models import LottoDraw, expected_draw_date
from draws.signals import draws_imported
from draws.sync import USER_AGENT
from draws.sync_service import draw_sync_latest

from .conftest import RECORDED, Answer

pytestmark = pytest.mark.django_db


def sync(**options) -> str:
    out = io.StringIO()
    call_command("sync_draws", stdout=out, **options)
    return out.getvalue()


def refused_sync() -> str:
    """Run a sync that must fail with a non-zero exit; return its error message."""
    with pytest.raises(CommandError) as excinfo:
        sync()
    assert excinfo.value.returncode == 1
    return str(excinfo.value)


def refused_when_both_answer(official_site, recorded: str) -> str:
    """Both endpoints answer draw 1221 with `recorded`: the sync fails in one
    line and stores nothing. Returns the message."""
    official_site.current(1221, recorded)
    official_site.legacy(1221, recorded)
    before = LottoDraw.objects.count()
    message = refused_sync()
    assert "\n" not in message
    assert LottoDraw.objects.count() == before
    return message


@pytest.fixture
def two_new_draws(official_site, history_to_1220):
    official_site.current(1221, "current_1221.json")
    official_site.current(1222, "current_1222.json")
    official_site.current(1223, "current_not_drawn_empty.json")
    return official_site


def test_it_fetches_and_stores_the_draws_after_the_last_stored_one(two_new_draws):
    out = sync()

    assert "Stored 2 new draw(s) from the official site (1221-1222)." in out
    assert "up to date" in out.lower()
    assert list(LottoDraw.objects.values_list("draw_no", flat=True)) == [
        1222,
        1221,
        1220,
        1219,
        1218,
    ]


def test_a_synced_draw_keeps_every_official_field(two_new_draws):
    sync()

    draw = LottoDraw.objects.get(draw_no=1221)
    assert draw.draw_date == dt.date(2026, 4, 25)
    assert draw.numbers == [3, 11, 19, 27, 35, 43]
    assert draw.bonus == 7
    assert draw.total_sales == 121034871000
    assert draw.first_prize_winners == 13
    assert draw.first_prize_amount == 2174130462
    assert draw.source == "sync"


def test_it_asks_once_per_draw_and_stops_at_the_first_not_drawn(two_new_draws):
    sync()

    assert two_new_draws.seen("current") == [1221, 1222, 1223]
    assert two_new_draws.seen("legacy") == []


def test_it_says_who_it_is_and_that_it_wants_json(two_new_draws):
    sync()

    headers = two_new_draws.requests[0][2]
    assert headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("lotto-mlops/")
    assert headers["Accept"] == "application/json"


def test_a_second_run_finds_nothing_new_and_asks_only_for_the_next_draw(
    two_new_draws,
):
    sync()
    two_new_draws.requests.clear()

    out = sync()

    assert "No new draws since draw 1222." in out
    assert two_new_draws.seen("current") == [1223]


@pytest.mark.parametrize(
    "not_drawn", ["current_not_drawn_empty.json", "current_not_drawn_zero.json"]
)
def test_a_draw_not_drawn_yet_stops_the_sync_cleanly_as_up_to_date(
    official_site, history_to_1220, not_drawn
):
    official_site.current(1221, not_drawn)
    before = LottoDraw.objects.count()

    out = sync()

    assert "up to date" in out.lower()
    assert "draw 1221 has not been drawn yet" in out
    assert LottoDraw.objects.count() == before
    assert official_site.seen("current") == [1221]
    assert official_site.seen("legacy") == []


def test_an_html_answer_is_refused_in_one_line_and_nothing_is_written(
    official_site, history_to_1220
):
    message = refused_when_both_answer(official_site, "blocked.html")

    assert message.startswith(
        "The official site answered HTML instead of JSON for draw 1221"
    )
    assert "(blocked or changed)" in message
    # A block page is not retried: asking again is what gets clients blocked.
    assert official_site.seen("current") == [1221]
    assert official_site.seen("legacy") == [1221]


def test_malformed_json_is_refused_in_one_line_and_nothing_is_written(
    official_site, history_to_1220
):
    message = refused_when_both_answer(official_site, "malformed.json")

    assert message.startswith("The official site answered malformed JSON for draw 1221")


def test_json_of_another_shape_is_refused_as_a_changed_site(
    official_site, history_to_1220
):
    official_site.current(1221, Answer(body=b'{"resultCode":"E01","data":null}'))
    official_site.legacy(1221, Answer(body=b'{"error":"maintenance"}'))

    message = refused_sync()

    assert "answered JSON without data.list for draw 1221" in message
    assert "answered JSON without returnValue for draw 1221" in message


def test_an_answer_about_another_draw_is_refused(official_site, history_to_1220):
    official_site.current(1221, "current_1222.json")
    official_site.legacy(1221, "blocked.html")

    message = refused_sync()

    assert "answered draw 1222 when asked for draw 1221" in message
    assert LottoDraw.objects.filter(draw_no__gt=1220).count() == 0


def test_an_http_500_is_retried_and_the_retry_succeeds(official_site, history_to_1220):
    official_site.current(1221, 500, "current_1221.json")
    official_site.current(1222, "current_not_drawn_empty.json")

    out = sync()

    assert "Stored 1 new draw(s) from the official site (1221)." in out
    assert official_site.seen("current") == [1221, 1221, 1222]
    assert official_site.seen("legacy") == []


def test_a_server_that_does_not_answer_in_time_is_retried(
    official_site, history_to_1220, settings
):
    settings.DRAWS_SYNC_TIMEOUT_SECONDS = 0.2
    slow = Answer.recorded("current_1221.json")
    slow.delay = 1.0
    official_site.current(1221, slow, "current_1221.json")
    official_site.current(1222, "current_not_drawn_empty.json")

    sync()

    assert LottoDraw.objects.filter(draw_no=1221).exists()
    assert official_site.seen("current") == [1221, 1221, 1222]


@pytest.mark.parametrize(
    ("failure", "current_requests"),
    [
        (503, 4),  # retried: DRAWS_SYNC_RETRIES = 3 extra attempts
        ("blocked.html", 1),
        (404, 1),
    ],
)
def test_the_legacy_endpoint_answers_when_the_current_one_fails(
    official_site, history_to_1220, failure, current_requests
):
    official_site.current(1221, failure)
    official_site.legacy(1221, "legacy_1221.json")
    official_site.current(1222, "current_not_drawn_empty.json")

    out = sync()

    assert "Stored 1 new draw(s) from the official site (1221)." in out
    draw = LottoDraw.objects.get(draw_no=1221)
    assert (draw.numbers, draw.bonus) == ([3, 11, 19, 27, 35, 43], 7)
    assert (draw.draw_date, draw.total_sales) == (dt.date(2026, 4, 25), 121034871000)
    assert official_site.seen("current") == [1221] * current_requests + [1222]
    assert official_site.seen("legacy") == [1221]


def test_a_legacy_fail_means_not_drawn_yet(official_site, history_to_1220):
    official_site.current(1221, "blocked.html")
    official_site.legacy(1221, "legacy_fail.json")
    before = LottoDraw.objects.count()

    out = sync()

    assert "up to date" in out.lower()
    assert LottoDraw.objects.count() == before


def test_without_a_legacy_url_the_current_endpoints_error_is_final(
    official_site, history_to_1220, settings
):
    settings.DRAWS_LEGACY_BASE_URL = ""
    official_site.current(1221, "blocked.html")

    message = refused_sync()

    assert "legacy" not in message
    assert official_site.seen("legacy") == []


@pytest.mark.parametrize(
    ("recorded", "expected_lines"),
    [
        (
            "current_1221_bad_numbers.json",
            [
                "draw 1221, field n6: out of range 1-45: 46",
                "draw 1221, field numbers: duplicate number(s): 19",
                "draw 1221, field bonus: 11 is among the six numbers",
            ],
        ),
        (
            "current_1221_wrong_date.json",
            [
                "draw 1221, field draw_date: 2026-04-26 is not the weekly date "
                "2026-04-25 of draw 1221"
            ],
        ),
    ],
)
def test_a_fetched_draw_that_fails_validation_refuses_the_whole_sync(
    official_site, history_to_1220, recorded, expected_lines
):
    official_site.current(1221, recorded)
    official_site.current(1222, "current_1222.json")
    official_site.current(1223, "current_not_drawn_empty.json")
    before = LottoDraw.objects.count()

    message = refused_sync()

    assert message.splitlines()[0].startswith(
        "Refused the draws fetched from the official site:"
    )
    assert "nothing was written" in message
    assert message.splitlines()[1:] == expected_lines
    # The good draw 1222 is not stored either: all or nothing.
    assert LottoDraw.objects.count() == before


def test_a_failure_after_good_draws_writes_none_of_them(official_site, history_to_1220):
    official_site.current(1221, "current_1221.json")
    official_site.current(1222, "blocked.html")
    official_site.legacy(1222, "blocked.html")
    before = LottoDraw.objects.count()

    message = refused_sync()

    assert "for draw 1222" in message
    assert LottoDraw.objects.count() == before


def test_offline_it_fails_in_one_clear_line_and_writes_nothing(
    history_to_1220, settings, closed_port_url
):
    settings.DRAWS_SOURCE_BASE_URL = closed_port_url
    settings.DRAWS_LEGACY_BASE_URL = closed_port_url
    before = LottoDraw.objects.count()

    message = refused_sync()

    assert message.startswith(
        f"Cannot reach {closed_port_url}/lt645/selectPstLt645Info.do?srchLtEpsd=1221: "
    )
    assert "(offline?)" in message
    assert "gave up after 4 attempts" in message
    assert f"Cannot reach {closed_port_url}/common.do?method=getLottoNumber" in message
    assert "\n" not in message
    assert "Traceback" not in message
    assert LottoDraw.objects.count() == before


def test_a_base_url_without_a_scheme_is_named_as_a_settings_problem(
    history_to_1220, settings
):
    settings.DRAWS_SOURCE_BASE_URL = "dhlottery.co.kr"
    settings.DRAWS_LEGACY_BASE_URL = ""

    message = refused_sync()

    assert message.startswith("Not a valid URL: dhlottery.co.kr/lt645/")
    assert "check DRAWS_SOURCE_BASE_URL" in message


def test_it_stops_at_the_per_run_limit_and_says_to_run_again(two_new_draws, settings):
    settings.DRAWS_SYNC_MAX_DRAWS = 1

    out = sync()

    assert "Stored 1 new draw(s)" in out
    assert "limit of 1 per run; run again" in out
    assert two_new_draws.seen("current") == [1221]


def test_the_max_draws_option_overrides_the_setting(two_new_draws):
    sync(max_draws=1)

    assert LottoDraw.objects.filter(draw_no__gt=1220).count() == 1


def test_a_limit_below_one_is_refused_before_any_request(two_new_draws):
    with pytest.raises(CommandError, match="must be 1 or more: 0"):
        sync(max_draws=0)

    assert two_new_draws.requests == []


def test_it_does_not_ask_about_a_draw_whose_saturday_has_not_come(
    official_site, draw_factory
):
    today = timezone.localdate()
    last = (today - expected_draw_date(1)).days // 7 + 1  # drawn on or before today
    while expected_draw_date(last + 1) <= today:
        last += 1
    draw_factory(draw_no=last)

    out = sync()

    assert "up to date" in out.lower()
    assert official_site.requests == []


def test_with_no_history_it_asks_for_an_import_first(official_site):
    with pytest.raises(CommandError, match="run `python manage.py import_draws` first"):
        sync()

    assert official_site.requests == []


def test_the_synced_draws_are_announced_once_committed(
    two_new_draws, django_capture_on_commit_callbacks
):
    heard = []

    def listener(sender, draw_nos, source, **kwargs):
        heard.append((draw_nos, source))

    draws_imported.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            sync()
    finally:
        draws_imported.disconnect(listener)

    assert heard == [([1221, 1222], "sync")]


def test_the_task_returns_a_small_summary(two_new_draws):
    summary = draw_sync_latest().as_dict()  # what the scheduled task records

    assert summary["created"] == [1221, 1222]
    assert summary["last_stored"] == 1222
    assert summary["up_to_date"] is True
    assert "Stored 2 new draw(s)" in summary["message"]


# --- Prize tiers: mapped from the current endpoint, filled in later ---------------------


def test_the_current_endpoint_gives_every_rank_its_winners_and_prize(two_new_draws):
    sync()

    draw = LottoDraw.objects.get(draw_no=1221)
    assert [(p["rank"], p["winners"], p["prize_each"]) for p in draw.prizes] == [
        (1, 13, 2174130462),
        (2, 81, 58155803),
        (3, 3120, 1509786),
        (4, 152977, 50000),
        (5, 2577391, 5000),
    ]


def legacy_rescues_1221(official_site):
    official_site.current(1221, "blocked.html")
    official_site.legacy(1221, "legacy_1221.json")
    official_site.current(1222, "current_not_drawn_empty.json")
    sync()


def test_the_legacy_endpoint_leaves_ranks_2_to_5_empty(official_site, history_to_1220):
    legacy_rescues_1221(official_site)

    draw = LottoDraw.objects.get(draw_no=1221)
    assert draw.prize(1) == (13, 2174130462)
    assert [draw.prize(k) for k in (2, 3, 4, 5)] == [(None, None)] * 4


def test_a_later_sync_fills_in_the_missing_prizes_not_the_numbers(
    official_site, history_to_1220
):
    legacy_rescues_1221(official_site)
    official_site.current(1221, "current_1221.json")
    official_site.requests.clear()

    out = sync()

    draw = LottoDraw.objects.get(draw_no=1221)
    assert draw.prize(2) == (81, 58155803)
    assert draw.prize(5) == (2577391, 5000)
    assert draw.numbers == [3, 11, 19, 27, 35, 43]
    assert "Filled in missing prize figures of draw(s) 1221." in out
    # First the next draw (not drawn yet), then the stored one lacking prizes.
    assert official_site.seen("current") == [1222, 1221]
    assert official_site.seen("legacy") == []


def test_a_refetched_draw_with_other_numbers_is_refused_and_changes_nothing(
    official_site, history_to_1220
):
    legacy_rescues_1221(official_site)
    official_site.current(1221, "current_1221_bad_numbers.json")
    before = list(LottoDraw.objects.values_list("draw_no", "updated_at"))

    out = sync()

    assert "Refused the stored draws asked for again" in out
    assert list(LottoDraw.objects.values_list("draw_no", "updated_at")) == before


def test_it_asks_again_for_the_newest_draws_missing_prizes_up_to_the_setting(
    official_site, draw_factory, settings
):
    settings.DRAWS_SYNC_REFILL_MAX = 2
    for no in (1217, 1218, 1219):
        draw_factory(draw_no=no, rank3_winners=None)
    draw_factory(draw_no=1220)  # complete: not asked
    official_site.current(1221, "current_not_drawn_empty.json")
    for no in (1217, 1218, 1219):
        official_site.current(no, current_answer(LottoDraw.objects.get(draw_no=no)))

    out = sync()

    assert official_site.seen("current") == [1221, 1219, 1218]
    assert "Filled in missing prize figures of draw(s) 1218, 1219." in out
    assert LottoDraw.objects.get(draw_no=1219).rank3_winners == 3120
    assert LottoDraw.objects.get(draw_no=1217).rank3_winners is None


def current_answer(draw: LottoDraw) -> Answer:
    """The current endpoint's answer for a stored draw, with recorded prizes."""
    body = json.loads((RECORDED / "current_1221.json").read_text())
    item = body["data"]["list"][0]
    item.update(
        ltEpsd=draw.draw_no,
        ltRflYmd=draw.draw_date.strftime("%Y%m%d"),
        bnsWnNo=draw.bonus,
        **{f"tm{i}WnNo": n for i, n in enumerate(draw.numbers, start=1)},
    )
    return Answer(body=json.dumps(body).encode())


def test_a_refill_that_fails_keeps_the_new_draws(official_site, draw_factory):
    draw_factory(draw_no=1219, rank3_winners=None)
    draw_factory(draw_no=1220)
    official_site.current(1221, "current_1221.json")
    official_site.current(1222, "current_not_drawn_empty.json")
    official_site.current(1219, 503)
    official_site.legacy(1219, 503)

    out = sync()

    assert LottoDraw.objects.filter(draw_no=1221).exists()
    assert "Could not fill in missing prize figures: " in out
    assert LottoDraw.objects.get(draw_no=1219).rank3_winners is None


def test_http_429_means_stop_even_the_legacy_endpoint_is_not_asked(
    official_site, history_to_1220
):
    official_site.current(1221, 429)
    official_site.legacy(1221, "legacy_1221.json")
    before = LottoDraw.objects.count()

    message = refused_sync()

    assert "HTTP 429" in message
    assert official_site.seen("current") == [1221]
    assert official_site.seen("legacy") == []
    assert LottoDraw.objects.count() == before


def test_http_429_during_the_refill_stops_it_at_once(official_site, draw_factory):
    for no in (1218, 1219, 1220):
        draw_factory(draw_no=no, rank3_winners=None)
    official_site.current(1221, "current_not_drawn_empty.json")
    official_site.current(1220, 429)

    out = sync()

    assert "HTTP 429" in out
    assert official_site.seen("current") == [1221, 1220]
    assert official_site.seen("legacy") == []


def test_one_disagreeing_draw_does_not_stop_the_others_being_filled(
    official_site, draw_factory
):
    draw_factory(draw_no=1219, rank3_winners=None)
    draw_factory(draw_no=1220, rank3_winners=None)
    official_site.current(1221, "current_not_drawn_empty.json")
    official_site.current(1220, current_answer(LottoDraw.objects.get(draw_no=1220)))
    other = LottoDraw(**{**_fields(1219), "n1": 40})  # not what is stored
    official_site.current(1219, current_answer(other))

    out = sync()

    assert "Filled in missing prize figures of draw(s) 1220." in out
    assert "Refused the stored draws asked for again: 1 problem(s)" in out
    assert LottoDraw.objects.get(draw_no=1219).rank3_winners is None
    assert LottoDraw.objects.get(draw_no=1220).rank3_winners == 3120


def _fields(draw_no: int) -> dict:
    draw = LottoDraw.objects.get(draw_no=draw_no)
    return {f.name: getattr(draw, f.name) for f in LottoDraw._meta.fields}
