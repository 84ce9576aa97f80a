"""Staff-only endpoints under /api/admin/ (Django's admin owns /admin/)."""

from django.urls import include, path

urlpatterns = [
    path("", include("mlops.api.retraining_urls")),
    path("", include("mlops.api.monitoring_urls")),
    path("", include("mlops.api.operations_urls")),
]
