"""Fairness of the draw process: each law checked by enumeration, scipy and simulation."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from draws import fairness

FAIR_SEED = 20261201


def fair_history(draws: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    main, bonus = fairness.simulate_fair_draws(np.random.default_rng(seed), 1, draws)
    return main[0], bonus[0]


def test_the_overlap_law_equals_a_count_of_every_pair_of_draws_in_a_small_pool():
    # The same law for 4-of-9 by enumeration shows the counting; for 6-of-45 the
    # hypergeometric formula is checked against scipy.
    pool, size = range(9), 4
    fixed = set(range(size))
    counts = [0] * (size + 1)
    for other in itertools.combinations(pool, size):
        counts[len(fixed & set(other))] += 1
    hyper = stats.hypergeom(9, 4, 4)
    assert [c / sum(counts) for c in counts] == pytest.approx(
        [hyper.pmf(k) for k in range(size + 1)]
    )
    assert fairness.overlap_pmf() == pytest.approx(
        stats.hypergeom(45, 6, 6).pmf(range(7)), rel=1e-12
    )
    assert fairness.overlap_pmf() @ np.arange(7) == pytest.approx(0.8)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_the_total_overlap_law_equals_brute_force_enumeration(n):
    single = fairness.overlap_pmf()
    expected = np.zeros(6 * n + 1)
    for outcome in itertools.product(range(7), repeat=n):
        expected[sum(outcome)] += math.prod(single[k] for k in outcome)
    assert fairness.sum_pmf(n) == pytest.approx(expected, rel=1e-12)
    assert np.exp(fairness.sum_log_pmf(n)) == pytest.approx(expected, rel=1e-12)


def test_the_overlaps_of_a_fair_history_follow_the_exact_law():
    main, _ = fairness.simulate_fair_draws(np.random.default_rng(1), 400, 30)
    overlaps = fairness.consecutive_overlap(main)["overlaps"].ravel()
    observed = np.bincount(overlaps, minlength=7)[:4]
    expected = len(overlaps) * fairness.overlap_pmf()[:4]
    # 11,600 pairs: each count within 4 standard deviations of its expectation
    assert (np.abs(observed - expected) < 4 * np.sqrt(expected)).all()
    assert overlaps.mean() == pytest.approx(0.8, abs=0.03)


def test_pearsons_statistic_of_the_main_numbers_has_mean_39_not_44():
    main, _ = fairness.simulate_fair_draws(np.random.default_rng(2), 3000, 52)
    statistic = fairness.main_uniformity(fairness.number_counts(main), 52)["statistic"]
    assert statistic.mean() == pytest.approx(39, abs=0.5)
    assert statistic.var() == pytest.approx(2 * 39 * 39 / 44, rel=0.1)


def test_fair_histories_are_rejected_4_to_6_percent_of_the_time_at_alpha_5():
    rng = np.random.default_rng(FAIR_SEED)
    main, bonus = fairness.simulate_fair_draws(rng, 4000, 52)
    tests = fairness.fairness_p_values(main, bonus)
    scaled = (tests["main_uniformity"]["p_value"] < 0.05).mean()
    assert 0.04 <= scaled <= 0.06
    # Without the 44/39 scaling, chi2(44) rejects a fair draw about 1 % of the time.
    raw = stats.chi2.sf(tests["main_uniformity"]["statistic"], 44)
    assert (raw < 0.05).mean() < 0.02
    # the bonus at 52 draws (Monte Carlo null)
    assert 0.04 <= (tests["bonus_uniformity"]["p_value"] < 0.05).mean() <= 0.06
    # Holm keeps the family-wise error at or below alpha
    assert (tests["per_number"]["min_adjusted_p_value"] < 0.05).mean() <= 0.06
    assert 0.03 <= (tests["combined_p_value"] < 0.05).mean() <= 0.06


def test_the_bonus_chi2_is_calibrated_on_longer_windows():
    rng = np.random.default_rng(FAIR_SEED + 1)
    rates = []
    for _ in range(4):  # 4 x 1000 histories of 260 draws, in chunks to save memory
        main, bonus = fairness.simulate_fair_draws(rng, 1000, 260)
        tests = fairness.fairness_p_values(main, bonus)
        assert tests["bonus_uniformity"]["method"] == "chi2"
        rates.append(tests["bonus_uniformity"]["p_value"] < 0.05)
        rates.append(tests["main_uniformity"]["p_value"] < 0.05)
    bonus_rate = np.mean(rates[0::2])
    main_rate = np.mean(rates[1::2])
    assert 0.04 <= bonus_rate <= 0.06
    assert 0.04 <= main_rate <= 0.06


@pytest.mark.parametrize("draws", [10, 52, 260, 1220])
def test_the_exact_size_of_the_overlap_test_is_at_most_alpha(draws):
    # Discrete: its exact false-alarm rate is summed, not simulated.
    pairs = draws - 1
    law = fairness.sum_pmf(pairs)
    upper, lower = fairness.sum_tails(np.arange(len(law)), pairs)
    size = law[fairness.two_sided(upper, lower) < 0.05].sum()
    assert 0.02 < size <= 0.05


def test_per_number_p_values_equal_scipys_binomtest():
    counts = [0, 1, 3, 7, 9, 12, 20, 30, 52]
    ours = fairness.binomial_two_sided_p_values(counts, 52, 6 / 45)
    for count, p_value in zip(counts, ours, strict=True):
        assert p_value == pytest.approx(
            stats.binomtest(count, 52, 6 / 45).pvalue, rel=1e-9
        )


def test_holm_matches_its_step_down_definition():
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5])
    # sorted: 0.005*5, 0.01*4, 0.03*3, 0.04*2, 0.5*1 -> running max
    expected = {3: 0.025, 0: 0.04, 2: 0.09, 1: 0.09, 4: 0.5}
    adjusted = fairness.holm(p)
    for index, value in expected.items():
        assert adjusted[index] == pytest.approx(value)
    assert fairness.holm(np.stack([p, p]))[1] == pytest.approx(adjusted)


def test_a_fair_history_is_consistent_with_a_fair_draw():
    main, bonus = fair_history(260, seed=11)
    result = fairness.fairness_test(main, bonus)
    assert result["verdict_code"] == fairness.CONSISTENT
    assert result["verdict"] == "consistent with a fair draw"
    assert result["main_uniformity"]["df"] == 44
    assert result["main_uniformity"]["scale"] == pytest.approx(44 / 39)
    assert result["consecutive_overlap"]["expected_mean"] == pytest.approx(0.8)
    assert sum(result["consecutive_overlap"]["observed"]) == 259


def test_a_machine_that_favours_one_number_shows_evidence_of_bias():
    main, bonus = fair_history(260, seed=12)
    rng = np.random.default_rng(13)
    for row, extra in zip(main, bonus, strict=True):
        if 7 not in row and rng.random() < 0.5 and extra != 7:
            row[0] = 7  # number 7 replaces the smallest number half the time
            row.sort()
    result = fairness.fairness_test(main, bonus)
    assert result["verdict_code"] == fairness.BIAS
    assert 7 in result["per_number"]["rejected"]
    assert result["main_uniformity"]["p_value"] < 1e-6


def test_repeating_draws_show_up_in_the_overlap_test():
    main, bonus = fair_history(52, seed=14)
    main[1::2] = main[0::2]  # every other draw repeats the one before it
    bonus[1::2] = bonus[0::2]
    overlap = fairness.fairness_test(main, bonus)["consecutive_overlap"]
    assert overlap["mean"] > 2
    assert overlap["p_value"] < 1e-10


@pytest.mark.parametrize(
    ("main", "bonus", "message"),
    [
        ([[1, 2, 3, 4, 5]], [6], "shape"),
        ([[1, 2, 3, 4, 5, 46]], [7], "1-45"),
        ([[1, 1, 3, 4, 5, 6]], [7], "distinct"),
        ([[1, 2, 3, 4, 5, 6]], [6], "bonus"),
        ([[1, 2, 3, 4, 5, 6]], [7, 8], "bonuses"),
    ],
)
def test_an_impossible_history_is_refused(main, bonus, message):
    with pytest.raises(ValueError, match=message):
        fairness.validate_history(main, bonus)


def test_a_window_shorter_than_ten_draws_is_refused():
    main, bonus = fair_history(9, seed=15)
    with pytest.raises(ValueError, match="at least 10"):
        fairness.fairness_test(main, bonus)
