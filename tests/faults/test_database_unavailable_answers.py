"""The 503 that a lost database answers, where no view is involved: handler500.

A middleware's query (loading or saving the session) fails outside any view, so only the
error handler can turn it into the 503; any other crash stays a 500. No database needed.
"""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import get_resolver


def handled(request_path: str, error: Exception) -> HttpResponse:
    handler = get_resolver().resolve_error_handler(500)
    request = RequestFactory().get(request_path)
    try:
        raise error
    except Exception:
        # Django calls handler500 inside its own except block, as here.
        response = handler(request)
    assert isinstance(response, HttpResponse)
    return response


@pytest.mark.parametrize(
    "error",
    [OperationalError("server closed the connection unexpectedly"), InterfaceError("closed")],
)
def test_a_database_error_outside_a_view_answers_503(error: Exception) -> None:
    api = handled("/api/v1/consortia/", error)
    page = handled("/consortia/", error)
    assert (api.status_code, page.status_code) == (503, 503)
    assert api["Content-Type"] == "application/problem+json"
    assert api["Retry-After"] == page["Retry-After"] == "30"
    assert b"<h1>Briefly unavailable</h1>" in page.content
    assert b"server closed" not in api.content + page.content


def test_any_other_crash_stays_a_server_error() -> None:
    api = handled("/api/v1/consortia/", RuntimeError("a bug"))
    assert api.status_code == 500
    assert b"/api/v1/problems/server-error" in api.content
