"""Signal handlers: how serving hears about events in mlops."""

import logging

from django.dispatch import receiver

from mlops.services.registry.registry import model_download_context
from mlops.signals import forecast_due
from recommendations.services.forecast_cache import forecast_cache_invalidate
from recommendations.services.recommendation import RecommendationEngine

logger = logging.getLogger(__name__)


@receiver(forecast_due, dispatch_uid="recommendations.record_next_forecast")
def record_next_forecast(sender, **kwargs) -> None:
    """Compute (and so record) the forecast for the next draw; never raises.

    Sent after an activation and after new draws are scored, so that every
    draw gets its official forecast whether or not anyone asks for numbers.
    The cached forecast is dropped first: it was computed from the old state.
    """
    try:
        forecast_cache_invalidate()
        # In the process that activated the version: not a request's download.
        with model_download_context("other"):
            RecommendationEngine().forecast()
    except Exception:
        logger.exception("Could not record the forecast for the next draw")
