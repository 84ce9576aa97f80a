"""Exact verdicts: every test checked against brute-force enumeration and scipy."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from mlops.ml import metrics

ANY_HIT = metrics.random_any_hit_probability()
PRIZE = metrics.random_prize_probability()
PMF = metrics.hypergeometric_hits_pmf()
HALF_ALPHA = metrics.ALPHA / 2


def brute_force_total_pmf(n: int) -> list[float]:
    """P(total hits = t) by walking all 7^n hit tuples of n forecasts."""
    totals = [0.0] * (6 * n + 1)
    for outcome in itertools.product(range(7), repeat=n):
        totals[sum(outcome)] += math.prod(PMF[k] for k in outcome)
    return totals


def brute_force_binomial_tails(k: int, n: int, p: float) -> tuple[float, float]:
    """P(X >= k) and P(X <= k), X ~ Bin(n, p), by summing every outcome count."""
    probability = [math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(n + 1)]
    return math.fsum(probability[k:]), math.fsum(probability[: k + 1])


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_the_total_hits_law_equals_brute_force_enumeration(n):
    assert metrics.total_hits_pmf(n) == pytest.approx(
        brute_force_total_pmf(n), rel=1e-12, abs=1e-300
    )


@pytest.mark.parametrize("n", [1, 2, 3])
def test_the_mean_hits_p_values_equal_brute_force_tails(n):
    law = brute_force_total_pmf(n)
    for total in range(6 * n + 1):
        upper, lower = metrics.total_hits_tails(total, n)
        assert upper == pytest.approx(math.fsum(law[total:]), rel=1e-12)
        assert lower == pytest.approx(math.fsum(law[: total + 1]), rel=1e-12)


def test_the_far_tail_of_the_total_hits_law_stays_exact():
    # P(52 perfect forecasts) = 1.2277e-7^52 ~ 1e-360, below the smallest float:
    # log space keeps it.
    log_pmf = np.log(PMF[6]) * 52
    assert metrics.total_hits_pmf(52)[-1] == 0.0  # underflows as a float
    upper, _ = metrics.total_hits_tails(52 * 6, 52)
    assert upper == 0.0
    low, high = metrics.mean_hits_interval(52 * 6, 52)
    assert 5.9 < low < high == 6.0
    assert log_pmf < -700


@pytest.mark.parametrize("n", [1, 5, 13, 52])
def test_the_binomial_p_values_equal_brute_force_and_scipy(n):
    for k in range(n + 1):
        figure = metrics.rate_figure(k, n, ANY_HIT)
        upper, lower = brute_force_binomial_tails(k, n, ANY_HIT)
        assert figure["p_value"] == pytest.approx(upper, rel=1e-9)
        assert figure["p_value_worse"] == pytest.approx(lower, rel=1e-9)
        scipy_test = stats.binomtest(k, n, ANY_HIT, alternative="greater")
        assert figure["p_value"] == pytest.approx(scipy_test.pvalue, rel=1e-12)


@pytest.mark.parametrize("n", [1, 3, 8, 20, 52])
def test_the_clopper_pearson_bounds_solve_their_defining_equations(n):
    for k in range(n + 1):
        low, high = metrics.clopper_pearson_interval(k, n)
        if k == 0:
            assert low == 0.0
        else:
            assert stats.binom.sf(k - 1, n, low) == pytest.approx(HALF_ALPHA)
            assert low == pytest.approx(stats.beta.ppf(HALF_ALPHA, k, n - k + 1))
        if k == n:
            assert high == 1.0
        else:
            assert stats.binom.cdf(k, n, high) == pytest.approx(HALF_ALPHA)
        assert high - low > 0.01  # never zero width


def test_no_interval_bound_is_a_rounding_artefact():
    # The Wilson lower bound of 0/3 used to print as 5.55e-15.
    assert metrics.clopper_pearson_interval(0, 3)[0] == 0.0
    assert metrics.wilson_interval(0, 3)[0] == 0.0
    assert metrics.wilson_interval(3, 3)[1] == 1.0


@pytest.mark.parametrize("n", [1, 2, 5, 10, 20])
def test_the_mean_hits_interval_bounds_solve_their_tail_equations(n):
    log_pmf = np.log(metrics.total_hits_pmf(n))
    support = np.arange(len(log_pmf))
    for total in range(0, 6 * n + 1, max(1, n // 2)):
        low, high = metrics.mean_hits_interval(total, n)
        assert 0 <= low < high <= 6
        for bound, tail in ((low, slice(total, None)), (high, slice(0, total + 1))):
            if bound in (0.0, 6.0):
                continue
            theta = solve_theta(bound)
            weights = np.exp(log_pmf + theta * support - np.max(log_pmf))
            share = weights[tail].sum() / weights.sum()
            assert share == pytest.approx(HALF_ALPHA, rel=1e-6)


def solve_theta(mean: float) -> float:
    """The tilting parameter whose per-forecast mean hits is `mean`."""
    from scipy import optimize

    k = np.arange(7)

    def tilted(theta):
        weights = np.asarray(PMF) * np.exp(theta * k)
        return weights @ k / weights.sum() - mean

    return optimize.brentq(tilted, -60, 60, xtol=1e-14)


@pytest.mark.parametrize("n", [10, 11, 20, 52])
def test_the_interval_excludes_chance_exactly_when_the_verdict_is_not_no_evidence(n):
    for total in range(6 * n + 1):
        figure = metrics.mean_hits_figure(
            [total // n] * (n - total % n) + [total // n + 1] * (total % n)
        )
        low, high = figure["interval"]
        assert (low <= 0.8 <= high) == (figure["verdict_code"] == metrics.NO_EVIDENCE)
    for k in range(n + 1):
        figure = metrics.rate_figure(k, n, ANY_HIT)
        low, high = figure["interval"]
        inside = low <= ANY_HIT <= high
        assert inside == (figure["verdict_code"] == metrics.NO_EVIDENCE)


@pytest.mark.parametrize("n", [10, 20, 52, 104])
def test_a_chance_level_forecaster_gets_a_verdict_at_most_alpha_of_the_time(n):
    # Exact size: sum the chance probability of every outcome that gets a verdict.
    law = metrics.total_hits_pmf(n)
    mean_size = math.fsum(
        law[t]
        for t in range(6 * n + 1)
        if metrics.exact_verdict(*metrics.total_hits_tails(t, n), n)
        != metrics.NO_EVIDENCE
    )
    rate_size = math.fsum(
        stats.binom.pmf(k, n, ANY_HIT)
        for k in range(n + 1)
        if metrics.rate_figure(k, n, ANY_HIT)["verdict_code"] != metrics.NO_EVIDENCE
    )
    assert 0 < mean_size <= metrics.ALPHA
    assert 0 < rate_size <= metrics.ALPHA


@pytest.mark.parametrize(
    ("figure", "p_worse"),
    [
        # The cases the t and Wilson intervals used to call "worse than chance".
        (lambda: metrics.mean_hits_figure([0, 0]), 0.4006**2),
        (lambda: metrics.rate_figure(0, 3, ANY_HIT), 0.4006**3),
        (lambda: metrics.rate_figure(2, 8, ANY_HIT), 0.0502),
        (lambda: metrics.mean_hits_figure([0, 1, 0, 1, 0]), None),
    ],
)
def test_small_samples_get_no_verdict(figure, p_worse):
    result = figure()
    assert result["verdict_code"] == metrics.INSUFFICIENT_DATA
    assert result["verdict"] == "insufficient data"
    if p_worse is not None:
        assert result["p_value_worse"] == pytest.approx(p_worse, rel=2e-3)
    low, high = result["interval"]
    assert low <= result["baseline"] <= high


def test_perfect_small_samples_are_not_called_better_either():
    for hits in ([1, 1, 1], [2, 2]):
        assert metrics.mean_hits_figure(hits)["verdict_code"] == (
            metrics.INSUFFICIENT_DATA
        )


def test_a_one_sided_p_between_alpha_half_and_alpha_is_no_evidence():
    # 5 of 15 with a hit: P(X <= 5) = 0.0342 (> 0.025) for p = 0.5994.
    figure = metrics.rate_figure(5, 15, ANY_HIT)
    assert HALF_ALPHA < figure["p_value_worse"] < metrics.ALPHA
    assert figure["verdict_code"] == metrics.NO_EVIDENCE
    worse = metrics.rate_figure(4, 15, ANY_HIT)
    assert worse["p_value_worse"] < HALF_ALPHA
    assert worse["verdict_code"] == metrics.WORSE


@pytest.mark.parametrize(
    ("p_better", "p_worse", "n", "code"),
    [
        (0.01, 0.99, 10, metrics.BETTER),
        (0.99, 0.01, 10, metrics.WORSE),
        (0.03, 0.97, 10, metrics.NO_EVIDENCE),
        (0.001, 0.999, 9, metrics.INSUFFICIENT_DATA),
        (None, None, 50, metrics.INSUFFICIENT_DATA),
    ],
)
def test_the_one_verdict_rule(p_better, p_worse, n, code):
    assert metrics.exact_verdict(p_better, p_worse, n) == code


def test_an_empty_sample_has_no_value_interval_or_verdict():
    for figure in (metrics.rate_figure(0, 0, PRIZE), metrics.mean_hits_figure([])):
        assert figure["value"] is None
        assert figure["interval"] is None
        assert figure["verdict_code"] == metrics.INSUFFICIENT_DATA


def random_forecasts(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.ones(45), size=count) * 6


def random_draws(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([rng.choice(45, 6, replace=False) + 1 for _ in range(count)])


def test_the_brier_null_is_seeded_and_centred_on_the_exact_chance_score():
    forecasts = random_forecasts(52, seed=7)
    scores = [
        metrics.brier_score(p, w)
        for p, w in zip(forecasts, random_draws(52, seed=8), strict=True)
    ]
    first = metrics.brier_figure(forecasts, scores)
    assert first == metrics.brier_figure(forecasts, scores)
    null = metrics.brier_null(forecasts)
    assert len(null) == metrics.BRIER_REPLICATIONS
    # The null's mean is the exact expectation, up to Monte Carlo error.
    assert null.mean() == pytest.approx(first["chance_value"], abs=4 * null.std() / 30)
    low, high = first["chance_band"]
    assert low < first["chance_value"] < high
    assert first["p_value"] >= 1 / (1 + metrics.BRIER_REPLICATIONS)


def test_a_uniform_forecast_has_a_deterministic_brier_score_and_no_evidence():
    forecasts = np.full((20, 45), 6 / 45)
    scores = [metrics.uniform_brier_score()] * 20
    figure = metrics.brier_figure(forecasts, scores)
    assert figure["p_value"] == figure["p_value_worse"] == 1.0
    assert figure["verdict_code"] == metrics.NO_EVIDENCE
    assert figure["chance_value"] == pytest.approx(metrics.uniform_brier_score())


def test_a_chance_forecaster_rarely_gets_a_brier_verdict():
    # 100 seeded chance-level backtests of 20 forecasts: about alpha get a verdict.
    verdicts = 0
    for seed in range(100):
        forecasts = random_forecasts(20, seed)
        draws = random_draws(20, seed + 1000)
        scores = [
            metrics.brier_score(p, w) for p, w in zip(forecasts, draws, strict=True)
        ]
        code = metrics.brier_figure(forecasts, scores)["verdict_code"]
        verdicts += code != metrics.NO_EVIDENCE
    assert verdicts / 100 <= 0.10  # alpha = 0.05, + 2.3 standard errors of 100 trials


@pytest.mark.parametrize("n", [1, 2, 7, 52, 260])
def test_the_fast_clopper_pearson_equals_scipys_proportion_ci(n):
    for k in range(n + 1):
        ci = stats.binomtest(k, n).proportion_ci(0.95, method="exact")
        low, high = metrics.clopper_pearson_interval(k, n)
        # scipy solves for the bounds numerically; ours are the beta quantiles
        assert low == pytest.approx(ci.low, rel=1e-9, abs=1e-300)
        assert high == pytest.approx(ci.high, rel=1e-9)
