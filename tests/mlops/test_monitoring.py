"""Health from scored forecasts: baselines, thresholds, scope, trend, emergency."""

import datetime as dt
import io
import json
import math

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from scipy import stats

from mlops.models import ModelActivation, Prediction, RetrainRun
from mlops.services.monitoring.monitoring import (
    get_accuracy_trend,
    get_monitor_status,
    monitor_check,
)
from mlops.services.registry.audit import Actor
from tests.mlops.test_predictions import (
    make_version,
    record,
    record_scored,
    store_draw,
    winning_with_hits,
)

pytestmark = pytest.mark.django_db

C = math.comb
TOTAL = C(45, 6)


def scored_history(hit_counts, version=None, first_draw: int = 1001):
    """One monitored, scored forecast per entry of hit_counts, oldest first."""
    version = version or make_version()
    for offset, hits in enumerate(hit_counts):
        record_scored(first_draw + offset, version, hits)
    return version


def with_share(any_hit: int, n: int) -> list[int]:
    """n hit counts of which `any_hit` are >= 1 (alternating 1 and 2 hits)."""
    return [1 + index % 2 for index in range(any_hit)] + [0] * (n - any_hit)


# --- baselines ---------------------------------------------------------------------


def test_the_baselines_are_the_closed_forms(model_root):
    scored_history([0, 1, 2, 3])
    status = get_monitor_status()

    assert status["baseline"] == pytest.approx(100 * (1 - C(39, 6) / TOTAL), rel=1e-12)
    assert status["baseline"] == pytest.approx(59.94, abs=0.005)  # the figure
    assert status["mean_hits"]["baseline"] == pytest.approx(6 * 6 / 45, rel=1e-12)
    expected = [4 * C(6, k) * C(39, 6 - k) / TOTAL for k in range(7)]
    assert status["hits_distribution"]["expected"] == pytest.approx(expected)
    assert status["hits_distribution"]["observed"] == [1, 1, 1, 1, 0, 0, 0]
    prize = sum(C(6, k) * C(39, 6 - k) for k in range(3, 7)) / TOTAL
    assert status["prize_rate"]["baseline"] == pytest.approx(100 * prize, rel=1e-12)
    assert 1 / prize == pytest.approx(41.96, abs=0.01)
    p = 6 / 45
    uniform_brier = (6 * (1 - p) ** 2 + 39 * p**2) / 45
    assert status["brier_score"]["baseline"] == pytest.approx(uniform_brier, rel=1e-12)


def test_the_accuracy_comes_with_its_exact_interval_and_verdict(model_root):
    scored_history(with_share(15, 20))
    status = get_monitor_status()

    chance = 1 - C(39, 6) / TOTAL
    exact = stats.binomtest(15, 20, chance)
    interval = exact.proportion_ci(0.95, method="exact")
    assert status["accuracy"] == 75.0
    assert status["interval"] == pytest.approx(
        [100 * interval.low, 100 * interval.high]
    )
    assert status["interval_method"] == "clopper-pearson"
    assert status["sample_size"] == 20
    assert status["successes"] == 15
    assert status["p_value"] == pytest.approx(
        stats.binomtest(15, 20, chance, alternative="greater").pvalue
    )
    assert status["p_value_worse"] == pytest.approx(
        stats.binomtest(15, 20, chance, alternative="less").pvalue
    )
    # 75 % over 20 draws: the interval (51 %, 91 %) holds the 59.9 % of chance.
    assert status["verdict_code"] == "no_evidence"
    assert status["alpha"] == 0.05
    assert status["window"] == 52


def test_the_verdict_is_in_the_readers_language_beside_its_code(model_root):
    scored_history(with_share(15, 20))
    with translation.override("en"):
        english = get_monitor_status()
    with translation.override("ko"):
        korean = get_monitor_status()
    assert english["verdict"] == "no evidence of skill"
    assert korean["verdict"] != english["verdict"]
    assert korean["verdict_code"] == english["verdict_code"] == "no_evidence"
    assert english["mean_hits"]["verdict_code"] == korean["mean_hits"]["verdict_code"]


