from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MlopsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "mlops"
    verbose_name = _("ML operations")

    def ready(self):
        from . import receivers  # noqa: F401  (connects signal handlers)

        # Every in-process metric family exists from start-up, so /metrics shows
        # it at 0 before its first event (rate() and alerts need that).
        from .observability import metrics  # noqa: F401
