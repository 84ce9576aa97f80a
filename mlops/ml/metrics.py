"""Forecast metrics for Lotto 6/45 and their random baselines, all in closed form.

Every baseline here is computed from the rules of the game (6 of 45 drawn, 6
picked), never typed in, so the product can show it next to a measured figure.
A draw is independent of every earlier draw, so a pick made from past draws is
as good as a random pick: the number of hits of any such pick follows the
hypergeometric law below. The verdicts only ask whether a measured figure is
distinguishable from that law.
"""

import math
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import stats

POOL_SIZE = 45
NUMBERS_PER_DRAW = 6
PICKS = 6
PRIZE_MIN_MATCHES = 3  # 5th prize
CONFIDENCE = 0.95
Z_95 = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))

BETTER = "better than chance"
NO_EVIDENCE = "no evidence of skill"
WORSE = "worse than chance"


def _as_number_set(numbers: Iterable[int], size: int, what: str) -> set[int]:
    values = [int(number) for number in numbers]
    chosen = set(values)
    if len(values) != size or len(chosen) != size:
        raise ValueError(f"{what} must be {size} distinct numbers, got {values}")
    if min(chosen) < 1 or max(chosen) > POOL_SIZE:
        raise ValueError(f"{what} must lie in 1-{POOL_SIZE}, got {sorted(chosen)}")
    return chosen


def hits(top6: Iterable[int], winning6: Iterable[int]) -> int:
    """Return how many of the six picked numbers are among the six winning ones."""
    picked = _as_number_set(top6, PICKS, "top6")
    return len(picked & _as_number_set(winning6, NUMBERS_PER_DRAW, "winning6"))


def prize_tier(
    combination: Iterable[int], winning6: Iterable[int], bonus: int
) -> int | None:
    """Return the prize tier 1-5 of a six-number ticket, or None when it wins nothing.

    1st: 6 matches; 2nd: 5 + bonus; 3rd: 5; 4th: 4; 5th: 3.
    """
    ticket = _as_number_set(combination, PICKS, "combination")
    winning = _as_number_set(winning6, NUMBERS_PER_DRAW, "winning6")
    if bonus in winning or not 1 <= bonus <= POOL_SIZE:
        raise ValueError(f"bonus must be in 1-{POOL_SIZE} and not a winning number")
    matches = len(ticket & winning)
    if matches == 6:
        return 1
    if matches == 5:
        return 2 if bonus in ticket else 3
    return {4: 4, 3: 5}.get(matches)


def hypergeometric_hits_pmf() -> list[float]:
    """Return P(k hits) for k = 0..6 when 6 picks meet 6 winning numbers of 45."""
    total = math.comb(POOL_SIZE, NUMBERS_PER_DRAW)
    losing = POOL_SIZE - NUMBERS_PER_DRAW
    return [
        math.comb(NUMBERS_PER_DRAW, k) * math.comb(losing, PICKS - k) / total
        for k in range(PICKS + 1)
    ]


def random_mean_hits() -> float:
    """Return the expected hits of a random pick: 6 * 6 / 45 = 0.8."""
    return PICKS * NUMBERS_PER_DRAW / POOL_SIZE


def random_hits_variance() -> float:
    """Return the hypergeometric variance of the hits of one random pick."""
    p = NUMBERS_PER_DRAW / POOL_SIZE
    finite_population = (POOL_SIZE - PICKS) / (POOL_SIZE - 1)
    return PICKS * p * (1 - p) * finite_population


def random_any_hit_probability() -> float:
    """Return P(at least one hit) = 1 - C(39,6)/C(45,6), about 0.5994."""
    losing = POOL_SIZE - NUMBERS_PER_DRAW
    return 1 - math.comb(losing, PICKS) / math.comb(POOL_SIZE, PICKS)


def random_prize_probability() -> float:
    """Return P(at least 3 hits), any prize; about 1 in 41.96."""
    return math.fsum(hypergeometric_hits_pmf()[PRIZE_MIN_MATCHES:])


def uniform_forecast_probability() -> float:
    """Return the probability every number gets under the uniform forecast: 6/45."""
    return NUMBERS_PER_DRAW / POOL_SIZE


def uniform_brier_score() -> float:
    """Return the Brier score of the uniform forecast p = 6/45 for every number.

    Every draw has exactly six ones among the 45 outcomes, so the score is the
    same for every draw: (6 (1 - p)^2 + 39 p^2) / 45 = p (1 - p) = 0.11556.
    """
    p = uniform_forecast_probability()
    return p * (1 - p)


