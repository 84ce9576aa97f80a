"""Who may read /metrics: a bearer token, or else an internal address."""

import hmac
import ipaddress

from django.conf import settings


def _bearer_token(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _internal_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(
        ip in ipaddress.ip_network(network, strict=False)
        for network in settings.METRICS_ALLOWED_NETWORKS
    )


# Any of these means a proxy forwarded the request: nginx's X-Real-IP, RFC 7239's
# Forwarded, and the de-facto X-Forwarded-* family.
PROXY_HEADERS = ("X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP", "Forwarded")


def metrics_access(request) -> int:
    """The HTTP status to answer with: 200 allowed, 401 bad token, 403 refused.

    With METRICS_BEARER_TOKEN set, the token is required from everyone. Without
    one, only clients on METRICS_ALLOWED_NETWORKS may read, and not through a
    proxy: behind one, REMOTE_ADDR is the proxy's own internal address, so a
    request carrying a forwarding header came from outside. A proxy that adds none
    can't be told apart: set a token in production (docs/OPERATIONS.md).
    """
    expected = settings.METRICS_BEARER_TOKEN
    if expected:
        given = _bearer_token(request)
        return 200 if hmac.compare_digest(given.encode(), expected.encode()) else 401
    if any(header in request.headers for header in PROXY_HEADERS):
        return 403
    return 200 if _internal_address(request.META.get("REMOTE_ADDR", "")) else 403
