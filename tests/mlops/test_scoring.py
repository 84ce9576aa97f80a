"""Scoring: hits, bonus, prize tiers and Brier score, exact and once."""

import json

import pytest

from draws.models import expected_draw_date
from draws.services import draw_import_file
from mlops.models import Prediction
from mlops.services.monitoring.scoring import (
    forecast_score_fields,
    predictions_score_for_draws,
    predictions_score_pending,
)
from tests.mlops.test_predictions import (
    TOP6,
    make_version,
    probabilities_for,
    record,
    store_draw,
    winning_with_hits,
)

pytestmark = pytest.mark.django_db

WINNING = [1, 2, 3, 4, 5, 6]
BONUS = 7


def test_every_prize_tier_and_no_prize_are_scored_exactly():
    tickets = {
        (1, 2, 3, 4, 5, 6): (6, 1),  # 1st: six numbers
        (1, 2, 3, 4, 5, 7): (5, 2),  # 2nd: five and the bonus
        (1, 2, 3, 4, 5, 8): (5, 3),  # 3rd: five
        (1, 2, 3, 4, 8, 9): (4, 4),  # 4th: four
        (1, 2, 3, 4, 7, 8): (4, 4),  # the bonus only counts next to five
        (1, 2, 3, 8, 9, 10): (3, 5),  # 5th: three
        (1, 2, 7, 8, 9, 10): (2, None),  # two and the bonus: nothing
        (20, 21, 22, 23, 24, 25): (0, None),
    }
    fields = forecast_score_fields(
        top_numbers=TOP6,
        probabilities=probabilities_for(TOP6),
        combinations=[list(ticket) for ticket in tickets],
        winning=WINNING,
        bonus=BONUS,
    )
    results = fields["combination_results"]
    assert [(r["matches"], r["tier"]) for r in results] == list(tickets.values())
    assert [r["bonus_match"] for r in results] == [
        False,
        True,
        False,
        False,
        True,
        False,
        True,
        False,
    ]
    assert [r["numbers"] for r in results] == [list(t) for t in tickets]


@pytest.mark.parametrize("k", range(7))
def test_hits_count_the_top_six_numbers_among_the_winning_six(k):
    fields = forecast_score_fields(
        top_numbers=TOP6,
        probabilities=probabilities_for(TOP6),
        combinations=[],
        winning=winning_with_hits(k),
        bonus=39,
    )
    assert fields["hits"] == k
    assert fields["bonus_hit"] is False
    assert fields["combination_results"] == []


def test_the_bonus_hit_is_the_bonus_among_the_top_six():
    fields = forecast_score_fields(
        top_numbers=[1, 2, 3, 7, 20, 30],
        probabilities=probabilities_for([1, 2, 3, 7, 20, 30]),
        combinations=[],
        winning=WINNING,
        bonus=BONUS,
    )
    assert fields["hits"] == 3
    assert fields["bonus_hit"] is True


def test_the_brier_score_is_the_mean_squared_error_over_the_45_numbers():
    # Top-6 at 0.5, the rest at 0.1; three of the top-6 and three others drawn.
    fields = forecast_score_fields(
        top_numbers=TOP6,
        probabilities=probabilities_for(TOP6),
        combinations=[],
        winning=winning_with_hits(3),
        bonus=39,
    )
    by_hand = (
        3 * (0.5 - 1) ** 2  # top-6 numbers drawn
        + 3 * (0.5 - 0) ** 2  # top-6 numbers not drawn
        + 3 * (0.1 - 1) ** 2  # other numbers drawn
        + 36 * (0.1 - 0) ** 2  # other numbers not drawn
    ) / 45
    assert fields["brier_score"] == pytest.approx(by_hand, abs=1e-12)


