"""Additions to the OpenAPI schema that no single view declares."""

from __future__ import annotations

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


def idempotency_header(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Every POST operation accepts an Idempotency-Key header (alliance.api.views)."""
    for operations in result.get("paths", {}).values():
        post = operations.get("post")
        if post is not None:
            post.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
    return result
