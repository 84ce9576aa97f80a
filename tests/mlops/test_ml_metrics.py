"""Metrics: closed-form baselines checked against independent calculations."""

import json
import math

import numpy as np
import pytest

from mlops.ml import metrics

WINNING = [3, 11, 19, 27, 35, 43]
BONUS = 7


def enumerate_hit_counts() -> list[int]:
    """Count the 6-of-45 tickets by matches with a fixed winning set, by walking
    the 45 numbers one at a time (picked or not): no binomial formula involved."""
    winning = set(range(1, 7))
    # ways[picked][matches]
    ways = [[0] * 7 for _ in range(7)]
    ways[0][0] = 1
    for number in range(1, 46):
        updated = [row[:] for row in ways]
        for picked in range(6):
            for matches in range(7):
                if ways[picked][matches]:
                    gained = matches + (number in winning)
                    updated[picked + 1][gained] += ways[picked][matches]
        ways = updated
    return ways[6]


@pytest.fixture(scope="module")
def simulated_hits() -> np.ndarray:
    """Hits of 100,000 random tickets against the winning set {1..6} (seeded)."""
    rng = np.random.default_rng(20261101)
    tickets = rng.random((100_000, 45)).argpartition(6, axis=1)[:, :6]
    return (tickets < 6).sum(axis=1)


def test_the_hits_pmf_equals_an_exact_count_of_all_tickets():
    counts = enumerate_hit_counts()
    assert sum(counts) == 8_145_060
    expected = [count / sum(counts) for count in counts]
    assert metrics.hypergeometric_hits_pmf() == pytest.approx(expected, rel=1e-12)


def test_the_hits_pmf_sums_to_one_and_has_mean_0_8():
    pmf = metrics.hypergeometric_hits_pmf()
    assert len(pmf) == 7
    assert math.fsum(pmf) == pytest.approx(1.0, abs=1e-15)
    mean = math.fsum(k * share for k, share in enumerate(pmf))
    assert mean == pytest.approx(metrics.random_mean_hits(), rel=1e-12)
    assert metrics.random_mean_hits() == pytest.approx(36 / 45)


def test_the_hits_variance_equals_the_variance_of_the_pmf():
    pmf = metrics.hypergeometric_hits_pmf()
    mean = metrics.random_mean_hits()
    variance = math.fsum(share * (k - mean) ** 2 for k, share in enumerate(pmf))
    assert metrics.random_hits_variance() == pytest.approx(variance, rel=1e-12)


def test_random_baselines_agree_with_a_seeded_simulation(simulated_hits):
    assert simulated_hits.mean() == pytest.approx(metrics.random_mean_hits(), abs=0.01)
    assert (simulated_hits >= 1).mean() == pytest.approx(
        metrics.random_any_hit_probability(), abs=0.006
    )
    assert (simulated_hits >= 3).mean() == pytest.approx(
        metrics.random_prize_probability(), abs=0.002
    )


def test_any_hit_probability_is_one_minus_the_share_of_tickets_with_no_hit():
    counts = enumerate_hit_counts()
    assert metrics.random_any_hit_probability() == pytest.approx(
        1 - counts[0] / sum(counts), rel=1e-12
    )
    assert round(metrics.random_any_hit_probability(), 4) == 0.5994


def test_a_prize_is_won_about_once_in_41_96_tickets():
    counts = enumerate_hit_counts()
    exact = sum(counts[3:]) / sum(counts)
    assert metrics.random_prize_probability() == pytest.approx(exact, rel=1e-12)
    assert round(1 / metrics.random_prize_probability(), 2) == 41.96


def test_the_uniform_brier_score_is_the_same_for_every_draw():
    uniform = [6 / 45] * 45
    by_definition = (6 * (1 - 6 / 45) ** 2 + 39 * (6 / 45) ** 2) / 45
    for winning in (WINNING, [1, 2, 3, 4, 5, 6], [40, 41, 42, 43, 44, 45]):
        assert metrics.brier_score(uniform, winning) == pytest.approx(by_definition)
    assert metrics.uniform_brier_score() == pytest.approx(by_definition, rel=1e-12)


