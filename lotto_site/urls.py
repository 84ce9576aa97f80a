from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .views import healthz

urlpatterns = [
    path("admin/operations/", include("mlops.admin_views")),  # staff dashboard
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("mlops.observability.urls")),  # /metrics, /readyz
    path("api/draws/", include("draws.api.urls")),
    path("api/statistics/", include("draws.api.statistics_urls")),
    path("api/tickets/", include("draws.api.ticket_urls")),
    path("api/recommendations/", include("recommendations.api.urls")),
    path("api/forecasts/", include("recommendations.api.forecasts_urls")),
    path("api/admin/", include("mlops.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