def brier_score(probs: Sequence[float], winning6: Iterable[int]) -> float:
    """Return the mean over the 45 numbers of (forecast - outcome)^2 for one draw."""
    forecast = np.asarray(probs, dtype=np.float64)
    if forecast.shape != (POOL_SIZE,):
        raise ValueError(f"probs must have shape ({POOL_SIZE},), got {forecast.shape}")
    outcome = np.zeros(POOL_SIZE)
    outcome[
        [
            number - 1
            for number in _as_number_set(winning6, NUMBERS_PER_DRAW, "winning6")
        ]
    ] = 1
    return float(np.mean((forecast - outcome) ** 2))


def brier_skill_score(score: float, reference: float) -> float:
    """Return 1 - score / reference: 0 = as good as the reference, > 0 = better."""
    return 1 - score / reference


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Return the Wilson score interval of a proportion (no continuity correction)."""
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n > 0, got {successes}/{n}")
    share = successes / n
    z2 = z * z
    centre = (share + z2 / (2 * n)) / (1 + z2 / n)
    half_width = (
        z * math.sqrt(share * (1 - share) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    )
    # Clamp the rounding noise at 0/n and n/n, where the exact bound is 0 or 1.
    return max(0.0, centre - half_width), min(1.0, centre + half_width)


def mean_interval(
    values: Sequence[float], confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Return the Student-t interval of a mean; infinite with fewer than 2 values.

    The t interval keeps its coverage for the small samples of a fresh backtest
    and equals the normal interval once n is in the hundreds.
    """
    sample = np.asarray(values, dtype=np.float64)
    if sample.size == 0:
        raise ValueError("need at least one value for a mean interval")
    mean = float(sample.mean())
    if sample.size < 2:
        return -math.inf, math.inf
    standard_error = float(sample.std(ddof=1)) / math.sqrt(sample.size)
    t_quantile = float(stats.t.ppf((1 + confidence) / 2, df=sample.size - 1))
    return mean - t_quantile * standard_error, mean + t_quantile * standard_error


def verdict(
    interval: Sequence[float], baseline: float, higher_is_better: bool = True
) -> str:
    """Say whether an interval lies above, around or below the chance baseline."""
    low, high = interval
    # A forecast equal to the baseline gives a zero-width interval that float
    # rounding can move off the baseline by a few ulps: that is not skill.
    tolerance = 1e-9 * max(1.0, abs(baseline))
    if low - tolerance <= baseline <= high + tolerance:
        return NO_EVIDENCE
    above = low > baseline
    return BETTER if above == higher_is_better else WORSE


def binomial_p_value(
    successes: int, n: int, probability: float, alternative: str = "greater"
) -> float:
    """Return the exact one-sample binomial test p-value against ``probability``."""
    return float(stats.binomtest(successes, n, probability, alternative).pvalue)


def total_hits_pmf(n_draws: int) -> np.ndarray:
    """Return the exact pmf of the total hits of ``n_draws`` independent random picks.

    The n-fold convolution of the hypergeometric pmf: support 0..6n.
    """
    single = np.asarray(hypergeometric_hits_pmf())
    total = np.ones(1)
    for _ in range(n_draws):
        total = np.convolve(total, single)
    return total


def mean_hits_p_value(total: int, n_draws: int, alternative: str = "greater") -> float:
    """Return the exact p-value of a total of hits over ``n_draws`` forecasts.

    Under chance every draw's hits are independent hypergeometric, so the total
    follows ``total_hits_pmf``; "greater" is P(total >= observed), "less" is
    P(total <= observed) and "two-sided" doubles the smaller tail.
    """
    pmf = total_hits_pmf(n_draws)
    upper = float(pmf[total:].sum())
    lower = float(pmf[: total + 1].sum())
    tails = {"greater": upper, "less": lower, "two-sided": 2 * min(upper, lower)}
    if alternative not in tails:
        raise ValueError(f"alternative must be one of {sorted(tails)}")
    return min(1.0, tails[alternative])


def top_numbers(probs: Sequence[float], count: int = PICKS) -> list[int]:
    """Return the ``count`` most probable numbers, ties going to the lower number."""
    order = np.argsort(-np.asarray(probs, dtype=np.float64), kind="stable")
    return sorted(int(index) + 1 for index in order[:count])


