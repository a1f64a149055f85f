"""One place where service errors become HTTP answers (after HackSoft's styleguide).

Services raise Django's ValidationError for bad input (400, field by field),
PermissionDenied (403), Http404 (404) and ConflictError for a refusal the current state
dictates (409). DRF's own exceptions pass through unchanged. A replayed idempotent request
answers with its stored response.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from alliance import idempotency
from alliance.denials import record_denial
from alliance.errors import ConflictError


def validation_error_detail(error: DjangoValidationError) -> dict[str, Any]:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): messages
            for field, messages in error.message_dict.items()
        }
    return {"non_field_errors": error.messages}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, idempotency.Replayed):
        return exc.response()
    if isinstance(exc, idempotency.KeyInUse):
        response = drf_exception_handler(exc, context)
        if response is not None:
            response["Retry-After"] = "1"
        return response
    record_denial(context.get("request"), exc)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_error_detail(exc))
    elif isinstance(exc, ConflictError):
        return Response({"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
