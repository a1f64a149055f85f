"""Gives every request an id (echoed in ``X-Request-ID``) and binds the audit context."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import ip_address

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from audit.context import RequestContext, bound

REQUEST_ID_HEADER = "X-Request-ID"


def client_address(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or the header a trusted proxy sets.

    A header is only believed when the operator names it in AUDIT_CLIENT_ADDRESS_HEADER, and
    then only its last entry, which is the one the trusted proxy itself appended; anything
    before it came from the client and could be forged.
    """
    header = settings.AUDIT_CLIENT_ADDRESS_HEADER
    raw = request.META.get(header, "") if header else ""
    candidate = raw.split(",")[-1].strip() if raw else request.META.get("REMOTE_ADDR", "")
    try:
        return str(ip_address(candidate))
    except ValueError:
        return None


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        context = RequestContext(
            client_address=client_address(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        )
        request.request_id = context.request_id  # type: ignore[attr-defined]
        with bound(context):
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = context.request_id
        return response
