"""The two outermost middlewares: request metrics and log context, then the probes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import resolve, reverse

from alliance.observability import context, metrics

logger = logging.getLogger("alliance.access")

# Answered before host validation, the HTTPS redirect, sessions and authentication.
OPERATIONS_URL_NAMES = ("healthz", "readyz", "metrics")


@cache
def operations_paths() -> frozenset[str]:
    return frozenset(reverse(name) for name in OPERATIONS_URL_NAMES)


def route_name(request: HttpRequest) -> str:
    """The URL name the request resolved to, so labels stay bounded whatever the paths."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return str(match.view_name)
    if request.path.startswith("/" + str(settings.STATIC_URL).lstrip("/")):
        return "static"
    return "unmatched"


class RequestObservabilityMiddleware:
    """Outermost: binds the log context for the whole request, then counts and times it and
    writes one access log line (the probes' lines at DEBUG, so they don't drown the rest)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        token = context.bind(context.LogContext(request=request))
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            route = route_name(request)
            metrics.record_request(route, request.method or "", response.status_code, seconds)
            logger.log(
                logging.DEBUG if route in OPERATIONS_URL_NAMES else logging.INFO,
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )
            return response
        finally:
            context.unbind(token)


class OperationsEndpointsMiddleware:
    """Serves /healthz, /readyz and /metrics ahead of the rest of the stack.

    Probes and scrapers address the process directly (an orchestrator by container address,
    Prometheus by IP, plain HTTP inside the deployment's network), so they would meet a
    DisallowedHost or the HTTPS redirect; and they need neither sessions nor authentication.
    The views are still the ones the URLconf names.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # The answers skip the stack below, but not the headers every answer carries: the
        # same middlewares add them, so the probes keep whatever policy the pages have.
        self.headers: list[Any] = [
            SecurityMiddleware(get_response),
            XFrameOptionsMiddleware(get_response),
            CSPMiddleware(get_response),
        ]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info not in operations_paths():
            return self.get_response(request)
        match = resolve(request.path_info)
        request.resolver_match = match
        response: HttpResponse = match.func(request, *match.args, **match.kwargs)
        for middleware in self.headers:
            response = middleware.process_response(request, response)
        return response
