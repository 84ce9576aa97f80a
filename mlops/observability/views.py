from django.http import HttpResponse, JsonResponse

from .access import metrics_access
from .exposition import metrics_render
from .readiness import readiness_check


def metrics(request):
    """Prometheus exposition of the in-process and database-backed metrics."""
    status = metrics_access(request)
    if status == 401:
        response = HttpResponse("Bearer token required.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if status != 200:
        return HttpResponse("Metrics are served to internal addresses.\n", status=403)
    body, content_type = metrics_render(accept=request.headers.get("Accept"))
    return HttpResponse(body, content_type=content_type)


def readyz(request):
    """200 when the database answers and a model (or statistics) can serve; 503 else."""
    ready, report = readiness_check()
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", **report},
        status=200 if ready else 503,
    )
