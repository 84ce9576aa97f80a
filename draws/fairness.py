"""Is the draw process fair? Exact and calibrated tests on a draw history (numpy/scipy).

Pure functions, no Django: the statistics API (draws) and the model monitor
(mlops) both use them. A fair Lotto 6/45 draw takes 6 distinct numbers of 45
uniformly at random, then the bonus uniformly from the 39 left, independently of
every earlier draw. docs/STATISTICS.md derives every law used here:

* main-number uniformity: Pearson's X^2 of the 45 counts. Six *distinct* numbers
  per draw make the counts negatively correlated, so X^2 follows (39/44)·chi2(44),
  not chi2(44); we test X^2 · 44/39 against chi2(44);
* bonus uniformity: the bonus alone is one uniform number per draw, plain chi2(44);
* per-number binomial tests (count ~ Binomial(draws, 6/45), two-sided) with
  Holm's step-down correction over the 45 numbers;
* the overlap of consecutive draws: |W_t ∩ W_t-1| is hypergeometric(45, 6, 6)
  with mean 0.8, and the overlaps of a fair history are independent, so their
  total follows the n-fold convolution of that law (exact two-sided p-value).

The window's verdict combines the four families with Holm's correction, so a fair
history is called biased at most ALPHA of the time.
"""

import functools
import math

import numpy as np
from scipy import stats

POOL_SIZE = 45
NUMBERS_PER_DRAW = 6
ALPHA = 0.05
# 45 - 1 cells; six distinct numbers per draw shrink X^2 by (45 - 6) / (45 - 1).
DEGREES_OF_FREEDOM = POOL_SIZE - 1
MAIN_SCALE = (POOL_SIZE - 1) / (POOL_SIZE - NUMBERS_PER_DRAW)  # 44/39
MIN_WINDOW = 10
MIN_EXPECTED_COUNT = 5  # below it, the bonus test uses a Monte Carlo null
BONUS_REPLICATIONS = 10_000
BONUS_SEED = 20261201
WINDOWS = ("all", "52", "260")

CONSISTENT = "consistent"
BIAS = "bias"
VERDICT_WORDS = {
    CONSISTENT: "consistent with a fair draw",
    BIAS: "evidence of bias",
}