def test_below_ten_forecasts_there_is_no_verdict(model_root):
    scored_history([0, 0, 0, 0, 0, 0, 0, 0, 0])
    status = get_monitor_status()
    assert status["verdict_code"] == "insufficient_data"
    assert status["mean_hits"]["verdict_code"] == "insufficient_data"
    assert status["interval"][0] == 0.0
    assert status["interval"][1] > 0


def test_the_mean_hits_brier_and_prize_figures_describe_the_window(model_root):
    version = make_version()
    winning = [1, 2, 3, 40, 41, 42]
    record(1001, version, combinations=[[1, 2, 3, 4, 5, 6], [10, 11, 12, 13, 14, 15]])
    store_draw(1001, winning, bonus=39)
    record_scored(1002, version, 1)
    from mlops.services.monitoring.scoring import predictions_score_for_draws

    predictions_score_for_draws([1001])
    status = get_monitor_status()

    assert status["mean_hits"]["value"] == pytest.approx(2.0)  # (3 + 1) / 2
    prize = status["prize_rate"]
    assert (prize["successes"], prize["sample_size"]) == (1, 2)
    assert prize["value"] == 50.0
    assert prize["tiers"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}
    briers = Prediction.objects.values_list("brier_score", flat=True)
    assert status["brier_score"]["value"] == pytest.approx(sum(briers) / 2)
    assert status["brier_score"]["skill_score"] == pytest.approx(
        1 - status["brier_score"]["value"] / status["brier_score"]["baseline"]
    )


def test_with_no_scored_forecast_every_figure_is_empty(model_root):
    status = get_monitor_status()
    assert status["status"] == "insufficient_data"
    assert status["accuracy"] is None
    assert status["interval"] is None
    assert status["sample_size"] == 0
    assert status["baseline"] == pytest.approx(100 * (1 - C(39, 6) / TOTAL))
    assert status["emergency_retrain"] is False


# --- status transitions -------------------------------------------------------------


@pytest.mark.parametrize(
    ("any_hit", "n", "expected"),
    [
        (20, 20, "good"),
        (14, 20, "good"),  # exactly 70 %: GOOD is >= 70
        (13, 20, "warning"),  # 65 %
        (10, 20, "warning"),  # exactly 50 %: CRITICAL is < 50
        (9, 20, "critical"),  # 45 %
        (0, 20, "critical"),
        (19, 19, "insufficient_data"),  # below MONITOR_MIN_SAMPLES
        (0, 19, "insufficient_data"),
    ],
)
def test_the_status_follows_the_thresholds_and_the_minimum_sample(
    model_root, any_hit, n, expected
):
    scored_history(with_share(any_hit, n))
    status = get_monitor_status()
    assert status["status"] == expected
    assert status["accuracy"] == pytest.approx(100 * any_hit / n)


def test_the_status_moves_from_good_to_warning_to_critical_as_misses_arrive(
    model_root, settings
):
    settings.MONITOR_WINDOW = 10
    settings.MONITOR_MIN_SAMPLES = 10
    version = scored_history([1] * 10)  # 100 %
    seen = [get_monitor_status()["status"]]
    for offset in range(6):  # each miss pushes one hit out of the window
        record_scored(1011 + offset, version, 0)
        status = get_monitor_status()
        seen.append((status["accuracy"], status["status"]))
    assert seen == [
        "good",
        (90.0, "good"),
        (80.0, "good"),
        (70.0, "good"),
        (60.0, "warning"),
        (50.0, "warning"),
        (40.0, "critical"),
    ]


def test_the_thresholds_come_from_the_settings(model_root, settings):
    settings.MONITOR_GOOD_THRESHOLD = 80
    settings.MONITOR_CRITICAL_THRESHOLD = 76
    scored_history(with_share(15, 20))  # 75 %
    status = get_monitor_status()
    assert status["status"] == "critical"
    assert status["thresholds"] == {"good": 80, "critical": 76}


