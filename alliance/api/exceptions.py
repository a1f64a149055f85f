"""One place where service errors become HTTP answers (after HackSoft's styleguide).

Services raise Django's ValidationError for bad input (400, field by field),
PermissionDenied (403), Http404 (404) and ConflictError for a refusal the current state
dictates (409). DRF's own exceptions keep their status and headers (WWW-Authenticate,
Retry-After). Every one of them answers a problem body (``alliance.api.problems``). A
replayed idempotent request answers with its stored response, as it was first answered.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from alliance import conditional, idempotency
from alliance.api import problems
from alliance.denials import record_denial
from alliance.errors import ConflictError


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


# The problem type of an exception class; others are typed by their status (BY_STATUS).
BY_CLASS: tuple[tuple[type[exceptions.APIException], str], ...] = (
    (exceptions.ValidationError, "validation-error"),
    (exceptions.ParseError, "malformed-request"),
    (idempotency.KeyInUse, "idempotency-key-in-use"),
    (idempotency.KeyReused, "idempotency-key-reused"),
    (conditional.PreconditionFailed, "precondition-failed"),
)
BY_STATUS = {
    401: "not-authenticated",
    403: "permission-denied",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    429: "throttled",
}


def validation_error_detail(error: DjangoValidationError) -> dict[str, Any]:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): messages
            for field, messages in error.message_dict.items()
        }
    return {"non_field_errors": error.messages}


def problem_type(exc: exceptions.APIException, status_code: int) -> str | None:
    for cls, slug in BY_CLASS:
        if isinstance(exc, cls):
            return slug
    return BY_STATUS.get(status_code)


def problem_response(exc: exceptions.APIException, answer: Response) -> Response:
    """DRF's answer to ``exc`` as a problem, with the headers DRF gave it."""
    slug = problem_type(exc, answer.status_code)
    errors = None
    if isinstance(exc.detail, dict | list):
        errors = problems.flatten(exc.detail)
        detail = problems.summary(errors)
        code = exc.default_code
    else:
        detail, code = str(exc.detail), str(exc.detail.code or exc.default_code)
    body = problems.body(slug, answer.status_code, detail, code=code, errors=errors)
    headers = {name: value for name, value in answer.items() if name.lower() != "content-type"}
    return problems.ProblemResponse(body, status=answer.status_code, headers=headers)


def replay(response: Response) -> Response:
    # A stored error is replayed with its problem label; a success, exactly as stored.
    if response.status_code < 400 or not problems.is_problem(response.data):
        return response
    headers = {name: value for name, value in response.items() if name.lower() != "content-type"}
    return problems.ProblemResponse(response.data, status=response.status_code, headers=headers)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, idempotency.Replayed):
        return replay(exc.response())
    record_denial(context.get("request"), exc)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_error_detail(exc))
    elif isinstance(exc, ConflictError):
        exc = exceptions.APIException(exc.message, code=exc.code)
        exc.status_code = status.HTTP_409_CONFLICT
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    answer = drf_exception_handler(exc, context)
    if answer is None:
        return None  # not an answer: handler500 makes the problem, the log keeps the cause
    assert isinstance(exc, exceptions.APIException), "DRF answers only its own exceptions"
    if isinstance(exc, idempotency.KeyInUse):
        answer["Retry-After"] = "1"
    return problem_response(exc, answer)
