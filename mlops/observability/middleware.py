"""HTTP request metrics: count and time every request by its route pattern."""

import time

from .metrics import HTTP_REQUEST_SECONDS, HTTP_REQUESTS_TOTAL

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"


def request_route(request) -> str:
    """The URL pattern that matched ("api/draws/<int:draw_no>/"), never the raw
    path: one series per route, not one per draw number or probing bot."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return UNMATCHED
    return "/" + match.route.lstrip("^").rstrip("$")


class HttpMetricsMiddleware:
    """Outermost middleware, so the time covers every other middleware too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        method = request.method if request.method in METHODS else "other"
        route = request_route(request)
        HTTP_REQUEST_SECONDS.labels(method=method, route=route).observe(elapsed)
        HTTP_REQUESTS_TOTAL.labels(
            method=method, route=route, status=str(response.status_code)
        ).inc()
        return response