def test_scoring_writes_the_score_of_every_forecast_for_the_draw(model_root):
    version = make_version()
    model = record(1201, version, combinations=[WINNING, [1, 2, 3, 4, 5, 7]])
    statistical = record(1201, None, top6=[1, 2, 3, 7, 20, 30])
    store_draw(1201, WINNING, bonus=BONUS)

    assert predictions_score_for_draws([1201]) == 2

    model.refresh_from_db()
    statistical.refresh_from_db()
    assert (model.hits, model.bonus_hit) == (6, False)
    assert [r["tier"] for r in model.combination_results] == [1, 2]
    assert model.scored_at is not None
    assert (statistical.hits, statistical.bonus_hit) == (3, True)
    assert statistical.combination_results == []


def test_scoring_is_idempotent(model_root):
    prediction = record(1201, make_version())
    store_draw(1201, winning_with_hits(2), bonus=39)
    assert predictions_score_for_draws([1201]) == 1
    prediction.refresh_from_db()
    first = (prediction.scored_at, prediction.hits, prediction.brier_score)

    assert predictions_score_for_draws([1201]) == 0
    assert predictions_score_pending() == 0
    prediction.refresh_from_db()
    assert (prediction.scored_at, prediction.hits, prediction.brier_score) == first


def test_only_the_named_draws_are_scored(model_root):
    version = make_version()
    record(1201, version)
    record(1202, version)
    # Both stored at once, as a sync of two weeks would; only 1201 is announced.
    store_draw(1201, winning_with_hits(1), bonus=39)
    store_draw(1202, winning_with_hits(2), bonus=39)
    assert predictions_score_for_draws([1201, 1500]) == 1
    assert Prediction.objects.get(target_draw_no=1202).scored_at is None


def test_a_forecast_whose_draw_is_not_stored_stays_unscored(model_root):
    record(1201, None)
    assert predictions_score_for_draws([1201]) == 0
    assert predictions_score_for_draws([]) == 0
    assert Prediction.objects.get().scored_at is None


def test_the_catch_up_scores_forecasts_a_missed_signal_left_behind(model_root):
    record(1201, None)
    record(1202, None)
    store_draw(1201, winning_with_hits(4), bonus=39)
    assert predictions_score_pending() == 1
    assert Prediction.objects.get(target_draw_no=1201).hits == 4
    assert Prediction.objects.get(target_draw_no=1202).scored_at is None


def test_a_malformed_stored_forecast_is_skipped_and_the_others_are_scored(
    model_root,
):
    bad = record(1201, None)
    good = record(1201, make_version())
    # Written before the draw (still allowed), broken on purpose.
    Prediction.objects.filter(pk=bad.pk).update(top_numbers=[1, 2, 3])
    store_draw(1201, winning_with_hits(2), bonus=39)
    assert predictions_score_for_draws([1201]) == 1
    assert Prediction.objects.get(pk=bad.pk).scored_at is None
    assert Prediction.objects.get(pk=good.pk).hits == 2


def test_a_stored_import_scores_the_forecasts_and_records_the_next_one(
    model_root, tmp_path, django_capture_on_commit_callbacks, clock_follows_history
):
    prediction = record(1201, None)
    csv = tmp_path / "draws.csv"
    csv.write_text(
        "draw_no,draw_date,n1,n2,n3,n4,n5,n6,bonus\n"
        f"1201,{expected_draw_date(1201)},1,2,3,40,41,42,39\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        draw_import_file(csv)

    prediction.refresh_from_db()
    assert prediction.hits == 3
    # One draw is too little history for a model: statistical mode forecasts 1202.
    following = Prediction.objects.get(target_draw_no=1202)
    assert following.mode == "statistical"


def test_the_mirror_is_rewritten_with_the_score(
    model_root, django_capture_on_commit_callbacks
):
    version = make_version()
    with django_capture_on_commit_callbacks(execute=True):
        record(1201, version)
        store_draw(1201, winning_with_hits(5), bonus=6)
        predictions_score_for_draws([1201])
    mirror = model_root / "metadata" / "predictions" / f"1201_{version.version}.json"
    payload = json.loads(mirror.read_text())
    assert payload["hits"] == 5
    assert payload["bonus_hit"] is True
    assert payload["scored_at"] is not None
