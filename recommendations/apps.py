from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "recommendations"

    def ready(self):
        from mlops.serving_state import serving_state_provider_register

        from . import receivers  # noqa: F401  (connects signal handlers)
        from .services.forecast_cache import forecast_cache_serving_state

        # mlops reads what this process serves through this one provider; it
        # never imports serving. /readyz, /metrics, the operations page and the
        # model file check behind the response's model_file all read it.
        serving_state_provider_register(forecast_cache_serving_state)
