"""When the database goes away mid-request: a 503 that people and clients can act on.

A dropped connection, a failover or a restarting server makes psycopg raise OperationalError
or InterfaceError, which Django re-raises as its own. No view can do anything about them, and
a 500 would tell the person that the application is broken and say nothing of their change.
The answer here says the service is briefly unavailable, that the request was saved in full or
not at all (true because each request's writes share one transaction: DESIGN.md rule 2), and
when to retry (``Retry-After``); the log keeps the cause. The browser gets ``503.html``, the API
a problem (``alliance.api.problems``, type ``service-unavailable``).

Two ways in, because Django turns an exception into a response before any outer middleware
sees it: ``DatabaseUnavailableMiddleware`` answers for the view (and the templates it renders),
and ``server_error`` (handler500) for a middleware whose query failed (loading the session,
saving it), when Django gives it the exception.

The next request gets a working connection: Django closes one that failed (at once when the
rollback of an atomic block fails, otherwise at the end of the request), and CONN_HEALTH_CHECKS
tests a persistent connection before it is reused.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.template import loader

from alliance.api import problems

logger = logging.getLogger(__name__)

# Long enough for a failover or a restart to finish, short enough that a person waits for it.
RETRY_AFTER_SECONDS = 30
DATABASE_ERRORS = (OperationalError, InterfaceError)
CODE = "database_unavailable"


def is_database_outage(error: BaseException | None) -> bool:
    """The database could not be reached or lost the connection (a lock timeout and a
    cancelled statement are OperationalErrors too: they also pass if retried)."""
    return isinstance(error, DATABASE_ERRORS)


def answer(request: HttpRequest) -> HttpResponse:
    """The 503: a problem under /api/v1/, the page elsewhere; both say when to retry."""
    request_id = getattr(request, "request_id", "")
    if request.path_info.startswith(problems.API_PREFIX):
        detail = (
            "The database did not answer. This request was saved in full or not at all: read "
            f"before you repeat a change. Retry in {RETRY_AFTER_SECONDS} seconds."
        )
        response: HttpResponse = JsonResponse(
            problems.body("service-unavailable", 503, detail, code=CODE),
            status=503,
            content_type=problems.CONTENT_TYPE,
        )
    else:
        # Rendered without the request on purpose: its context processors (the signed-in
        # user, the inbox count) would query the database that just failed.
        page = loader.get_template("503.html").render(
            {"retry_after": RETRY_AFTER_SECONDS, "request_id": request_id}
        )
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # A cache or a proxy must not keep an outage as the page.
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Answers 503 when a view (or a template it renders) loses the database."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_outage(exception):
            return None
        # Django logs only the 503 itself for an answered exception: the cause goes here.
        logger.error(
            "Database unavailable during %s %s", request.method, request.path, exc_info=exception
        )
        return answer(request)


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """handler500: a 503 when the failure was the database, else the problem or page of a
    server error. Django calls it inside its ``except`` (WSGI), so the exception is at hand;
    it has already logged it."""
    if is_database_outage(sys.exc_info()[1]):
        return answer(request)
    return problems.server_error(request)