def test_a_perfect_forecast_has_brier_zero_and_skill_one():
    perfect = [1.0 if number in WINNING else 0.0 for number in range(1, 46)]
    score = metrics.brier_score(perfect, WINNING)
    assert score == 0
    assert metrics.brier_skill_score(score, metrics.uniform_brier_score()) == 1


def test_brier_skill_is_zero_for_the_reference_and_negative_when_worse():
    reference = metrics.uniform_brier_score()
    assert metrics.brier_skill_score(reference, reference) == 0
    assert metrics.brier_skill_score(reference * 1.1, reference) < 0


def test_hits_counts_the_common_numbers():
    assert metrics.hits([1, 2, 3, 4, 5, 6], [4, 5, 6, 7, 8, 9]) == 3
    assert metrics.hits(WINNING, WINNING) == 6
    assert metrics.hits([1, 2, 4, 5, 6, 8], WINNING) == 0


@pytest.mark.parametrize(
    ("ticket", "tier"),
    [
        ([3, 11, 19, 27, 35, 43], 1),
        ([3, 11, 19, 27, 35, BONUS], 2),
        ([3, 11, 19, 27, 35, 44], 3),
        ([3, 11, 19, 27, BONUS, 44], 4),
        ([3, 11, 19, 1, 2, 4], 5),
        ([3, 11, BONUS, 1, 2, 4], None),
        ([3, 1, 2, 4, 5, 6], None),
        ([1, 2, 4, 5, 6, 8], None),
    ],
)
def test_every_prize_tier_is_recognised(ticket, tier):
    assert metrics.prize_tier(ticket, WINNING, BONUS) == tier


def test_the_bonus_only_matters_for_second_prize():
    four_and_bonus = [3, 11, 19, 27, BONUS, 44]
    four_without = [3, 11, 19, 27, 8, 44]
    assert metrics.prize_tier(four_and_bonus, WINNING, BONUS) == metrics.prize_tier(
        four_without, WINNING, BONUS
    )


@pytest.mark.parametrize(
    ("ticket", "winning", "bonus"),
    [
        ([1, 2, 3, 4, 5], WINNING, BONUS),
        ([1, 1, 2, 3, 4, 5], WINNING, BONUS),
        ([0, 1, 2, 3, 4, 5], WINNING, BONUS),
        ([1, 2, 3, 4, 5, 6], WINNING, 3),
        ([1, 2, 3, 4, 5, 6], WINNING, 46),
    ],
)
def test_invalid_tickets_are_rejected(ticket, winning, bonus):
    with pytest.raises(ValueError, match="must"):
        metrics.prize_tier(ticket, winning, bonus)


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    # Newcombe (1998), Statistics in Medicine 17:857, Table II, method 3.
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611)],
)
def test_the_wilson_interval_matches_newcombes_textbook_cases(successes, n, low, high):
    interval = metrics.wilson_interval(successes, n)
    assert interval == pytest.approx((low, high), abs=5e-5)


def test_the_wilson_interval_rejects_impossible_counts():
    with pytest.raises(ValueError, match="successes"):
        metrics.wilson_interval(5, 4)


def test_the_mean_interval_is_the_student_t_interval():
    values = [0, 1, 2, 1, 0, 3, 1, 1]
    low, high = metrics.mean_interval(values)
    mean, sem = np.mean(values), np.std(values, ddof=1) / math.sqrt(len(values))
    assert (low + high) / 2 == pytest.approx(mean)
    # t(0.975, df=7) = 2.3646, from any t table
    assert (high - mean) / sem == pytest.approx(2.3646, abs=1e-4)


def test_the_mean_interval_of_one_value_is_unbounded():
    assert metrics.mean_interval([0.8]) == (-math.inf, math.inf)


def test_the_total_hits_pmf_is_the_convolution_of_independent_draws():
    pmf = metrics.hypergeometric_hits_pmf()
    two_draws = metrics.total_hits_pmf(2)
    assert two_draws[12] == pytest.approx(pmf[6] ** 2)
    assert two_draws[1] == pytest.approx(2 * pmf[0] * pmf[1])
    many = metrics.total_hits_pmf(300)
    assert many.sum() == pytest.approx(1.0)
    assert (np.arange(len(many)) * many).sum() == pytest.approx(300 * 0.8)


