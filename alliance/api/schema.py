"""Additions to the OpenAPI schema that no single view declares."""

from __future__ import annotations

import re
from typing import Any

from alliance import idempotency

IDEMPOTENCY_KEY = {
    "name": idempotency.HEADER,
    "in": "header",
    "required": False,
    "description": "Send the same key again to retry this request safely: the first answer is "
    "returned (marked Idempotent-Replayed: true) and nothing is written twice. Keys last 24 "
    "hours; reusing one for a different request answers 422, and retrying while the first "
    "request runs answers 409 with Retry-After.",
    "schema": {"type": "string", "maxLength": idempotency.MAX_LENGTH},
}


IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of the object as you read it: if it changed since, the write is "
    "refused with 412 and nothing is written. '*' matches any version.",
    "schema": {"type": "string"},
}
PRECONDITION_FAILED = {
    "description": "The object changed since the If-Match ETag was read; read it again.",
}


def _compares_state(view: Any) -> bool:
    """Whether the viewset compares If-Match with a current state (it overrides
    InputViewSet.current_state, as RowViewSet and the version and clause viewsets do)."""
    from alliance.api.views import InputViewSet

    return (
        isinstance(view, type)
        and issubclass(view, InputViewSet)
        and view.current_state is not InputViewSet.current_state
    )


def _shape(path: str) -> str:
    # The schema names path parameters after the model field ({id}); the URL conf, {pk}.
    return re.sub(r"\{[^}]+\}", "{}", path)


def safe_write_headers(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Every POST accepts an Idempotency-Key; every write to an object whose viewset compares
    If-Match with its current state accepts If-Match (alliance.api.views)."""
    conditional = {
        (_shape(path), method.lower())
        for path, _, method, callback in generator.endpoints
        if "{" in path and _compares_state(getattr(callback, "cls", None))
    }
    for path, operations in result.get("paths", {}).items():
        post = operations.get("post")
        if post is not None:
            post.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
        for method in ("patch", "put", "delete", "post"):
            operation = operations.get(method)
            if operation is not None and (_shape(path), method) in conditional:
                operation.setdefault("parameters", []).append(IF_MATCH)
                operation.setdefault("responses", {}).setdefault("412", PRECONDITION_FAILED)
    return result
