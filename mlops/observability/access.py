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
# Forwarded and HTTP's Via, the de-facto X-Forwarded-* family, and the client
# address headers of CDNs (Cloudflare, Akamai, Fastly) and load balancers.
PROXY_HEADERS = (
    "Forwarded",
    "Via",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Forwarded-Port",
    "X-Forwarded-Server",
    "X-Forwarded-Prefix",
    "X-Original-Forwarded-For",
    "X-Real-IP",
    "X-Client-IP",
    "X-Cluster-Client-IP",
    "Client-IP",
    "True-Client-IP",
    "CF-Connecting-IP",
    "Fastly-Client-IP",
)


def metrics_access(request) -> int:
    """The HTTP status to answer with: 200 allowed, 401 bad token, 403 refused.

    With METRICS_BEARER_TOKEN set, the token is required from everyone. Without
    one, only clients on METRICS_ALLOWED_NETWORKS (loopback unless configured)
    may read, and not through a proxy: behind one, REMOTE_ADDR is the proxy's own internal address, so a
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
