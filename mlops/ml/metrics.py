"""Forecast metrics for Lotto 6/45 and their random baselines, all in closed form.

Every baseline here is computed from the rules of the game (6 of 45 drawn, 6
picked), never typed in, so the product can show it next to a measured figure.
A draw is independent of every earlier draw, so a pick made from past draws is
as good as a random pick: the number of hits of any such pick follows the
hypergeometric law below. The verdicts only ask whether a measured figure is
distinguishable from that law, with exact tests (docs/STATISTICS.md):

* one level ALPHA = 0.05 and one rule for every figure: "better than chance" when
  the exact one-sided p-value for "better" is below ALPHA / 2, "worse than chance"
  when the one for "worse" is, "no evidence of skill" otherwise, and "insufficient
  data" below MIN_VERDICT_SAMPLE forecasts. The 95 % interval shown beside it is
  the inversion of the same two one-sided tests, so the two never disagree;
* rates: scipy.stats.binomtest and the Clopper-Pearson interval;
* mean hits: the exact law of a sum of n hypergeometric(45, 6, 6) counts (an
  n-fold convolution), and the interval of its exponential tilting;
* Brier score: a seeded Monte Carlo null (the same forecasts scored on draws that
  are independent of them).
"""

import math
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import optimize, stats

from draws import fairness

POOL_SIZE = 45
NUMBERS_PER_DRAW = 6
PICKS = 6
PRIZE_MIN_MATCHES = 3  # 5th prize
ALPHA = 0.05  # two-sided: each direction is tested at ALPHA / 2
CONFIDENCE = 1 - ALPHA
Z_95 = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
# Below this many forecasts no verdict is given: the any-hit test can't call
# "worse" before 5 forecasts nor "better" before 8 (0.5994^8 < 0.025 < 0.5994^7).
MIN_VERDICT_SAMPLE = 10
BRIER_REPLICATIONS = 1000
BRIER_SEED = 20261201

# verdict codes (machine values, never translated) and their English words
BETTER = "better"
NO_EVIDENCE = "no_evidence"
WORSE = "worse"
INSUFFICIENT_DATA = "insufficient_data"
VERDICT_WORDS = {
    BETTER: "better than chance",
    NO_EVIDENCE: "no evidence of skill",
    WORSE: "worse than chance",
    INSUFFICIENT_DATA: "insufficient data",
}


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
    return fairness.overlap_pmf().tolist()


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
    # At 0/n and n/n the exact bound is 0 or 1: don't print rounding noise.
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == n else min(1.0, centre + half_width)
    return low, high


