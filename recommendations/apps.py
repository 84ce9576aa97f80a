from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "recommendations"

    def ready(self):
        from mlops.observability.serving import serving_state_provider_register

        from . import receivers  # noqa: F401  (connects signal handlers)
        from .services.inference import process_serving_state

        # /readyz and the operations page say what this process serves.
        serving_state_provider_register(process_serving_state)
