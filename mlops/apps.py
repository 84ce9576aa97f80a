from django.apps import AppConfig


class MlopsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "mlops"
    verbose_name = "ML operations"

    def ready(self):
        from . import receivers  # noqa: F401  (connects signal handlers)
