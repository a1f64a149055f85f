"""/readyz and /metrics (``/healthz``, plain liveness, is in alliance/views.py)."""

from __future__ import annotations

import hmac
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from alliance.observability import health, metrics

# A request that passed through a proxy carries one of these. /metrics is scraped directly,
# never through the public proxy: behind one, REMOTE_ADDR is the proxy's own (often loopback)
# address and would let anyone in.
FORWARDING_HEADERS = (
    "HTTP_FORWARDED",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_REAL_IP",
)


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, Redis and a live Celery worker; 503 when any of them fails."""
    ready, checks = health.readiness()
    return JsonResponse(
        {"status": "ok" if ready else "failed", "checks": checks}, status=200 if ready else 503
    )


@lru_cache(maxsize=4)
def _networks(cidrs: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(cidr, strict=False) for cidr in cidrs)


def metrics_allowed(request: HttpRequest) -> bool:
    """From an address in METRICS_ALLOWED_NETWORKS, directly, and with the bearer token when
    METRICS_BEARER_TOKEN is set."""
    proxy_headers = (*FORWARDING_HEADERS, settings.AUDIT_CLIENT_ADDRESS_HEADER)
    if any(header and header in request.META for header in proxy_headers):
        return False
    try:
        address = ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not any(address in network for network in _networks(settings.METRICS_ALLOWED_NETWORKS)):
        return False
    token: str | None = settings.METRICS_BEARER_TOKEN
    if token is None:
        return True
    supplied = request.headers.get("Authorization", "")
    return hmac.compare_digest(supplied.encode(), f"Bearer {token}".encode())


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition; anyone not allowed is told there is nothing here."""
    if not metrics_allowed(request):
        return HttpResponseNotFound()
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