def mean_interval(
    values: Sequence[float], confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Return the Student-t interval of a mean; infinite with fewer than 2 values.

    Used only for the paired model - statistical differences of the backtest;
    every figure compared with chance has an exact interval below.
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


# --- the one verdict rule ----------------------------------------------------------


def exact_verdict(
    p_better: float | None, p_worse: float | None, n: int, alpha: float = ALPHA
) -> str:
    """The verdict code from the two exact one-sided p-values.

    Each direction is tested at alpha / 2 (a two-sided test at alpha), which is
    the test the (1 - alpha) interval inverts. Below MIN_VERDICT_SAMPLE forecasts:
    insufficient_data, whatever the p-values.
    """
    if n < MIN_VERDICT_SAMPLE or p_better is None or p_worse is None:
        return INSUFFICIENT_DATA
    if p_better < alpha / 2:
        return BETTER
    if p_worse < alpha / 2:
        return WORSE
    return NO_EVIDENCE


def _verdict_fields(p_better, p_worse, n: int) -> dict:
    code = exact_verdict(p_better, p_worse, n)
    return {
        "p_value": p_better,
        "p_value_worse": p_worse,
        "verdict_code": code,
        "verdict": VERDICT_WORDS[code],
    }


# --- rates: exact binomial ---------------------------------------------------------


def binomial_p_value(
    successes: int, n: int, probability: float, alternative: str = "greater"
) -> float:
    """Return the exact one-sample binomial test p-value against ``probability``."""
    return float(stats.binomtest(successes, n, probability, alternative).pvalue)


def clopper_pearson_interval(
    successes: int, n: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """The exact (Clopper-Pearson) interval: never zero-width, exactly 0 at 0/n.

    The beta quantiles of binomtest(...).proportion_ci(method="exact"), in one
    vectorised call (the tests compare the two).
    """
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n > 0, got {successes}/{n}")
    tail = (1 - confidence) / 2
    low, high = stats.beta.ppf(
        [tail, 1 - tail],
        [max(successes, 1), successes + 1],
        [n - successes + 1, max(n - successes, 1)],
    )
    return (
        0.0 if successes == 0 else float(low),
        1.0 if successes == n else float(high),
    )


def binomial_tails(successes: int, n: int, probability: float) -> tuple[float, float]:
    """Exact P(X >= successes) and P(X <= successes), X ~ Binomial(n, probability)."""
    upper = float(stats.binom.sf(successes - 1, n, probability))
    lower = float(stats.binom.cdf(successes, n, probability))
    return min(1.0, upper), min(1.0, lower)


def rate_figure(successes: int, n: int, baseline: float) -> dict:
    """A rate (a share, 0-1) with its exact baseline, interval, p-values and verdict."""
    if n == 0:
        return {
            "value": None,
            "successes": 0,
            "sample_size": 0,
            "baseline": baseline,
            "interval": None,
            "interval_method": "clopper-pearson",
            **_verdict_fields(None, None, 0),
        }
    return {
        "value": successes / n,
        "successes": successes,
        "sample_size": n,
        "baseline": baseline,
        "interval": list(clopper_pearson_interval(successes, n)),
        "interval_method": "clopper-pearson",
        **_verdict_fields(*binomial_tails(successes, n, baseline), n),
    }


# --- mean hits: the exact law of a sum of hypergeometric counts --------------------


def total_hits_pmf(n_draws: int) -> np.ndarray:
    """Return the exact pmf of the total hits of ``n_draws`` independent random picks.

    The n-fold convolution of the hypergeometric pmf: support 0..6n.
    """
    return np.exp(fairness.sum_log_pmf(n_draws))


def total_hits_tails(total: int, n_draws: int) -> tuple[float, float]:
    """Exact P(total >= observed) and P(total <= observed) under chance."""
    log_pmf = fairness.sum_log_pmf(n_draws)
    if not 0 <= total <= PICKS * n_draws:
        raise ValueError(f"{total} hits are impossible in {n_draws} forecasts")
    upper = float(np.exp(min(0.0, fairness.log_sum_exp(log_pmf[total:]))))
    lower = float(np.exp(min(0.0, fairness.log_sum_exp(log_pmf[: total + 1]))))
    return upper, lower


def mean_hits_p_value(total: int, n_draws: int, alternative: str = "greater") -> float:
    """Return the exact p-value of a total of hits over ``n_draws`` forecasts.

    Under chance every draw's hits are independent hypergeometric, so the total
    follows ``total_hits_pmf``; "greater" is P(total >= observed), "less" is
    P(total <= observed) and "two-sided" doubles the smaller tail.
    """
    upper, lower = total_hits_tails(total, n_draws)
    tails = {"greater": upper, "less": lower, "two-sided": 2 * min(upper, lower)}
    if alternative not in tails:
        raise ValueError(f"alternative must be one of {sorted(tails)}")
    return min(1.0, tails[alternative])


def _tilted_mean(theta: float) -> float:
    """Mean hits of one forecast under the hypergeometric law tilted by e^(theta k)."""
    k = np.arange(PICKS + 1)
    log_weights = np.log(hypergeometric_hits_pmf()) + theta * k
    weights = np.exp(log_weights - log_weights.max())
    return float(weights @ k / weights.sum())


def mean_hits_interval(
    total: int, n_draws: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """The exact interval of the mean hits: the inverted one-sided exact tests.

    The family P_theta(k) ∝ P(k) e^(theta k) holds chance (theta = 0) and every
    mean between 0 and 6. The lower bound is the mean at which P(total >= seen)
    = (1 - confidence) / 2, the upper one the mean at which P(total <= seen) is,
    like Clopper-Pearson for a proportion: 0 hits give [0, u] with u > 0.
    """
    log_pmf = fairness.sum_log_pmf(n_draws)
    support = np.arange(len(log_pmf))
    tail = (1 - confidence) / 2

    def upper_tail(theta: float) -> float:
        tilted = log_pmf + theta * support
        return fairness.log_sum_exp(tilted[total:]) - fairness.log_sum_exp(tilted)

    def lower_tail(theta: float) -> float:
        tilted = log_pmf + theta * support
        return fairness.log_sum_exp(tilted[: total + 1]) - fairness.log_sum_exp(tilted)

    def solve(function) -> float:
        # Both tails are monotone in theta: widen the bracket until it holds the root.
        goal = math.log(tail)
        low, high = -1.0, 1.0
        while (function(low) - goal) * (function(high) - goal) > 0:
            low, high = 2 * low, 2 * high
        return optimize.brentq(lambda t: function(t) - goal, low, high, xtol=1e-12)

    lower = 0.0 if total == 0 else _tilted_mean(solve(upper_tail))
    upper = (
        float(PICKS) if total == PICKS * n_draws else _tilted_mean(solve(lower_tail))
    )
    return lower, upper


def mean_hits_figure(hit_counts: Sequence[int]) -> dict:
    """Mean hits with the baseline 0.8, the exact interval, p-values and verdict."""
    baseline = random_mean_hits()
    n = len(hit_counts)
    if n == 0:
        return {
            "value": None,
            "sample_size": 0,
            "baseline": baseline,
            "interval": None,
            "interval_method": "exact-convolution",
            **_verdict_fields(None, None, 0),
        }
    total = int(sum(hit_counts))
    upper, lower = total_hits_tails(total, n)
    return {
        "value": total / n,
        "sample_size": n,
        "baseline": baseline,
        "interval": list(mean_hits_interval(total, n)),
        "interval_method": "exact-convolution",
        **_verdict_fields(upper, lower, n),
    }


# --- Brier score: a seeded Monte Carlo null ----------------------------------------


def brier_null(
    prob_rows, replications: int = BRIER_REPLICATIONS, seed: int = BRIER_SEED
) -> np.ndarray:
    """Mean Brier scores of the same forecasts on `replications` fair, independent draws.

    For a forecast p and a draw W, Brier = (sum p^2 - 2 sum_{i in W} p_i + 6) / 45,
    so only the sum of p over a uniform random 6-subset varies. Seeded: the same
    forecasts always get the same null.
    """
    forecasts = np.asarray(prob_rows, dtype=np.float64)
    rng = np.random.default_rng(seed)
    keys = rng.random((replications, len(forecasts), POOL_SIZE), dtype=np.float32)
    drawn = np.argpartition(keys, NUMBERS_PER_DRAW, axis=2)[:, :, :NUMBERS_PER_DRAW]
    picked = np.take_along_axis(
        np.broadcast_to(forecasts, keys.shape), drawn, axis=2
    ).sum(axis=2)
    squares = (forecasts**2).sum(axis=1)
    return ((squares - 2 * picked + NUMBERS_PER_DRAW) / POOL_SIZE).mean(axis=1)


def brier_figure(prob_rows, scores: Sequence[float]) -> dict:
    """The mean Brier score against its uniform reference and its chance null.

    `chance_value` is the exact expected score of these forecasts on draws they
    know nothing about (above the uniform reference unless they are uniform);
    `chance_band` holds 95 % of the simulated null; the interval is the observed
    score shifted by the null's spread. p-values count the null at or beyond the
    observed score, (1 + count) / (1 + replications): never zero.
    """
    reference = uniform_brier_score()
    n = len(scores)
    if n == 0:
        return {
            "value": None,
            "sample_size": 0,
            "baseline": reference,
            "chance_value": None,
            "chance_band": None,
            "interval": None,
            "skill_score": None,
            "interval_method": "monte-carlo",
            "replications": BRIER_REPLICATIONS,
            **_verdict_fields(None, None, 0),
        }
    forecasts = np.asarray(prob_rows, dtype=np.float64)
    value = float(np.mean(scores))
    squares = (forecasts**2).sum(axis=1)
    expected_picked = forecasts.sum(axis=1) * NUMBERS_PER_DRAW / POOL_SIZE
    chance = float(
        ((squares - 2 * expected_picked + NUMBERS_PER_DRAW) / POOL_SIZE).mean()
    )
    null = brier_null(forecasts)
    tolerance = 1e-12
    p_better = (1 + int((null <= value + tolerance).sum())) / (1 + len(null))
    p_worse = (1 + int((null >= value - tolerance).sum())) / (1 + len(null))
    tail = 100 * ALPHA / 2
    band = np.percentile(null, [tail, 100 - tail])
    interval = [value - (band[1] - chance), value - (band[0] - chance)]
    return {
        "value": value,
        "sample_size": n,
        "baseline": reference,
        "chance_value": chance,
        "chance_band": [float(bound) for bound in band],
        "interval": [float(bound) for bound in interval],
        "skill_score": brier_skill_score(value, reference),
        "interval_method": "monte-carlo",
        "replications": len(null),
        **_verdict_fields(p_better, p_worse, n),
    }


def brier_skill_figure(brier: dict) -> dict:
    """The Brier skill score 1 - score / reference, mapped from the Brier figure."""
    reference = brier["baseline"]

    def skill(score):
        return None if score is None else brier_skill_score(score, reference)

    def mapped(bounds):
        # A lower Brier score is a higher skill: the bounds swap.
        return None if bounds is None else [skill(bounds[1]), skill(bounds[0])]

    return {
        "value": skill(brier["value"]),
        "sample_size": brier["sample_size"],
        "baseline": 0.0,
        "chance_value": skill(brier["chance_value"]),
        "chance_band": mapped(brier["chance_band"]),
        "interval": mapped(brier["interval"]),
        "interval_method": brier["interval_method"],
        "p_value": brier["p_value"],
        "p_value_worse": brier["p_value_worse"],
        "verdict_code": brier["verdict_code"],
        "verdict": brier["verdict"],
    }


def top_numbers(probs: Sequence[float], count: int = PICKS) -> list[int]:
    """Return the ``count`` most probable numbers, ties going to the lower number."""
    order = np.argsort(-np.asarray(probs, dtype=np.float64), kind="stable")
    return sorted(int(index) + 1 for index in order[:count])


def evaluate_forecasts(prob_rows, actual_rows) -> dict:
    """Score m forecasts (m, 45) against the m draws (m, 6) that followed them.

    The top-6 of each forecast is scored on hits, on "at least one hit" and on
    "at least 3 hits" (any prize); the 45 probabilities on the Brier score. Each
    metric comes with its exact random baseline, an exact 95 % interval, the two
    one-sided p-values and the verdict of `exact_verdict`. Plain JSON.
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
    brier = brier_figure(forecasts, row_briers)
    return {
        "sample_size": n,
        "confidence": CONFIDENCE,
        "alpha": ALPHA,
        "min_verdict_sample": MIN_VERDICT_SAMPLE,
        "mean_hits": mean_hits_figure(row_hits),
        "any_hit_rate": rate_figure(
            sum(1 for count in row_hits if count >= 1), n, random_any_hit_probability()
        ),
        "prize_rate": rate_figure(
            sum(1 for count in row_hits if count >= PRIZE_MIN_MATCHES),
            n,
            random_prize_probability(),
        ),
        "brier_score": brier,
        "brier_skill_score": brier_skill_figure(brier),
        "hits_distribution": {
            "observed": [row_hits.count(k) for k in range(PICKS + 1)],
            "expected": [n * share for share in hypergeometric_hits_pmf()],
        },
    }
