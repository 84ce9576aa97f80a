from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "recommendations"

    def ready(self):
        from mlops.observability.serving import serving_state_provider_register
        from mlops.serving_state import (
            serving_state_provider_register as serving_mode_provider_register,
        )

        from . import receivers  # noqa: F401  (connects signal handlers)
        from .services.forecast_cache import forecast_cache_serving_state
        from .services.inference import process_serving_state

        # mlops reads what this process serves through these providers; it never
        # imports serving. /readyz and the operations page say what this process
        # serves; /metrics and /readyz's "serving" say its mode.
        serving_state_provider_register(process_serving_state)
        serving_mode_provider_register(forecast_cache_serving_state)
