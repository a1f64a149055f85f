"""Malformed input, everywhere: schemathesis in negative mode sends every operation of the
live schema bodies, query strings and path parameters that break it (wrong types, values out
of range, missing required fields, broken formats). No such request may reach a server
error, each must be refused with a 4xx, and every refusal must be an RFC 9457 problem
(``application/problem+json`` with ``type``, ``title`` and ``status``).

Bounded for CI like the contract run beside it (tests/contract/conftest.py): a fixed seed,
derandomised, a few examples per operation, one caller (amelie, chair of the EU consortium).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from django.db import transaction
from schemathesis.checks import not_a_server_error

from tests.contract.conftest import Caller, InProcessApp

NEGATIVE = schemathesis.Config.from_dict(
    {
        "seed": 20261204,
        "suppress-health-check": ["too_slow", "filter_too_much"],
        "generation": {
            "mode": "negative",
            "max-examples": 4,
            "deterministic": True,
            "database": "none",
        },
        "phases": {
            "coverage": {"enabled": False},
            "stateful": {"enabled": False},
        },
    }
)


@pytest.fixture
def malformed_schema(live_app: InProcessApp) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/schema/", live_app, config=NEGATIVE)


# The list of problem types takes no input at all: nothing to break.
schema = schemathesis.pytest.from_fixture("malformed_schema").exclude(
    path="/api/v1/problems/", method="GET"
)


def problem_details(response: Any) -> list[str]:
    """What keeps a 4xx answer from being an RFC 9457 problem."""
    if not 400 <= response.status_code < 500:
        return []
    # schemathesis keeps each header as a list, under its lower-case name.
    headers = {name.lower(): values for name, values in response.headers.items()}
    content_type = (headers.get("content-type") or [""])[0]
    if not content_type.startswith("application/problem+json"):
        return [f"{response.status_code} answered as {content_type!r}"]
    try:
        body = json.loads(response.content)
    except ValueError:
        return [f"{response.status_code}: not JSON"]
    missing = [name for name in ("type", "title", "status") if name not in body]
    wrong = [] if body.get("status") == response.status_code else ["status differs"]
    return [f"{response.status_code}: {problem}" for problem in (*missing, *wrong)]


@schema.parametrize()
def test_malformed_input_is_refused_as_a_problem(case: Any, callers: list[Caller]) -> None:
    caller = callers[0]
    with transaction.atomic():
        response = case.call(headers=caller.headers)
        transaction.set_rollback(True)
    case.validate_response(response, checks=[not_a_server_error], headers=caller.headers)
    assert problem_details(response) == [], (case.method, case.formatted_path)
