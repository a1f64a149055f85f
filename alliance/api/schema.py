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


PROBLEM = {
    "type": "object",
    "description": "Problem details (RFC 9457), the body of every error answer "
    "(application/problem+json). Each type is described at its URI (docs/api-errors.md).",
    "properties": {
        "type": {
            "type": "string",
            "format": "uri-reference",
            "description": "What kind of problem: a page of this API describing it, e.g. "
            "/api/v1/problems/not-found (about:blank for one with no more meaning than its "
            "status).",
        },
        "title": {"type": "string", "description": "Short; the same for every problem of a type."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What happened this time, for people."},
        "code": {
            "type": "string",
            "description": "A machine code, finer than the type (e.g. not_authenticated, "
            "throttled, or a 409's reason such as already_released).",
        },
    },
    "required": ["type", "title", "status", "detail", "code"],
}
VALIDATION_PROBLEM = {
    "description": "A problem of the request's input. For type validation-error, `errors` names "
    "each invalid field by its path (`parties.0.role`; `non_field_errors` for the request as a "
    "whole) with its messages; a body that cannot be parsed (type malformed-request) has none.",
    "allOf": [
        {"$ref": "#/components/schemas/Problem"},
        {
            "type": "object",
            "properties": {
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                }
            },
        },
    ],
}
ERRORS = {
    "400": "Invalid input: `errors` names each invalid field (or a body that cannot be parsed). "
    "Nothing was written.",
    "401": "No valid credentials (see WWW-Authenticate).",
    "403": "Visible, but your role or your token's scopes do not allow this. Nothing was written.",
    "404": "Not found, or not visible to you.",
    "409": "Refused by the current state (`code` says why), or a request with the same "
    "Idempotency-Key still running (Retry-After). Nothing was written.",
    "412": PRECONDITION_FAILED["description"],
    "415": "The body's Content-Type is not one this operation reads.",
    "422": "This Idempotency-Key was first used with a different request. Nothing was written.",
    "429": "Too many requests this minute; retry after Retry-After seconds.",
}


def _problem(code: str, description: str | None = None) -> dict[str, Any]:
    schema = "ValidationProblem" if code == "400" else "Problem"
    return {
        "description": description or ERRORS.get(code, "An error; the body says why."),
        "content": {
            "application/problem+json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
        },
    }


def _is_public(view: Any) -> bool:
    from rest_framework.permissions import AllowAny

    permissions = getattr(view, "permission_classes", None) or []
    return bool(permissions) and all(permission is AllowAny for permission in permissions)


def problem_responses(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Every operation's error answers, as problem details (alliance.api.problems).

    Unless public: 400 (input that cannot be read, invalid fields, or a write the object's
    state refuses as bad input), 401, 403, and 404 when the request names anything (a path
    parameter, or an id in the body or the query, a list's cursor included). A public page
    with a path parameter may 404 too. 409 on writes (a refusal by the current state, or the
    same Idempotency-Key still running), 415 with a body, 422 on POST (a reused
    Idempotency-Key), 429 everywhere (the rate limit). An error a view declares without a
    body (its 409, the 412 of If-Match) gets one."""
    public = {
        (_shape(path), method.lower())
        for path, _, method, callback in generator.endpoints
        if _is_public(getattr(callback, "cls", None))
    }
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            has_body = "requestBody" in operation
            takes_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
            codes = {"429"}
            if (_shape(path), method) not in public:
                codes |= {"400", "401", "403"}
                if has_body or takes_query:
                    codes.add("404")
            if "{" in path:
                codes.add("404")
            if method != "get":
                codes.add("409")
            if has_body:
                codes.add("415")
            if method == "post":
                codes.add("422")
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(code, {})
            for code, response in responses.items():
                if code.startswith("4") and "content" not in response:
                    responses[code] = _problem(code, response.get("description"))
            operation["responses"] = dict(sorted(responses.items()))
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM
    schemas["ValidationProblem"] = VALIDATION_PROBLEM
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result
