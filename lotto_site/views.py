from django.http import JsonResponse


def healthz(request):
    """The process is up and answering; /readyz checks its dependencies."""
    return JsonResponse({"status": "ok"})