def test_only_the_last_window_of_forecasts_counts(model_root, settings):
    settings.MONITOR_WINDOW = 20
    scored_history([0] * 5 + with_share(20, 20))
    status = get_monitor_status()
    assert status["sample_size"] == 20
    assert status["accuracy"] == 100.0
    assert (status["first_draw"], status["last_draw"]) == (1006, 1025)


# --- what is monitored -----------------------------------------------------------------


def test_statistical_and_unscored_forecasts_do_not_count(model_root):
    version = make_version()
    record_scored(1001, version, 2)
    record(1002, None)  # statistical
    store_draw(1002, winning_with_hits(3), bonus=39)
    record(1003, version)  # not drawn yet
    from mlops.services.monitoring.scoring import predictions_score_pending

    predictions_score_pending()
    status = get_monitor_status()
    assert status["sample_size"] == 1
    assert status["mean_hits"]["value"] == 2


def test_a_version_that_was_not_active_when_it_forecast_does_not_count(model_root):
    candidate = make_version("lotto_model_candidate", active=False)
    record_scored(1001, candidate, 3)
    assert get_monitor_status()["sample_size"] == 0


def test_of_two_served_forecasts_for_a_draw_the_later_one_counts(model_root):
    old = make_version("lotto_model_old")
    record(1001, old, top6=[10, 11, 12, 13, 14, 15])  # would score 0 hits
    # A retrain activates a new version before the draw: it forecasts too.
    now = timezone.now()
    ModelActivation.objects.filter(model_version=old).update(
        is_current=False, deactivated_at=now
    )
    old.state = "archived"
    old.save(update_fields=["state"])
    new = make_version("lotto_model_new")
    ModelActivation.objects.filter(model_version=new).update(activated_at=now)
    record_scored(1001, new, 2)
    assert Prediction.objects.filter(scored_at__isnull=False).count() == 2

    status = get_monitor_status()
    assert status["sample_size"] == 1
    assert status["mean_hits"]["value"] == 2


# --- trend ------------------------------------------------------------------------------


def test_the_trend_has_one_entry_per_scored_draw_with_the_rolling_accuracy(
    model_root, settings
):
    settings.MONITOR_WINDOW = 3
    today = timezone.localdate()
    version = make_version()
    hits = [1, 2, 0, 0, 1, 3]
    days_ago = [35, 28, 21, 14, 7, 0]
    for offset, (count, ago) in enumerate(zip(hits, days_ago, strict=True)):
        date = today - dt.timedelta(days=ago)
        record_scored(1001 + offset, version, count, date=date)

    trend = get_accuracy_trend(days=28)

    baseline = 100 * (1 - C(39, 6) / TOTAL)
    # Window 3: 21 days ago -> draws 1001-1003 hits (1, 2, 0): 2 of 3 hit.
    assert [(e["draw"], e["hits"]) for e in trend] == [
        (1003, 0),
        (1004, 0),
        (1005, 1),
        (1006, 3),
    ]
    assert [e["accuracy"] for e in trend] == pytest.approx(
        [200 / 3, 100 / 3, 100 / 3, 200 / 3]
    )
    assert [e["date"] for e in trend] == [
        (today - dt.timedelta(days=ago)).isoformat() for ago in (21, 14, 7, 0)
    ]
    assert all(e["baseline"] == pytest.approx(baseline) for e in trend)
    assert all(e["sample_size"] == 3 for e in trend)


def test_a_shorter_trend_keeps_the_same_rolling_figures(model_root, settings):
    settings.MONITOR_WINDOW = 3
    today = timezone.localdate()
    version = make_version()
    for offset, (count, ago) in enumerate([(1, 21), (0, 14), (0, 7), (2, 0)]):
        record_scored(1001 + offset, version, count, date=today - dt.timedelta(ago))
    trend = get_accuracy_trend(days=7)
    assert [(e["draw"], e["accuracy"], e["sample_size"]) for e in trend] == [
        (1004, pytest.approx(100 / 3), 3)
    ]


