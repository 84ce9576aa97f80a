"""Games sampled from a forecast: distinct sets of six numbers, drawn by probability."""

import math
import os
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
ALL_NUMBERS = np.arange(1, POOL_SIZE + 1)
ALL_NUMBERS.flags.writeable = False


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
    and seed give the same games; no seed means the process's own generator,
    seeded once from OS entropy (see `unseeded_generator`).
    """
    include = sorted(set(include))
    excluded = set(exclude) | set(include)
    weights = np.asarray(probabilities, dtype=np.float64)
    if excluded:
        candidates = np.array([n for n in ALL_NUMBERS.tolist() if n not in excluded])
        weights = weights[candidates - 1]
    else:
        candidates = ALL_NUMBERS
    # A number the model gives exactly 0 stays possible, if only barely, so that
    # include/exclude can never leave fewer candidates than a game needs.
    weights = np.maximum(weights, 0.0) + 1e-12
    need = PICKS - len(include)
    rng = np.random.default_rng(seed) if seed is not None else unseeded_generator()
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


_unseeded: tuple[int, np.random.Generator] | None = None


def unseeded_generator() -> np.random.Generator:
    """This process's generator for unseeded games, seeded once from OS entropy.

    A generator per call (`default_rng(None)`: OS entropy, then hashing it into
    a seed) was a third of what sampling cost a request; one stream per process
    gives the same law and fresh games on every call. Made again in a forked
    child, so that two workers never share a stream. Thread-safe (numpy locks
    the bit generator).
    """
    global _unseeded
    held = _unseeded
    if held is None or held[0] != os.getpid():
        held = _unseeded = (os.getpid(), np.random.default_rng())
    return held[1]


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
