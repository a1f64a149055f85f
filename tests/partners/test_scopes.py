"""Every API endpoint names the scope a partner client needs, from the scope catalogue: a
new endpoint is closed to clients until someone decides which scope covers it."""

from __future__ import annotations

from typing import Any

import pytest

from alliance.partners.catalogue import SCOPES
from alliance.partners.scopes import required_scope
from tests.test_api_access_matrix import PUBLIC


def operations() -> list[tuple[str, str, Any]]:
    from drf_spectacular.generators import SchemaGenerator

    generator: Any = SchemaGenerator()  # type: ignore[no-untyped-call]
    generator.get_schema(request=None, public=True)
    found = []
    for path, _, method, view in generator.endpoints:
        instance = view.cls(**getattr(view, "initkwargs", None) or {})
        actions = getattr(view, "actions", None) or {}
        instance.action = actions.get(method.lower())
        found.append((path, method, instance))
    return found


OPERATIONS = [operation for operation in operations() if operation[:2] not in PUBLIC]


def test_every_operation_is_covered() -> None:
    assert len(OPERATIONS) > 100


@pytest.mark.parametrize(
    ("path", "method", "view"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS]
)
def test_the_operation_needs_a_known_scope(path: str, method: str, view: Any) -> None:
    needed = required_scope(view, method)
    assert needed in SCOPES, f"{method} {path} needs {needed!r}; give its view a scope_area"


def test_special_operations_have_their_own_scopes() -> None:
    needed = {(path, method): required_scope(view, method) for path, method, view in OPERATIONS}
    assert needed[("/api/v1/compliance/decisions/", "POST")] == "compliance:decide"
    assert needed[("/api/v1/compliance/decisions/batch/", "POST")] == "compliance:decide"
    assert needed[("/api/v1/pools/{pk}/usage/", "POST")] == "usage:write"
    assert needed[("/api/v1/pools/{pk}/usage/", "GET")] == "compute:read"
    assert needed[("/api/v1/audit/exports/", "POST")] == "audit:read"
    assert needed[("/api/v1/agreements/", "POST")] == "agreements:write"


def test_the_integration_guide_lists_every_scope() -> None:
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "integration.md").read_text()
    missing = [scope for scope in SCOPES if f"`{scope}`" not in guide]
    assert missing == [], f"docs/integration.md does not explain {missing}"
