"""The page a person sees when sign-in is paused after repeated failures (django-axes).

Axes counts failed sign-ins per username and client address (the address the audit log
records, audit.middleware.client_address) and, at LOGIN_FAILURE_LIMIT, refuses that pair,
even with the right password, for LOGIN_LOCKOUT_MINUTES. Another person, or the same
username from another address, is not affected, so nobody can lock a colleague out from
elsewhere. The refusal is audited as a failed sign-in with its own reason (audit.signals).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """429 Too Many Requests with the wait in minutes, on a page and in ``Retry-After``."""
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    response = render(
        request,
        "registration/locked_out.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
    response["Retry-After"] = str(minutes * 60)
    return response
