"""Warm-start growth: add trees to a fitted forest instead of refitting it (pure).

What scikit-learn can and cannot do: with ``warm_start=True`` and a larger
``n_estimators``, ``fit`` keeps the existing trees and fits only the added ones
-- but each added tree is fitted on the whole data passed to ``fit`` (old and
new draws alike). There is no way to fit a tree on the new rows alone, and the
old trees never see the new draws. So "incremental" here means: the forest the
registry already has, plus a few trees that know the latest draws.

How many: ``n_estimators * new_rows / rows`` rounded up, at least
``MIN_EXTRA_TREES`` -- the newcomers carry roughly the weight of the new data.
The forest may grow to ``MAX_GROWTH`` times its base size; beyond that (or
when the old forest is not a forest of these features and classes) the caller
must refit from scratch.

Validation replays the procedure, as ``pipeline.train_and_validate`` does for a
full fit: a forest fitted on the rows before the validation window minus the
new rows, grown on the rows before the window, scored on the window. The
served model is the existing forest grown on every row.
"""

import copy
import math
import time

from sklearn.ensemble import RandomForestClassifier

from . import features, pipeline

MIN_EXTRA_TREES = 10
MAX_GROWTH = 3


class WarmStartNotPossible(ValueError):
    """The forest cannot be grown on this history; refit it from scratch."""


def extra_trees_for(*, n_estimators: int, new_rows: int, total_rows: int) -> int:
    """Trees to add for ``new_rows`` new rows out of ``total_rows``."""
    if new_rows <= 0:
        raise WarmStartNotPossible("no new draws since the forest was fitted")
    share = math.ceil(n_estimators * new_rows / total_rows)
    return max(MIN_EXTRA_TREES, share)


def grow_forest(
    model: RandomForestClassifier, X, Y, *, extra_trees: int, base_estimators: int
) -> RandomForestClassifier:
    """Return a copy of ``model`` with ``extra_trees`` more trees fitted on X, Y."""
    if not hasattr(model, "estimators_"):
        raise WarmStartNotPossible("the forest is not fitted")
    if model.n_features_in_ != features.FEATURE_COUNT:
        raise WarmStartNotPossible(
            f"the forest has {model.n_features_in_} features, "
            f"the feature set has {features.FEATURE_COUNT}"
        )
    target = len(model.estimators_) + extra_trees
    if target > MAX_GROWTH * base_estimators:
        raise WarmStartNotPossible(
            f"{target} trees would exceed {MAX_GROWTH} x {base_estimators}; "
            "time for a full refit"
        )
    classes_before = [list(c) for c in model.classes_]
    grown = copy.deepcopy(model)
    grown.set_params(warm_start=True, n_estimators=target, n_jobs=1)
    grown.fit(X, Y)
    # The old trees' leaf values are laid out by the old classes: a number
    # seen for the first time (or no longer missing) would misalign them.
    if [list(c) for c in grown.classes_] != classes_before:
        raise WarmStartNotPossible("the classes changed; the old trees no longer fit")
    grown.set_params(warm_start=False)
    return grown


def grow_and_validate(
    base_model: RandomForestClassifier,
    draw_numbers,
    *,
    base_draw_count: int,
    params: dict | None = None,
    validation_draws: int = pipeline.VALIDATION_DRAWS,
) -> tuple[RandomForestClassifier, dict, dict]:
    """Grow ``base_model`` (fitted on the first ``base_draw_count`` draws).

    Returns (grown model, validation metrics, info) like
    ``pipeline.train_and_validate``; raises WarmStartNotPossible when the
    caller should refit from scratch.
    """
    model_params = {**pipeline.DEFAULT_PARAMS, **(params or {})}
    draws = features.validate_draw_numbers(draw_numbers)
    X, Y = features.training_rows(draws)
    new_rows = len(draws) - base_draw_count
    extra = extra_trees_for(
        n_estimators=model_params["n_estimators"], new_rows=new_rows, total_rows=len(X)
    )
    train_rows, validation_rows = pipeline.time_ordered_split(len(X), validation_draws)
    replay_base_rows = len(train_rows) - new_rows
    if replay_base_rows < 2 * model_params["min_samples_leaf"]:
        raise WarmStartNotPossible(
            f"{new_rows} new draws leave too little history to replay the growth"
        )

    started = time.perf_counter()
    replay = pipeline.build_model(**model_params).fit(
        X[:replay_base_rows], Y[:replay_base_rows]
    )
    replay = grow_forest(
        replay,
        X[train_rows],
        Y[train_rows],
        extra_trees=extra,
        base_estimators=model_params["n_estimators"],
    )
    validation_metrics = pipeline.score_validation(replay, X, draws, validation_rows)
    validation_seconds = time.perf_counter() - started

    started = time.perf_counter()
    model = grow_forest(
        base_model,
        X,
        Y,
        extra_trees=extra,
        base_estimators=model_params["n_estimators"],
    )
    model.n_jobs = 1
    grow_seconds = time.perf_counter() - started

    info = pipeline.fit_info(
        model_params=model_params,
        draws=draws,
        X=X,
        train_rows=train_rows,
        validation_rows=validation_rows,
        validation_seconds=validation_seconds,
        final_fit_seconds=grow_seconds,
        # params keep n_estimators at the size of a full refit: the growth limit
        # is measured against it, so a forest cannot creep past MAX_GROWTH x base.
        warm_start={
            "base_trees": len(base_model.estimators_),
            "added_trees": extra,
            "total_trees": len(model.estimators_),
            "new_draws": new_rows,
            "base_draw_count": base_draw_count,
        },
    )
    return model, validation_metrics, info
