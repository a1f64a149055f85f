"""Generated from the URL configuration: every endpoint of the API, as drf-spectacular
enumerates it, refuses an anonymous caller with 401 and a Bearer challenge, and changes
nothing. A new endpoint is in this matrix the moment it is routed; one meant to be public
must be named in PUBLIC, on purpose."""

from __future__ import annotations

import re
from typing import Any

import pytest

# The API's description, its documentation pages and the pages of its problem types (what an
# error's ``type`` URI names) hold no data: anyone may read them.
PUBLIC = frozenset(
    {
        ("/api/v1/schema/", "GET"),
        ("/api/v1/docs/", "GET"),
        ("/api/v1/redoc/", "GET"),
        ("/api/v1/problems/", "GET"),
        ("/api/v1/problems/{slug}", "GET"),
    }
)


def endpoints() -> list[tuple[str, str]]:
    from drf_spectacular.generators import SchemaGenerator

    generator: Any = SchemaGenerator()  # type: ignore[no-untyped-call]
    generator.get_schema(request=None, public=True)
    return sorted({(path, method) for path, _, method, _ in generator.endpoints})


def concrete(path: str) -> str:
    # Any id the route accepts will do: authentication is decided before any lookup.
    # Jurisdictions are routed by code, problem types by name.
    if path.startswith("/api/v1/problems/"):
        return path.replace("{slug}", "not-found")
    value = "FR" if path.startswith("/api/v1/jurisdictions/") else "1"
    return re.sub(r"\{[^}]+\}", value, path)


ENDPOINTS = endpoints()


def test_the_matrix_covers_the_api() -> None:
    assert len(ENDPOINTS) > 100
    assert ("/api/v1/compliance/decisions/", "POST") in ENDPOINTS
    assert set(ENDPOINTS) >= PUBLIC, "a public endpoint that is no longer routed"


@pytest.mark.parametrize(("path", "method"), sorted(PUBLIC))
def test_the_public_endpoints_answer_anyone(path: str, method: str, db: None) -> None:
    from rest_framework.test import APIClient

    assert APIClient().generic(method, concrete(path)).status_code == 200


@pytest.mark.parametrize(("path", "method"), [e for e in ENDPOINTS if e not in PUBLIC])
def test_an_anonymous_caller_gets_401_and_nothing_changes(
    path: str, method: str, world: Any, unchanged: Any
) -> None:
    from rest_framework.test import APIClient

    with unchanged():
        answer = APIClient().generic(method, concrete(path), "{}", "application/json")
    assert answer.status_code == 401, (method, path, answer.status_code)
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
