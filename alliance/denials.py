"""Requests the access policy refused become ``denied`` audit events.

Both boundaries call ``record_denial``: the middleware below for browser views, and the
API's exception handler for DRF views (which turn exceptions into responses before any
middleware sees them). Anonymous requests are not policy denials (they are asked to sign in).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from rest_framework import exceptions as api_exceptions

from alliance.errors import PolicyDenialError
from audit.services import audit_denial

NOT_FOUND = (Http404, api_exceptions.NotFound)
FORBIDDEN = (PermissionDenied, api_exceptions.PermissionDenied)


def record_denial(request: Any, exception: Exception) -> None:
    user = getattr(request, "user", None)
    if (
        user is None
        or not user.is_authenticated
        or not isinstance(exception, NOT_FOUND + FORBIDDEN)
    ):
        return
    context = (
        exception if isinstance(exception, PolicyDenialError) else PolicyDenialError(str(exception))
    )
    audit_denial(
        actor=user,
        consortium_id=context.consortium_id,
        object_type=context.object_type,
        object_id=context.object_id,
        action=context.action,
        status=404 if isinstance(exception, NOT_FOUND) else 403,
        path=f"{request.method} {request.path}",
        reason=str(exception) or exception.__class__.__name__,
    )


class DenialAuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        record_denial(request, exception)
