from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "lotto_site.api"
    label = "api"
    verbose_name = "API controls"
