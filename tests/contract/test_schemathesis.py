"""Contract tests: schemathesis runs against the live OpenAPI schema (the app serves it, the
app answers, in-process), as the chairs of two organisations in turn. Every answer must be a
documented status, with a body of the documented content type and schema, and never a server
error. No operation is left out.

Random ids would almost always miss, so half the generated ids are aimed at objects that
exist: the ids a collection lists to either caller. Both callers send the same request, so
each also asks for the other's objects (and must get a documented 404).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import schemathesis
from django.db import transaction
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.contract.conftest import Caller

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# Body and query fields that name an object of a collection.
REFERENCES = {
    "consortium": "/api/v1/consortia/",
    "organisation": "/api/v1/organisations/",
    "pool": "/api/v1/pools/",
    "agreement": "/api/v1/agreements/",
    "dataset": "/api/v1/datasets/",
    "site": "/api/v1/sites/",
    "provider": "/api/v1/providers/",
    "motion": "/api/v1/motions/",
    "job": "/api/v1/compliance/jobs/",
    "version": "/api/v1/agreement-versions/",
}

schema = schemathesis.pytest.from_fixture("api_schema")


def collection(path: str) -> str:
    """The collection an object path belongs to: /api/v1/pools/{id}/usage/ -> /api/v1/pools/."""
    return path.split("{", 1)[0]


def aimed(value: Any, known: list[Any]) -> Any:
    """Every other generated value (by its own parity, so the run stays reproducible) becomes
    one of the known ids."""
    if not known or isinstance(value, bool) or not isinstance(value, int | str):
        return value
    index = value if isinstance(value, int) else len(value)
    return known[(index // 2) % len(known)] if index % 2 == 0 else value


def aim(case: Any, known_ids: Callable[[str], list[Any]]) -> None:
    for name, value in (case.path_parameters or {}).items():
        case.path_parameters[name] = aimed(value, known_ids(collection(case.path)))
    for container in (case.query, case.body):
        if isinstance(container, dict):
            for name, target in REFERENCES.items():
                if name in container:
                    container[name] = aimed(container[name], known_ids(target))


@schema.parametrize()
def test_the_api_keeps_its_contract(
    case: Any, callers: list[Caller], known_ids: Callable[[str], list[Any]]
) -> None:
    aim(case, known_ids)
    for caller in callers:
        # Each request runs in a savepoint rolled back after it: every request meets the same
        # data, whatever the ones before it wrote (and a failed one cannot poison the rest).
        with transaction.atomic():
            response = case.call(headers=caller.headers)
            transaction.set_rollback(True)
        case.validate_response(response, checks=CHECKS, headers=caller.headers)


def test_the_run_covers_every_routed_endpoint(api_schema: Any) -> None:
    """Every endpoint the URL conf routes under /api/v1/ is in the live schema, so in the run
    above (the schema and its documentation pages describe the API, they are not part of it)."""
    from tests.test_api_access_matrix import ENDPOINTS

    def shape(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "{}", path)

    described = {
        (shape(o.ok().path), o.ok().method.upper()) for o in api_schema.get_all_operations()
    }
    routed = {(shape(path), method) for path, method in ENDPOINTS}
    pages = {("/api/v1/schema/", "GET"), ("/api/v1/docs/", "GET"), ("/api/v1/redoc/", "GET")}
    assert routed - pages == described
