"""OPTIONS on every endpoint of the API describes it, and never fails.

Regressions (found by the contract run's coverage phase): DRF describes a PUT's form by
looking the object up, and the clause terms' viewset had no generic lookup; drf-spectacular's
documentation pages rendered OPTIONS through an HTML template they do not have."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World
from tests.test_api_access_matrix import ENDPOINTS, concrete

PATHS = sorted({path for path, _ in ENDPOINTS})


@pytest.mark.parametrize("path", PATHS)
def test_options_never_fails(path: str, world: World, api_as: Any) -> None:
    answer = api_as(world.chair).options(concrete(path))
    assert answer.status_code < 500, (path, answer.status_code)


def test_options_on_a_clause_describes_its_terms(world: World, api_as: Any) -> None:
    from tests.agreements.conftest import make_deal

    deal = make_deal(world)
    clause = deal.version.clauses.first()
    assert clause is not None
    answer = api_as(deal.legal_chair_org).options(f"/api/v1/clauses/{clause.pk}/terms/")
    assert answer.status_code == 200, answer.content
    assert "PUT" in answer.json()["actions"]