def validate_history(
    draw_numbers, bonuses=None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Return the draws as an (n, 6) int array (and the bonuses) or raise ValueError."""
    draws = np.asarray(draw_numbers, dtype=np.int64)
    if draws.ndim != 2 or draws.shape[1] != NUMBERS_PER_DRAW:
        raise ValueError(f"draws must have shape (n, 6), got {draws.shape}")
    if draws.size and (draws.min() < 1 or draws.max() > POOL_SIZE):
        raise ValueError("every number must lie in 1-45")
    if any(len(set(row)) != NUMBERS_PER_DRAW for row in draws.tolist()):
        raise ValueError("the six numbers of a draw must be distinct")
    if bonuses is None:
        return draws, None
    bonus = np.asarray(bonuses, dtype=np.int64)
    if bonus.shape != (len(draws),):
        raise ValueError(f"bonuses must have shape ({len(draws)},), got {bonus.shape}")
    if bonus.size and (bonus.min() < 1 or bonus.max() > POOL_SIZE):
        raise ValueError("every bonus must lie in 1-45")
    if bonus.size and (draws == bonus[:, None]).any():
        raise ValueError("a bonus can't be one of its draw's six numbers")
    return draws, bonus


def number_counts(draws: np.ndarray) -> np.ndarray:
    """How often each of 1..45 appears: (..., D, k) numbers -> (..., 45) counts."""
    draws = np.asarray(draws, dtype=np.int64)
    batch = draws.shape[:-2] if draws.ndim >= 2 else ()
    rows = int(np.prod(batch)) if batch else 1
    flat = draws.reshape(rows, -1) - 1 + np.arange(rows)[:, None] * POOL_SIZE
    counts = np.bincount(flat.ravel(), minlength=rows * POOL_SIZE)
    return counts.reshape(*batch, POOL_SIZE)


# --- the overlap law, shared with the forecast metrics ---------------------------


def log_sum_exp(values: np.ndarray) -> float:
    """log(sum(exp(values))) without overflow (scipy's costs 0.5 ms a call)."""
    peak = float(np.max(values))
    if peak == -np.inf:
        return peak
    return peak + math.log(float(np.exp(values - peak).sum()))


def overlap_pmf() -> np.ndarray:
    """P(k) for k = 0..6 of the overlap of two independent 6-of-45 sets."""
    total = math.comb(POOL_SIZE, NUMBERS_PER_DRAW)
    losing = POOL_SIZE - NUMBERS_PER_DRAW
    return np.array(
        [
            math.comb(NUMBERS_PER_DRAW, k)
            * math.comb(losing, NUMBERS_PER_DRAW - k)
            / total
            for k in range(NUMBERS_PER_DRAW + 1)
        ]
    )


@functools.lru_cache(maxsize=32)
def sum_log_pmf(n: int) -> np.ndarray:
    """Return log P(total = t), t = 0..6n, of n independent overlap (hits) counts.

    The n-fold convolution of `overlap_pmf`, done in log space so that even
    P(total = 6n) = 1.2e-7^n stays exact (the exact intervals need those tails).
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    single = np.log(overlap_pmf())
    total = np.zeros(1)
    for _ in range(n):
        shifted = np.full((len(single), len(total) + len(single) - 1), -np.inf)
        for k, log_p in enumerate(single):
            shifted[k, k : k + len(total)] = total + log_p
        peak = shifted.max(axis=0)
        total = peak + np.log(np.exp(shifted - peak).sum(axis=0))
    total.flags.writeable = False  # cached: shared by every caller
    return total


@functools.lru_cache(maxsize=32)
def sum_pmf(n: int) -> np.ndarray:
    """P(total = t) of n overlap counts, in plain floats: fast for long histories.

    Only probabilities below 1e-308 underflow to 0, which leaves every p-value
    right to the last digit a float can show.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    single = overlap_pmf()
    total = np.ones(1)
    for _ in range(n):
        total = np.convolve(total, single)
    total.flags.writeable = False  # cached: shared by every caller
    return total


def sum_tails(total, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact P(sum >= total) and P(sum <= total) of n overlap counts (any shape)."""
    pmf = sum_pmf(n)
    total = np.asarray(total, dtype=np.int64)
    if total.size and (total.min() < 0 or total.max() > len(pmf) - 1):
        raise ValueError(f"a total outside 0..{len(pmf) - 1} is impossible for n = {n}")
    upper = np.minimum(1.0, np.cumsum(pmf[::-1])[::-1])
    lower = np.minimum(1.0, np.cumsum(pmf))
    return upper[total], lower[total]


def two_sided(upper, lower):
    """Two-sided p-value of a discrete statistic: twice the smaller tail, at most 1."""
    return np.minimum(1.0, 2 * np.minimum(upper, lower))


# --- the tests (vectorised: a leading batch axis tests many histories at once) ---


def main_uniformity(counts, draws: int) -> dict:
    """X^2 uniformity test of the main numbers, scaled by 44/39 to chi2(44)."""
    observed = np.asarray(counts, dtype=np.float64)
    expected = draws * NUMBERS_PER_DRAW / POOL_SIZE
    statistic = ((observed - expected) ** 2 / expected).sum(axis=-1)
    scaled = statistic * MAIN_SCALE
    return {
        "statistic": statistic,
        "scale": MAIN_SCALE,
        "scaled_statistic": scaled,
        "df": DEGREES_OF_FREEDOM,
        "expected_count": expected,
        "method": "chi2",
        "p_value": stats.chi2.sf(scaled, DEGREES_OF_FREEDOM),
    }


@functools.lru_cache(maxsize=64)
def bonus_null(draws: int) -> np.ndarray:
    """Sorted X^2 of BONUS_REPLICATIONS seeded fair bonus windows of `draws` draws."""
    rng = np.random.default_rng(BONUS_SEED)
    picks = rng.integers(1, POOL_SIZE + 1, size=(BONUS_REPLICATIONS, draws, 1))
    expected = draws / POOL_SIZE
    null = ((number_counts(picks) - expected) ** 2 / expected).sum(axis=-1)
    null.sort()
    null.flags.writeable = False
    return null


def bonus_uniformity(bonus_counts, draws: int) -> dict:
    """Pearson X^2 uniformity test of the bonus number: chi2(44).

    With fewer than 5 expected draws per number (draws < 225) the chi2 law is
    off (6-7 % false alarms at 10-52 draws), so the p-value then comes from a
    seeded Monte Carlo null of BONUS_REPLICATIONS fair windows of the same size:
    (1 + null draws at or above the statistic) / (1 + replications).
    """
    observed = np.asarray(bonus_counts, dtype=np.float64)
    expected = draws / POOL_SIZE
    statistic = ((observed - expected) ** 2 / expected).sum(axis=-1)
    if expected >= MIN_EXPECTED_COUNT:
        method, p_value = "chi2", stats.chi2.sf(statistic, DEGREES_OF_FREEDOM)
    else:
        null = bonus_null(draws)
        below = np.searchsorted(null, statistic - 1e-9, side="left")
        method = "monte-carlo"
        p_value = (1 + len(null) - below) / (1 + len(null))
    return {
        "statistic": statistic,
        "scale": 1.0,
        "scaled_statistic": statistic,
        "df": DEGREES_OF_FREEDOM,
        "expected_count": expected,
        "method": method,
        "p_value": p_value,
    }


def binomial_two_sided_p_values(counts, n: int, p: float) -> np.ndarray:
    """scipy.stats.binomtest(k, n, p).pvalue for every k of `counts`, vectorised.

    The same rule as scipy: the probability of every outcome no likelier than
    the observed one (with scipy's 1 + 1e-7 relative tolerance).
    """
    pmf = stats.binom.pmf(np.arange(n + 1), n, p)
    order = np.sort(pmf)
    cumulative = np.cumsum(order)
    observed = pmf[np.asarray(counts, dtype=np.int64)]
    index = np.searchsorted(order, observed * (1 + 1e-7), side="right")
    return np.minimum(1.0, cumulative[index - 1])


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values along the last axis (any dependence)."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.shape[-1]
    order = np.argsort(p, axis=-1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=-1) * (m - np.arange(m))
    stepped = np.minimum(1.0, np.maximum.accumulate(ranked, axis=-1))
    adjusted = np.empty_like(p)
    np.put_along_axis(adjusted, order, stepped, axis=-1)
    return adjusted


def per_number_tests(counts, draws: int) -> dict:
    """Two-sided binomial test per number, Holm-adjusted over the 45 numbers."""
    p_values = binomial_two_sided_p_values(counts, draws, NUMBERS_PER_DRAW / POOL_SIZE)
    adjusted = holm(p_values)
    return {
        "p_values": p_values,
        "adjusted_p_values": adjusted,
        "min_adjusted_p_value": adjusted.min(axis=-1),
    }


def consecutive_overlap(draws) -> dict:
    """The total overlap of consecutive draws against its exact law (mean 0.8)."""
    draws = np.asarray(draws, dtype=np.int64)
    pairs = draws.shape[-2] - 1
    if pairs < 1:
        raise ValueError("the overlap test needs at least two draws")
    # (..., D, 6, 1) == (..., D, 1, 6): shared numbers of draw t and t - 1
    shared = draws[..., 1:, :, None] == draws[..., :-1, None, :]
    overlaps = shared.sum(axis=(-1, -2))
    total = overlaps.sum(axis=-1)
    upper, lower = sum_tails(total, pairs)
    return {
        "pairs": pairs,
        "overlaps": overlaps,
        "total": total,
        "expected_mean": NUMBERS_PER_DRAW * NUMBERS_PER_DRAW / POOL_SIZE,  # 0.8
        "p_value": two_sided(upper, lower),
    }


def fairness_p_values(draws, bonuses) -> dict:
    """Every test of a window, for one history (D, 6) or a batch (H, D, 6)."""
    draws = np.asarray(draws, dtype=np.int64)
    n = draws.shape[-2]
    counts = number_counts(draws)
    tests = {
        "main_uniformity": main_uniformity(counts, n),
        "bonus_uniformity": bonus_uniformity(
            number_counts(np.asarray(bonuses)[..., None]), n
        ),
        "per_number": per_number_tests(counts, n),
        "consecutive_overlap": consecutive_overlap(draws),
    }
    family = np.stack(
        [
            tests["main_uniformity"]["p_value"],
            tests["bonus_uniformity"]["p_value"],
            tests["per_number"]["min_adjusted_p_value"],
            tests["consecutive_overlap"]["p_value"],
        ],
        axis=-1,
    )
    return {"counts": counts, "combined_p_value": holm(family).min(axis=-1), **tests}


def fairness_test(draw_numbers, bonuses, alpha: float = ALPHA) -> dict:
    """Every test on one window of draws, oldest first, and the window's verdict.

    The verdict combines the four families (main X^2, bonus X^2, the smallest
    Holm-adjusted per-number p-value, the overlap) with Holm's correction: one
    rejection among them at family-wise level `alpha` is "evidence of bias".
    Plain JSON out.
    """
    draws, bonus = validate_history(draw_numbers, bonuses)
    n = len(draws)
    if n < MIN_WINDOW:
        raise ValueError(f"a fairness test needs at least {MIN_WINDOW} draws, got {n}")
    result = fairness_p_values(draws, bonus)
    main, extra = result["main_uniformity"], result["bonus_uniformity"]
    numbers, overlap = result["per_number"], result["consecutive_overlap"]
    pmf = overlap_pmf()
    combined = float(result["combined_p_value"])
    code = BIAS if combined < alpha else CONSISTENT
    return {
        "draws": n,
        "alpha": alpha,
        "p_value": combined,
        "verdict_code": code,
        "verdict": VERDICT_WORDS[code],
        "main_uniformity": _plain(main),
        "bonus_uniformity": _plain(extra),
        "per_number": {
            "p_values": numbers["p_values"].tolist(),
            "adjusted_p_values": numbers["adjusted_p_values"].tolist(),
            "min_adjusted_p_value": float(numbers["min_adjusted_p_value"]),
            "rejected": [
                int(k) + 1 for k in np.flatnonzero(numbers["adjusted_p_values"] < alpha)
            ],
        },
        "consecutive_overlap": {
            "pairs": overlap["pairs"],
            "total": int(overlap["total"]),
            "mean": int(overlap["total"]) / overlap["pairs"],
            "expected_mean": overlap["expected_mean"],
            "observed": np.bincount(
                overlap["overlaps"], minlength=NUMBERS_PER_DRAW + 1
            ).tolist(),
            "expected": (overlap["pairs"] * pmf).tolist(),
            "p_value": float(overlap["p_value"]),
        },
    }


def _plain(test: dict) -> dict:
    return {
        key: float(value) if isinstance(value, np.ndarray | np.floating) else value
        for key, value in test.items()
    }


def simulate_fair_draws(
    rng: np.random.Generator, histories: int, draws: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fair histories: (histories, draws, 6) main numbers and (histories, draws) bonuses."""
    keys = rng.random((histories, draws, POOL_SIZE))
    chosen = np.argpartition(keys, NUMBERS_PER_DRAW, axis=2)[
        :, :, : NUMBERS_PER_DRAW + 1
    ]
    # argpartition leaves the 7 smallest keys unordered: sort them by key so the
    # bonus (the 7th) is a uniform pick among the 39 numbers not drawn.
    order = np.argsort(np.take_along_axis(keys, chosen, axis=2), axis=2)
    chosen = np.take_along_axis(chosen, order, axis=2) + 1
    return np.sort(chosen[:, :, :NUMBERS_PER_DRAW], axis=2), chosen[:, :, -1]
