"""Problem details (RFC 9457): the one shape of every error answer under /api/v1/.

Each kind of error has a type, a relative URI the app itself serves
(``/api/v1/problems/<slug>``, this module's pages): an air-gapped deployment can dereference
it, which no ``https://alliance.example/...`` URI would allow. A body carries ``type``,
``title`` (the same for every problem of a type), ``status``, ``detail`` (what happened this
time) and ``code`` (a machine code, finer than the type: ``not_federated`` for a 409, DRF's
``not_authenticated``...). A 400 on the request's fields adds ``errors``: each invalid field
by its dotted path (``parties.0.role``; ``non_field_errors`` for the request as a whole) with
its messages. docs/api-errors.md describes each type for people.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views import defaults
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

CONTENT_TYPE = "application/problem+json"
API_PREFIX = "/api/v1/"
NON_FIELD_ERRORS = api_settings.NON_FIELD_ERRORS_KEY
# RFC 9457 §4.2.1: a problem with no more meaning than its status code.
BLANK = "about:blank"
# A message may echo the input ('"..." is not a valid choice'), and the input may hold NUL or a
# lone surrogate: fine in JSON, refused by PostgreSQL in the jsonb that keeps an idempotent
# answer for replays. People lose nothing when they show as U+FFFD.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str
    description: str


TYPES: tuple[ProblemType, ...] = (
    ProblemType(
        "validation-error",
        400,
        "Invalid input",
        "Some fields of the request (its body, query or headers) are invalid. `errors` names "
        "each one by its path (`parties.0.role`; `non_field_errors` for the request as a "
        "whole) with its messages. Nothing was written.",
    ),
    ProblemType(
        "malformed-request",
        400,
        "Malformed request",
        "The body could not be read as its Content-Type says (broken JSON, for instance); "
        "`detail` names the parse error. Nothing was written.",
    ),
    ProblemType(
        "not-authenticated",
        401,
        "Authentication required",
        "No credentials, or credentials that are invalid or expired (`code` "
        "`not_authenticated` or `authentication_failed`). The WWW-Authenticate header says "
        "how to authenticate.",
    ),
    ProblemType(
        "permission-denied",
        403,
        "Permission denied",
        "You can see this object but your role (or a partner token's scopes) does not allow "
        "this action. Nothing was written.",
    ),
    ProblemType(
        "not-found",
        404,
        "Not found",
        "No such URL, or an object that does not exist for you: objects outside your "
        "consortia answer 404, never 403, so their existence is not disclosed.",
    ),
    ProblemType(
        "method-not-allowed",
        405,
        "Method not allowed",
        "This URL does not accept this HTTP method; the Allow header lists those it does.",
    ),
    ProblemType(
        "not-acceptable",
        406,
        "Not acceptable",
        "The Accept header asks for a representation the API cannot give (use application/json).",
    ),
    ProblemType(
        "conflict",
        409,
        "Refused by the current state",
        "The request is well-formed and allowed, but the current state of the object refuses "
        "it (deleting what history refers to, a second release...). `code` names the reason "
        "and `detail` what to do instead. Nothing was written.",
    ),
    ProblemType(
        "idempotency-key-in-use",
        409,
        "Idempotency key in use",
        "A request with this Idempotency-Key is still running. Retry after the seconds the "
        "Retry-After header gives: you will get its answer.",
    ),
    ProblemType(
        "precondition-failed",
        412,
        "Precondition failed",
        "The If-Match header does not match the object's current ETag: it changed since you "
        "read it. Read it again and re-apply your change. Nothing was written.",
    ),
    ProblemType(
        "payload-too-large",
        413,
        "Payload too large",
        "The body is larger than this endpoint accepts; `detail` gives the limit.",
    ),
    ProblemType(
        "unsupported-media-type",
        415,
        "Unsupported media type",
        "The body's Content-Type is not one this endpoint reads (usually application/json).",
    ),
    ProblemType(
        "idempotency-key-reused",
        422,
        "Idempotency key reused",
        "This Idempotency-Key was first used with a different request (method, path or "
        "body). Use a new key for a new request. Nothing was written.",
    ),
    ProblemType(
        "throttled",
        429,
        "Too many requests",
        "You sent more requests this minute than the API allows a caller. Retry after the "
        "seconds the Retry-After header gives.",
    ),
    ProblemType(
        "server-error",
        500,
        "Internal server error",
        "The server failed to answer; the failure was logged. Retry later, and quote the "
        "X-Request-ID header of the answer to the operator if it persists.",
    ),
    ProblemType(
        "service-unavailable",
        503,
        "Service unavailable",
        "The server could not reach what it depends on (`code` `database_unavailable`: the "
        "database). The request was done in full or not at all: read before repeating a "
        "change. Retry after the seconds the Retry-After header gives.",
    ),
)
BY_SLUG: Mapping[str, ProblemType] = {problem.slug: problem for problem in TYPES}


def type_uri(slug: str) -> str:
    """The type URI of a problem: the page describing it, relative to the deployment."""
    return reverse("api:problem-type", kwargs={"slug": slug})


def body(
    slug: str | None,
    status: int,
    detail: str,
    *,
    code: str,
    errors: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """A problem body; ``slug`` None makes an ``about:blank`` problem titled by its status."""
    title = BY_SLUG[slug].title if slug else HTTPStatus(status).phrase
    problem: dict[str, Any] = {
        "type": type_uri(slug) if slug else BLANK,
        "title": title,
        "status": status,
        "detail": storable(detail or title),
        "code": storable(code),
    }
    if errors is not None:
        problem["errors"] = {
            storable(field): [storable(message) for message in messages]
            for field, messages in errors.items()
        }
    return problem


def storable(text: str) -> str:
    return UNSTORABLE.sub("\ufffd", text)


def is_problem(data: Any) -> bool:
    return isinstance(data, dict) and {"type", "title", "status"} <= data.keys()


class ProblemResponse(Response):
    """A DRF response whose JSON rendering is labelled ``application/problem+json``.

    The label is chosen when rendering, after content negotiation: a browser that asked for
    the browsable API still gets its HTML page."""

    @property
    def rendered_content(self) -> Any:
        if isinstance(getattr(self, "accepted_renderer", None), JSONRenderer):
            self.content_type = CONTENT_TYPE
        return super().rendered_content


def flatten(detail: Any, path: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"dotted.path": [messages]}``.

    ``{"parties": [{}, {"role": ["Bad."]}]}`` becomes ``{"parties.1.role": ["Bad."]}``;
    messages about a nested object as a whole go under its path, and those about the request
    as a whole under ``non_field_errors``."""
    found: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            # A nested object's errors as a whole (its validate(), a list's length) belong to
            # its own path: "jobs", not "jobs.non_field_errors".
            below = path if key == NON_FIELD_ERRORS and path else _join(path, key)
            for name, messages in flatten(value, below).items():
                found.setdefault(name, []).extend(messages)
    elif isinstance(detail, list | tuple) and any(
        isinstance(item, Mapping | list | tuple) for item in detail
    ):
        for index, item in enumerate(detail):
            found.update(flatten(item, _join(path, index)))
    elif isinstance(detail, list | tuple):
        if detail:
            found[path or NON_FIELD_ERRORS] = [str(item) for item in detail]
    else:
        found[path or NON_FIELD_ERRORS] = [str(detail)]
    return found


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def summary(errors: Mapping[str, list[str]]) -> str:
    """One sentence per field, for ``detail``: clients that show only ``detail`` still say
    what to fix."""
    return " ".join(
        " ".join(messages) if field == NON_FIELD_ERRORS else f"{field}: {' '.join(messages)}"
        for field, messages in errors.items()
    )


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _outside_drf(problem: dict[str, Any]) -> HttpResponse:
    return JsonResponse(problem, status=problem["status"], content_type=CONTENT_TYPE)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: a URL under /api/v1/ that no route matches answers a problem, like every
    other error of the API; elsewhere, Django's page."""
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return _outside_drf(
        body("not-found", 404, "No endpoint of the API has this URL.", code="not_found")
    )


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a request Django refuses before any view (a Host header the deployment
    does not serve, a suspicious operation) answers a problem under /api/v1/, like every
    other error of the API; elsewhere, Django's page."""
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    return _outside_drf(
        body("malformed-request", 400, "The server refused this request.", code="bad_request")
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: under /api/v1/ a problem that tells nothing of the failure itself (the
    log has it), only the request's id to quote; elsewhere, Django's page."""
    if not _is_api(request):
        return defaults.server_error(request)
    request_id = getattr(request, "request_id", None)
    detail = "The server failed to answer this request; the failure was logged."
    if request_id:
        detail += f" Quote request id {request_id} to the operator if it persists."
    return _outside_drf(body("server-error", 500, detail, code="server_error"))


class ProblemTypeOut(serializers.Serializer[ProblemType]):
    type = serializers.SerializerMethodField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    description = serializers.CharField()

    def get_type(self, problem: ProblemType) -> str:
        return type_uri(problem.slug)


class _PublicView(APIView):
    # What an error means holds no data: anyone may read it, with or without credentials
    # (a client holding an expired token must still be able to read what 401 means).
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]


class ProblemTypeListView(_PublicView):
    """Every problem type the API answers with, and what it means."""

    @extend_schema(responses=ProblemTypeOut(many=True))
    def get(self, request: Request) -> Response:
        return Response([ProblemTypeOut(problem).data for problem in TYPES])


class ProblemTypeView(_PublicView):
    """One problem type: the page its ``type`` URI names."""

    @extend_schema(
        parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH, enum=list(BY_SLUG))],
        responses=ProblemTypeOut,
    )
    def get(self, request: Request, slug: str) -> Response:
        problem = BY_SLUG.get(slug)
        if problem is None:
            raise NotFound("No problem type has this name.")
        return Response(ProblemTypeOut(problem).data)
