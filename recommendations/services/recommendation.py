"""Recommendations: games for the next draw, sampled from the cached forecast.

The API's one call is `recommendation_generate`: it checks the parameters, takes
the forecast from inference.py, samples the games (sampling.py), counts the
serving (served_counts.py) and adds the caveat that no number improves the odds.
"""

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext as _

from mlops.ml import features
from mlops.ml.sampling import sample_games
from mlops.observability.metrics import record_fallback, record_served
from mlops.serving_state import served_model_file_status
from recommendations.services.forecast_cache import Forecast
from recommendations.services.inference import forecast_current
from recommendations.services.served_counts import forecast_served_add

POOL_SIZE = features.POOL_SIZE
PICKS = features.NUMBERS_PER_DRAW
MAX_GAMES = 10
MAX_INCLUDED = 5


def _disclaimer() -> str:
    return _(
        "Lottery draws are random and independent: every combination of six "
        "numbers has the same 1 in %(combinations)s chance of winning the first "
        "prize, and no recommendation, model or statistic improves the odds. These "
        "numbers describe past draws only; play for fun, with money you can afford "
        "to lose."
    ) % {"combinations": f"{math.comb(POOL_SIZE, PICKS):,}"}


# Lazy: each response says it in the reader's language.
DISCLAIMER = lazy(_disclaimer, str)()


@dataclass(frozen=True)
class Recommendation:
    """What the engine answers: the forecast, the sampled games and the caveat."""

    probabilities: np.ndarray
    combinations: list[list[int]]
    mode: str
    model_version: str | None
    feature_set_version: str | None
    validation_metrics: dict | None
    target_draw_no: int
    target_draw_date: dt.date
    fallback_reason: str | None
    # "ok", or why the served model's file no longer holds while this warm
    # process serves the model from memory (a FallbackReason code); None when
    # no model served (statistical mode).
    model_file: str | None
    disclaimer: str
    seed: int | None
    prediction_id: int | None


def number_list_errors(field: str, numbers) -> list[str]:
    """What is wrong with one list of include/exclude numbers on its own."""
    numbers = list(numbers)
    errors = []
    wrong = sorted({n for n in numbers if not 1 <= n <= POOL_SIZE})
    repeated = sorted({n for n in numbers if numbers.count(n) > 1})
    if wrong:
        errors.append(
            _("Numbers must be between 1 and %(max)d; got %(wrong)s.")
            % {"max": POOL_SIZE, "wrong": wrong}
        )
    if repeated:
        errors.append(_("Numbers repeated: %s.") % repeated)
    if field == "include" and len(set(numbers)) > MAX_INCLUDED:
        errors.append(
            _("At most %(max)d numbers can be included; got %(count)d.")
            % {"max": MAX_INCLUDED, "count": len(set(numbers))}
        )
    if field == "exclude" and POOL_SIZE - len(set(numbers)) < PICKS:
        errors.append(
            _(
                "At most %(max)d numbers can be excluded: a game needs %(picks)d "
                "of the %(pool)d; got %(count)d."
            )
            % {
                "max": POOL_SIZE - PICKS,
                "picks": PICKS,
                "pool": POOL_SIZE,
                "count": len(set(numbers)),
            }
        )
    return errors


def recommendation_params_errors(
    *, count: int, include=(), exclude=()
) -> dict[str, list[str]]:
    """Field-level errors in the parameters of a recommendation ({} when valid)."""
    errors: dict[str, list[str]] = {}
    if not 1 <= count <= MAX_GAMES:
        errors["count"] = [_("Ask for between 1 and %d games.") % MAX_GAMES]
    for field, numbers in (("include", include), ("exclude", exclude)):
        if field_errors := number_list_errors(field, numbers):
            errors[field] = field_errors
    overlap = sorted(set(include) & set(exclude))
    if overlap:
        errors.setdefault("exclude", []).append(
            _("Numbers both included and excluded: %s.") % overlap
        )
    if not errors:
        possible = _possible_games(include, exclude)
        if possible < count:
            errors["count"] = [
                _(
                    "Only %(possible)d different game(s) are possible with these "
                    "include and exclude numbers; ask for at most %(possible)d."
                )
                % {"possible": possible}
            ]
    return errors


def _possible_games(include, exclude) -> int:
    free = POOL_SIZE - len(set(include)) - len(set(exclude))
    return math.comb(free, PICKS - len(set(include)))


class RecommendationEngine:
    """Recommendations from the active model, or from statistical mode."""

    def __init__(self, use_ml_model: bool = True):
        self.use_ml_model = use_ml_model

    def forecast(self) -> Forecast:
        return forecast_current(use_ml_model=self.use_ml_model)

    def recommend(
        self, *, count: int = 5, include=(), exclude=(), seed: int | None = None
    ) -> Recommendation:
        """Sample `count` games from the cached forecast; ValidationError if bad."""
        include, exclude = list(include), list(exclude)
        errors = recommendation_params_errors(
            count=count, include=include, exclude=exclude
        )
        if seed is not None and seed < 0:
            errors["seed"] = ["The seed must be a whole number >= 0."]
        if errors:
            raise ValidationError(errors)
        forecast = self.forecast()
        games = sample_games(
            forecast.probabilities,
            count=count,
            include=include,
            exclude=exclude,
            seed=seed,
        )
        _count_served(forecast)
        return Recommendation(
            probabilities=forecast.probabilities,
            combinations=games,
            mode=forecast.mode,
            model_version=forecast.model_version,
            feature_set_version=forecast.feature_set_version,
            validation_metrics=forecast.validation_metrics,
            target_draw_no=forecast.target_draw_no,
            target_draw_date=forecast.target_draw_date,
            fallback_reason=forecast.fallback_reason,
            model_file=served_model_file_status(
                model_version_id=forecast.model_version_id
            ),
            disclaimer=DISCLAIMER,
            seed=seed,
            prediction_id=forecast.prediction_id,
        )


def _count_served(forecast: Forecast) -> None:
    """Per response: the metrics, and the served count of the recorded forecast."""
    record_served(forecast.mode)
    if forecast.fallback_reason:
        record_fallback(forecast.fallback_reason)
    if forecast.prediction_id is not None:
        forecast_served_add(forecast.prediction_id)


def recommendation_generate(
    *,
    count: int = 5,
    include=(),
    exclude=(),
    seed: int | None = None,
    use_ml_model: bool = True,
) -> Recommendation:
    """Recommend `count` games for the next draw (the API's one call)."""
    return RecommendationEngine(use_ml_model=use_ml_model).recommend(
        count=count, include=include, exclude=exclude, seed=seed
    )
