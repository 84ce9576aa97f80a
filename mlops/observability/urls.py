from django.urls import path

from .views import metrics, readyz

urlpatterns = [
    path("metrics", metrics, name="metrics"),
    path("readyz", readyz, name="readyz"),
]