def test_the_trend_is_empty_without_scored_draws_in_the_period(model_root):
    record_scored(1001, make_version(), 2, date=timezone.localdate() - dt.timedelta(60))
    assert get_accuracy_trend(days=28) == []


# --- emergency retrain -----------------------------------------------------------------


def critical_history():
    scored_history(with_share(5, 20))  # 25 %


def test_a_critical_status_queues_exactly_one_emergency_retrain_within_the_cooldown(
    model_root, django_capture_on_commit_callbacks
):
    critical_history()
    assert get_monitor_status()["emergency_retrain_state"] == "due"
    assert get_monitor_status()["emergency_retrain"] is True

    # Q2 runs in sync mode in the tests: the queued retrain runs on commit (and
    # fails quickly here: 20 draws are far below ML_MIN_DRAWS).
    with django_capture_on_commit_callbacks(execute=True):
        first = monitor_check(actor=Actor.scheduler())
    assert first["status"] == "critical"
    assert first["action"] == "queued"
    run = RetrainRun.objects.get()
    assert run.trigger == "emergency"
    assert run.pk == first["retrain_run"]
    assert "below the critical threshold" in run.options["reason"]
    assert run.in_flight is None  # finished: only the cooldown holds the next one

    with django_capture_on_commit_callbacks(execute=True):
        second = monitor_check(actor=Actor.scheduler())
    assert second["action"] == "skipped_cooldown"
    assert second["emergency_retrain"] is False
    assert RetrainRun.objects.count() == 1


def test_after_the_cooldown_a_still_critical_status_queues_another(model_root):
    critical_history()
    monitor_check(actor=Actor.scheduler())
    run = RetrainRun.objects.get()
    # Finished eight days ago (the default cooldown is seven).
    RetrainRun.objects.filter(pk=run.pk).update(
        status="failed",
        in_flight=None,
        created_at=timezone.now() - dt.timedelta(days=8),
    )
    result = monitor_check(actor=Actor.scheduler())
    assert result["action"] == "queued"
    assert RetrainRun.objects.filter(trigger="emergency").count() == 2


