"""Walk-forward backtest on a small synthetic history."""

import io
import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from draws.models import LottoDraw
from mlops.ml import features, metrics
from mlops.ml.statistical import statistical_probabilities
from mlops.models import ModelVersion, Prediction
from mlops.services.monitoring.backtest import backtest_run
from tests.factories import store_draws

pytestmark = pytest.mark.django_db

HISTORY = 520
SMALL_FOREST = {"n_estimators": 5}


@pytest.fixture
def history(model_root):
    return store_draws(HISTORY, seed=7)


def test_the_backtest_replays_the_last_draws_and_compares_with_chance(
    history, model_root
):
    report = backtest_run(draws=8, retrain_every=1, params=SMALL_FOREST)

    assert report["draw_range"] == [HISTORY - 7, HISTORY]
    assert report["first_training_draws"] == HISTORY - 8
    assert report["fits"] == 8
    for name in ("model", "statistical"):
        result = report["results"][name]
        assert result["sample_size"] == 8
        assert sum(result["hits_distribution"]["observed"]) == 8
        assert result["slip_prize_rate"]["sample_size"] == 8 * 5
        for key in ("any_hit_rate", "mean_hits", "prize_rate", "brier_score"):
            # 8 forecasts: below the minimum sample for any verdict
            assert result[key]["verdict_code"] == metrics.INSUFFICIENT_DATA
            assert 0 <= result[key]["p_value"] <= 1
    baseline = report["baseline"]
    assert baseline["any_hit_rate"] == metrics.random_any_hit_probability()
    assert baseline["mean_hits"] == 0.8
    # Nothing official is recorded or registered by a replay.
    assert not Prediction.objects.exists()
    assert not ModelVersion.objects.exists()


def test_the_statistical_forecasts_are_those_of_the_history_before_each_draw(
    history, model_root
):
    report = backtest_run(draws=3, params=SMALL_FOREST, write=False)
    for row in report["per_draw"]:
        before = history[: row["draw"] - 1]
        expected = metrics.top_numbers(statistical_probabilities(before))
        assert row["statistical_top6"] == expected
        assert row["statistical_hits"] == metrics.hits(expected, row["winning"])
        assert row["winning"] == history[row["draw"] - 1].tolist()


def test_the_model_only_sees_the_draws_before_the_one_it_forecasts(history, model_root):
    # Changing the last draw must not change any forecast of it.
    first = backtest_run(draws=2, params=SMALL_FOREST, write=False)
    last = LottoDraw.objects.get(draw_no=HISTORY)
    LottoDraw.objects.filter(pk=last.pk).delete()
    changed = [n for n in range(1, 46) if n not in last.numbers][:6]
    LottoDraw.objects.create(
        draw_no=HISTORY,
        draw_date=last.draw_date,
        bonus=[n for n in range(1, 46) if n not in changed][0],
        **{f"n{i + 1}": number for i, number in enumerate(changed)},
    )
    second = backtest_run(draws=2, params=SMALL_FOREST, write=False)
    for a, b in zip(first["per_draw"], second["per_draw"], strict=True):
        assert a["model_top6"] == b["model_top6"]
        assert a["statistical_top6"] == b["statistical_top6"]


def test_retraining_every_k_draws_fits_fewer_models(history, model_root):
    report = backtest_run(draws=8, retrain_every=4, params=SMALL_FOREST, write=False)
    assert report["fits"] == 2
    assert report["retrain_every"] == 4


def test_the_same_seed_gives_the_same_report(history, model_root):
    a = backtest_run(draws=3, seed=5, params=SMALL_FOREST, write=False)
    b = backtest_run(draws=3, seed=5, params=SMALL_FOREST, write=False)
    assert a["per_draw"] == b["per_draw"]
    assert a["results"] == b["results"]


def test_it_writes_a_json_report_and_a_png_chart_under_reports(history, model_store):
    report = backtest_run(draws=4, params=SMALL_FOREST)
    files = report["files"]
    assert files["json"].startswith("reports/backtest_")
    assert model_store.files() == {files["json"], files["png"]}
    stored = json.loads(model_store.read(files["json"]))
    assert stored["results"] == json.loads(json.dumps(report["results"]))
    png = model_store.read(files["png"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 10_000


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"draws": 0}, "at least 1"),
        ({"draws": 4, "retrain_every": 0}, "at least 1"),
        ({"draws": 30}, "Replay at most 20 draws"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_error(
    history, model_root, arguments, message
):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match=message):
        backtest_run(params=SMALL_FOREST, **arguments)
    assert not (model_root / "reports").exists()


def test_the_command_prints_model_statistical_and_random_side_by_side(
    history, model_root, settings
):
    settings.ML_N_ESTIMATORS = 5
    out, err = io.StringIO(), io.StringIO()
    call_command("backtest", draws=8, retrain_every=4, stdout=out, stderr=err)
    output = out.getvalue()
    assert f"draws {HISTORY - 7}-{HISTORY} (8 draws" in output
    assert "2 fits" in output
    accuracy = [line for line in output.splitlines() if "59.94%" in line]
    assert len(accuracy) == 2  # the model's and statistical mode's rows
    assert "Elapsed:" in output
    assert (model_root / output.split("Chart:  ")[1].split()[0]).exists()


def test_the_command_turns_a_too_short_history_into_a_command_error(
    history, model_root
):
    with pytest.raises(CommandError, match="Replay at most 20 draws"):
        call_command("backtest", draws=100, stdout=io.StringIO())


def test_the_backtest_uses_the_feature_rows_of_the_engine(history):
    # The walk-forward forecast row of draw t is the forecast row of draws[:t].
    matrix = features.build_feature_matrix(history)
    assert np.array_equal(
        matrix[HISTORY - 1], features.build_feature_matrix(history[: HISTORY - 1])[-1]
    )


def test_the_slip_prize_rate_counts_the_official_slip_of_every_draw(
    history, model_root
):
    from mlops.ml.sampling import sample_games

    report = backtest_run(draws=4, params=SMALL_FOREST, write=False)
    for name in ("model", "statistical"):
        wins = 0
        for row in report["per_draw"]:
            slip = row[f"{name}_slip"]
            assert len(slip["games"]) == 5
            assert slip["tiers"] == [
                metrics.prize_tier(game, row["winning"], row["bonus"])
                for game in slip["games"]
            ]
            wins += sum(tier is not None for tier in slip["tiers"])
        assert report["results"][name]["slip_prize_rate"]["successes"] == wins
    # The statistical slip is the one the engine would have served: seed = draw.
    row = report["per_draw"][0]
    before = history[: row["draw"] - 1]
    assert row["statistical_slip"]["games"] == sample_games(
        statistical_probabilities(before), count=5, seed=row["draw"]
    )


def test_too_short_a_history_says_how_many_draws_are_needed(model_root, settings):
    store_draws(300)
    with pytest.raises(CommandError, match="Store at least 501 draws first"):
        call_command("backtest", draws=5, stdout=io.StringIO())
