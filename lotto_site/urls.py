from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .api.errors import api_not_found
from .api.views import ApiIndexApi, PingApi, landing
from .views import healthz

# The admin's sidebar repeats the index's model list and takes a quarter of a
# 1280 px window from the result tables; the index and breadcrumbs remain.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", landing, name="landing"),
    path("admin/operations/", include("mlops.admin_views")),  # staff dashboard
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("mlops.observability.urls")),  # /metrics, /readyz
    path("api/", ApiIndexApi.as_view(), name="api-index"),
    path("api/ping/", PingApi.as_view(), name="api-ping"),
    path("api/draws/", include("draws.api.urls")),
    path("api/statistics/", include("draws.api.statistics_urls")),
    path("api/tickets/", include("draws.api.ticket_urls")),
    path("api/recommendations/", include("recommendations.api.urls")),
    path("api/forecasts/", include("recommendations.api.forecasts_urls")),
    path("api/admin/", include("mlops.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # Last: any other address under /api/ answers the JSON 404 (DEBUG on too).
    re_path(r"^api/", api_not_found, name="api-not-found"),
]

# Outside the views (an unknown path, a crash): JSON under /api/, pages elsewhere.
handler400 = "lotto_site.api.errors.bad_request"
handler403 = "lotto_site.api.errors.permission_denied"
handler404 = "lotto_site.api.errors.page_not_found"
handler500 = "lotto_site.api.errors.server_error"