def test_no_emergency_retrain_is_queued_while_a_retrain_runs(model_root):
    critical_history()
    running = RetrainRun.objects.create(
        trigger="scheduled",
        status="running",
        in_flight=RetrainRun.IN_FLIGHT,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    status = get_monitor_status()
    assert status["emergency_retrain_state"] == "deferred"
    assert status["retrain_in_flight"] == running.pk

    result = monitor_check(actor=Actor.scheduler())
    assert result["action"] == "skipped_running"
    assert not RetrainRun.objects.filter(trigger="emergency").exists()


def test_a_queued_emergency_retrain_shows_as_running_and_is_not_queued_again(
    model_root,
):
    critical_history()
    monitor_check(actor=Actor.scheduler())  # on_commit not run: stays queued
    status = get_monitor_status()
    assert status["emergency_retrain_state"] == "running"
    assert status["emergency_retrain"] is True
    assert monitor_check(actor=Actor.scheduler())["action"] == "skipped_running"
    assert RetrainRun.objects.count() == 1


@pytest.mark.parametrize("any_hit", [10, 14])
def test_a_warning_or_good_status_queues_nothing(model_root, any_hit):
    scored_history(with_share(any_hit, 20))
    result = monitor_check(actor=Actor.scheduler())
    assert result["action"] == "none"
    assert result["emergency_retrain_state"] == "not_needed"
    assert not RetrainRun.objects.exists()


def test_too_few_forecasts_queue_nothing_however_bad(model_root):
    scored_history([0] * 19)
    result = monitor_check(actor=Actor.scheduler())
    assert result["status"] == "insufficient_data"
    assert result["action"] == "none"
    assert not RetrainRun.objects.exists()


def test_the_check_scores_forecasts_left_unscored_first(model_root):
    version = make_version()
    record(1001, version)
    store_draw(1001, winning_with_hits(2), bonus=39)
    result = monitor_check(actor=Actor.scheduler())
    assert result["scored_now"] == 1
    assert result["sample_size"] == 1


# --- the accuracy command ----------------------------------------------------------------


def run_accuracy(*args) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("accuracy", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_each_figure_beside_its_baseline_and_interval(model_root):
    scored_history(with_share(13, 20))
    output = run_accuracy()
    status = get_monitor_status()
    assert "Model health: WARNING" in output
    accuracy_line = next(line for line in output.splitlines() if "accuracy" in line)
    assert "65.00%" in accuracy_line
    assert f"{status['baseline']:.2f}%" in accuracy_line
    low, high = status["interval"]
    assert f"[{low:.2f}%, {high:.2f}%]" in accuracy_line
    assert "no evidence of skill" in accuracy_line
    assert accuracy_line.split()[-1] == "20"


def test_the_command_lists_the_trend_and_prints_json(model_root):
    today = timezone.localdate()
    record_scored(1001, make_version(), 2, date=today - dt.timedelta(days=2))
    output = run_accuracy("--trend", "28")
    assert f"{(today - dt.timedelta(days=2)).isoformat()}   1001     2" in output
    payload = json.loads(run_accuracy("--trend", "28", "--json"))
    assert payload["status"]["sample_size"] == 1
    assert payload["trend"][0]["draw"] == 1001


def test_the_command_refuses_a_bad_trend_length(model_root):
    with pytest.raises(CommandError, match="between 1 and 3650"):
        run_accuracy("--trend", "0")


def test_the_command_check_queues_the_emergency_retrain(model_root):
    critical_history()
    output = run_accuracy("--check")
    assert "Check: scored 0; queued." in output
    assert RetrainRun.objects.get().trigger == "emergency"


def test_the_status_costs_two_queries(model_root, django_assert_max_num_queries):
    scored_history(with_share(15, 20))
    # The Prometheus collector calls it at every scrape.
    with django_assert_max_num_queries(2):
        get_monitor_status()


def test_critical_without_worse_than_chance_queues_no_emergency_retrain(
    model_root, django_capture_on_commit_callbacks
):
    # 9 of 20 with a hit: 45 % < 50 % is CRITICAL, but P(X <= 9) = 0.129 under
    # chance: no evidence that the model is worse than chance.
    scored_history(with_share(9, 20))
    status = get_monitor_status()
    assert status["status"] == "critical"
    assert status["verdict_code"] == "no_evidence"
    assert status["emergency_retrain_state"] == "no_evidence"
    assert status["emergency_retrain"] is False
    with django_capture_on_commit_callbacks(execute=True):
        result = monitor_check(actor=Actor.scheduler())
    assert result["action"] == "skipped_no_evidence"
    assert not RetrainRun.objects.exists()


def test_the_emergency_reason_quotes_the_exact_test(
    model_root, django_capture_on_commit_callbacks
):
    critical_history()
    with django_capture_on_commit_callbacks(execute=True):
        monitor_check(actor=Actor.scheduler())
    reason = RetrainRun.objects.get().options["reason"]
    assert "worse than chance (exact p = " in reason


def test_the_command_prints_the_exact_verdict_beside_the_status(model_root):
    scored_history(with_share(9, 20))
    output = run_accuracy()
    assert "Model health: CRITICAL" in output
    assert "Exact verdict: no evidence of skill [no_evidence]" in output
    assert "Emergency retrain: no_evidence" in output
    assert "Replayed series: no replay yet" in output


def test_every_trend_point_carries_its_exact_verdict(model_root):
    today = timezone.localdate()
    version = make_version()
    for offset in range(12):
        record_scored(
            1001 + offset, version, 0, date=today - dt.timedelta(days=12 - offset)
        )
    trend = get_accuracy_trend(days=28)
    assert trend[-1]["sample_size"] == 12
    assert trend[-1]["verdict_code"] == "worse"  # 0 of 12: P = 0.4006^12
    assert trend[0]["verdict_code"] == "insufficient_data"
