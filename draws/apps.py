from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DrawsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "draws"
    verbose_name = _("Draw history")