def _mean_below_p_value(values: Sequence[float], reference: float) -> float:
    """One-sided one-sample t-test p-value for "the mean is below the reference"."""
    tolerance = 1e-9 * max(1.0, abs(reference))
    if len(values) < 2 or np.ptp(values) <= tolerance:
        # No spread (e.g. the uniform forecast, up to rounding), no t-test: only
        # a mean clearly below the reference counts.
        return 0.0 if np.mean(values) < reference - tolerance else 1.0
    return float(stats.ttest_1samp(values, reference, alternative="less").pvalue)


def _stored_interval(interval: Sequence[float]) -> list[float | None]:
    """The interval as stored JSON: an unbounded side (one sample) becomes None.

    PostgreSQL's jsonb, like strict JSON, has no Infinity.
    """
    return [float(bound) if math.isfinite(bound) else None for bound in interval]


def _proportion_metric(successes: int, n: int, baseline: float) -> dict:
    interval = wilson_interval(successes, n)
    return {
        "value": successes / n,
        "successes": successes,
        "baseline": baseline,
        "interval": list(interval),
        "p_value": binomial_p_value(successes, n, baseline),
        "verdict": verdict(interval, baseline),
    }


def evaluate_forecasts(prob_rows, actual_rows) -> dict:
    """Score m forecasts (m, 45) against the m draws (m, 6) that followed them.

    The top-6 of each forecast is scored on hits, on "at least one hit" and on
    "at least 3 hits" (any prize); the 45 probabilities on the Brier score. Each
    metric comes with its closed-form random baseline, a 95% interval, a
    one-sided p-value (alternative: better than chance) and a verdict. The
    result is plain JSON: an interval side that does not exist (a single
    forecast) is None.
    """
    forecasts = np.asarray(prob_rows, dtype=np.float64)
    actual = np.asarray(actual_rows)
    if forecasts.ndim != 2 or forecasts.shape[1] != POOL_SIZE:
        raise ValueError(f"prob_rows must be (m, {POOL_SIZE}), got {forecasts.shape}")
    if actual.shape != (len(forecasts), NUMBERS_PER_DRAW) or len(forecasts) == 0:
        raise ValueError(
            f"actual_rows must be ({len(forecasts)}, {NUMBERS_PER_DRAW}) with m > 0, "
            f"got {actual.shape}"
        )
    n = len(forecasts)
    pairs = list(zip(forecasts, actual, strict=True))
    row_hits = [hits(top_numbers(probs), drawn) for probs, drawn in pairs]
    row_briers = [brier_score(probs, drawn) for probs, drawn in pairs]

    hit_interval = mean_interval(row_hits)
    mean_hits_baseline = random_mean_hits()

    brier_reference = uniform_brier_score()
    brier_interval = mean_interval(row_briers)
    mean_brier = float(np.mean(row_briers))
    brier_p_value = _mean_below_p_value(row_briers, brier_reference)
    return {
        "sample_size": n,
        "confidence": CONFIDENCE,
        "mean_hits": {
            "value": float(np.mean(row_hits)),
            "baseline": mean_hits_baseline,
            "interval": _stored_interval(hit_interval),
            "p_value": mean_hits_p_value(int(sum(row_hits)), n),
            "verdict": verdict(hit_interval, mean_hits_baseline),
        },
        "any_hit_rate": _proportion_metric(
            sum(1 for count in row_hits if count >= 1), n, random_any_hit_probability()
        ),
        "prize_rate": _proportion_metric(
            sum(1 for count in row_hits if count >= PRIZE_MIN_MATCHES),
            n,
            random_prize_probability(),
        ),
        "brier_score": {
            "value": mean_brier,
            "baseline": brier_reference,
            "interval": _stored_interval(brier_interval),
            "p_value": brier_p_value,
            "verdict": verdict(brier_interval, brier_reference, higher_is_better=False),
        },
        "brier_skill_score": {
            "value": brier_skill_score(mean_brier, brier_reference),
            "baseline": 0.0,
            # A lower Brier score is a higher skill: the bounds swap.
            "interval": _stored_interval(
                [
                    brier_skill_score(brier_interval[1], brier_reference),
                    brier_skill_score(brier_interval[0], brier_reference),
                ]
            ),
            "verdict": verdict(brier_interval, brier_reference, higher_is_better=False),
        },
        "hits_distribution": {
            "observed": [row_hits.count(k) for k in range(PICKS + 1)],
            "expected": [n * share for share in hypergeometric_hits_pmf()],
        },
    }
