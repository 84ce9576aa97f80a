"""Games sampled from a forecast: distinct sets of six numbers, drawn by probability."""

import math
from itertools import combinations

import numpy as np

from mlops.ml import features

POOL_SIZE = features.POOL_SIZE
PICKS = features.NUMBERS_PER_DRAW
# Duplicate games are drawn again, at most this many rounds; after that (only
# when few combinations are possible) the remaining ones are picked directly from
# the enumerated combinations, of which there are at most MAX_ENUMERATED then.
MAX_ROUNDS = 50
MAX_ENUMERATED = 50_000
# The official slip recorded with each forecast: a Korean slip holds five games.
OFFICIAL_SLIP_GAMES = 5


def sample_games(
    probabilities, *, count: int, include=(), exclude=(), seed: int | None = None
) -> list[list[int]]:
    """`count` distinct games of six ascending numbers, sampled by probability.

    Each game is the included numbers plus 6 - len(include) numbers sampled
    without replacement from the numbers neither included nor excluded, as if
    drawn one at a time, each with a chance proportional to its forecast
    probability among those left. It is done with exponential keys: number i
    gets E_i / p_i with E_i ~ Exp(1), and the smallest keys win (a race of
    exponential clocks, so the first winner has chance p_i / sum(p), and so on:
    the same law as one-at-a-time drawing, Efraimidis & Spirakis 2006), all
    games at once. A game equal to an earlier one is drawn again. The generator
    is numpy's default (PCG64) seeded with `seed`: the same forecast, parameters
    and seed give the same games; no seed means fresh entropy from the OS.
    """
    include = sorted(set(include))
    excluded = set(exclude) | set(include)
    candidates = np.array([n for n in range(1, POOL_SIZE + 1) if n not in excluded])
    weights = np.asarray(probabilities, dtype=np.float64)[candidates - 1]
    # A number the model gives exactly 0 stays possible, if only barely, so that
    # include/exclude can never leave fewer candidates than a game needs.
    weights = np.clip(weights, 0.0, None) + 1e-12
    need = PICKS - len(include)
    rng = np.random.default_rng(seed)
    games: list[list[int]] = []
    seen: set[tuple[int, ...]] = set()
    for _ in range(MAX_ROUNDS):
        missing = count - len(games)
        if missing <= 0:
            break
        keys = rng.standard_exponential((missing, len(candidates))) / weights
        winners = np.argpartition(keys, need - 1, axis=1)[:, :need]
        for row in candidates[winners].tolist():
            game = tuple(sorted(include + row))
            if game not in seen:
                seen.add(game)
                games.append(list(game))
    if len(games) < count:
        games += _remaining_games(candidates, weights, include, need, seen, count, rng)
    return games


def _remaining_games(candidates, weights, include, need, seen, count, rng):
    if math.comb(len(candidates), need) > MAX_ENUMERATED:
        raise RuntimeError("could not sample distinct games")  # not reachable
    share = dict(zip(candidates.tolist(), weights.tolist(), strict=True))
    options = [
        tuple(sorted(include + list(combo)))
        for combo in combinations(candidates.tolist(), need)
    ]
    options = [game for game in options if game not in seen]
    chances = np.array(
        [math.prod(share[n] for n in game if n in share) for game in options]
    )
    size = min(count - len(seen), len(options))
    chosen = rng.choice(
        len(options), size=size, replace=False, p=chances / chances.sum()
    )
    return [list(options[i]) for i in chosen]