def test_mean_hits_p_values_cover_the_tails():
    assert metrics.mean_hits_p_value(0, 10) == pytest.approx(1.0)
    assert metrics.mean_hits_p_value(60, 10) == pytest.approx(
        metrics.hypergeometric_hits_pmf()[6] ** 10
    )
    assert metrics.mean_hits_p_value(80, 100) == pytest.approx(0.5, abs=0.05)
    assert metrics.mean_hits_p_value(0, 10, alternative="less") == pytest.approx(
        metrics.hypergeometric_hits_pmf()[0] ** 10
    )


def test_the_binomial_p_value_is_exact():
    # P(X >= 2) for X ~ Bin(2, 0.5) = 0.25
    assert metrics.binomial_p_value(2, 2, 0.5) == pytest.approx(0.25)


def random_draws(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([rng.choice(45, 6, replace=False) + 1 for _ in range(count)])


def test_a_uniform_forecast_shows_no_evidence_of_skill():
    draws = random_draws(200, seed=1)
    report = metrics.evaluate_forecasts(np.full((200, 45), 6 / 45), draws)
    assert report["brier_score"]["value"] == pytest.approx(
        metrics.uniform_brier_score()
    )
    assert report["brier_score"]["verdict_code"] == metrics.NO_EVIDENCE
    assert report["brier_skill_score"]["value"] == pytest.approx(0, abs=1e-12)


def test_an_oracle_forecast_is_better_than_chance_on_every_metric():
    draws = random_draws(50, seed=2)
    oracle = np.zeros((50, 45))
    oracle[np.arange(50)[:, None], draws - 1] = 1
    report = metrics.evaluate_forecasts(oracle, draws)
    assert report["mean_hits"]["value"] == 6
    for name in ("any_hit_rate", "prize_rate", "brier_score", "brier_skill_score"):
        assert report[name]["verdict_code"] == metrics.BETTER, name
        assert report[name]["verdict"] == "better than chance"
    assert report["mean_hits"]["p_value"] < 1e-100


def test_a_forecast_that_avoids_the_winners_is_worse_than_chance():
    draws = random_draws(100, seed=3)
    avoid = np.ones((100, 45))
    avoid[np.arange(100)[:, None], draws - 1] = 0
    report = metrics.evaluate_forecasts(avoid, draws)
    assert report["mean_hits"]["value"] == 0
    assert report["mean_hits"]["verdict_code"] == metrics.WORSE
    assert report["any_hit_rate"]["verdict_code"] == metrics.WORSE
    assert report["brier_score"]["verdict_code"] == metrics.WORSE


def test_the_report_carries_baselines_sample_size_and_is_json_ready():
    draws = random_draws(30, seed=4)
    forecasts = np.random.default_rng(4).dirichlet(np.ones(45), size=30) * 6
    report = metrics.evaluate_forecasts(forecasts, draws)
    assert report["sample_size"] == 30
    assert report["mean_hits"]["baseline"] == metrics.random_mean_hits()
    assert report["any_hit_rate"]["baseline"] == metrics.random_any_hit_probability()
    assert report["prize_rate"]["baseline"] == metrics.random_prize_probability()
    assert sum(report["hits_distribution"]["observed"]) == 30
    assert json.loads(json.dumps(report, allow_nan=False)) == report


def test_a_single_forecast_gets_a_bounded_interval_and_no_verdict():
    report = metrics.evaluate_forecasts(np.full((1, 45), 6 / 45), random_draws(1, 6))
    low, high = report["mean_hits"]["interval"]
    assert 0 <= low < high <= 6
    assert report["mean_hits"]["verdict_code"] == metrics.INSUFFICIENT_DATA
    assert report["any_hit_rate"]["verdict"] == "insufficient data"
    json.dumps(report, allow_nan=False)


def test_mismatched_forecasts_and_draws_are_rejected():
    with pytest.raises(ValueError, match="actual_rows"):
        metrics.evaluate_forecasts(np.full((3, 45), 0.1), random_draws(2, seed=5))
