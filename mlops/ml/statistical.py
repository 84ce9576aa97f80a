"""Statistical mode: number probabilities from draw frequencies alone.

This is what the service serves when the model can't be trusted (or is switched
off). It has the model's output contract: 45 values, value k-1 = P(number k is
among the six winning numbers of the next draw), summing to 6.

The method, `stat-blend-v1`:

* long-run rate of number k: share of all stored draws that contained k;
* recent rate of number k: share of the last RECENT_WINDOW (50) draws;
* each rate is shrunk towards the uniform 6/45 by PRIOR_DRAWS (10) imaginary
  draws in which every number appears at the uniform rate, so a number unseen in
  a short history still gets a non-zero probability;
* probability = LONG_RUN_WEIGHT (0.7) x long-run + (1 - 0.7) x recent.

Every rate sums to 6 over the 45 numbers (each draw holds six), so the blend does
too; the final normalisation only removes float rounding. Draws are independent
and uniform: like the model, this is a description of the past, not a prediction.
"""

import numpy as np

from mlops.ml import features

STATISTICAL_METHOD_VERSION = "stat-blend-v1"
RECENT_WINDOW = 50
LONG_RUN_WEIGHT = 0.7
PRIOR_DRAWS = 10
UNIFORM = features.NUMBERS_PER_DRAW / features.POOL_SIZE


def _smoothed_rate(counts: np.ndarray, draws: int) -> np.ndarray:
    """Appearance rate shrunk towards 6/45 by PRIOR_DRAWS uniform draws."""
    return (counts + PRIOR_DRAWS * UNIFORM) / (draws + PRIOR_DRAWS)


def statistical_probabilities(draw_numbers) -> np.ndarray:
    """Return (45,) float64 P(number drawn) from long-run and recent frequency."""
    draws = features.validate_draw_numbers(draw_numbers)
    incidence = features.build_label_matrix(draws).astype(np.float64)
    recent = incidence[-RECENT_WINDOW:]
    long_run = _smoothed_rate(incidence.sum(axis=0), len(incidence))
    recent_rate = _smoothed_rate(recent.sum(axis=0), len(recent))
    blend = LONG_RUN_WEIGHT * long_run + (1 - LONG_RUN_WEIGHT) * recent_rate
    return blend * (features.NUMBERS_PER_DRAW / blend.sum())
