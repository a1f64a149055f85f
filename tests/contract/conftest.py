"""The contract run's fixtures: the live schema, served by the app itself in-process, and the
callers of two organisations with the demo world's data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from knox.models import AuthToken

from consortia.models import Role, User

# Reproducible in CI: a fixed seed, Hypothesis derandomised, no example database written to
# the work tree, no health check that depends on how busy the machine is. Examples from the
# schema and random fuzzing, valid and invalid input; the coverage phase (every boundary of
# every parameter) and stateful sequences would take far longer than the few minutes a CI run
# can spare on two cores. Exploring further: raise max-examples and change the seed locally
# (40 examples take about 10 minutes).
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20260601,
        "suppress-health-check": ["too_slow"],
        "generation": {
            "mode": "all",
            "max-examples": 8,
            "deterministic": True,
            "database": "none",
        },
        "phases": {
            "coverage": {"enabled": False},
            "stateful": {"enabled": False},
        },
    }
)


@dataclass(frozen=True)
class Caller:
    name: str
    user: User
    headers: dict[str, str]


@pytest.fixture(autouse=True)
def _subtest_names(request: pytest.FixtureRequest) -> None:
    # schemathesis (4.32) names each operation's subtest by rewriting Node._nodeid, which
    # pytest 9.2 no longer has: give it one to rewrite (the report still names operations).
    request.node._nodeid = request.node.nodeid


class InProcessApp(WSGIHandler):
    """The project's WSGI application, called in-process inside the test's transaction.

    Django closes the database connection when a request starts and ends, which would end
    the test's transaction. Its own test client steps that handler aside during its requests
    and puts it back after, so it is stepped aside again on every request here."""

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        return super().__call__(environ, start_response)


@pytest.fixture
def live_app(db: Any) -> Iterator[InProcessApp]:
    try:
        yield InProcessApp()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(live_app: InProcessApp) -> Any:
    """The OpenAPI schema as the running app serves it."""
    return schemathesis.openapi.from_wsgi("/api/v1/schema/", live_app, config=CONFIG)


@pytest.fixture
def callers(db: Any) -> list[Caller]:
    """The demo world (``seed_demo``: three consortia with agreements, compute, compliance,
    motions, plans, meetings) and, with a personal API token each, the chairs of two of its
    consortia from two organisations: amelie (Institut Lumière, chair of the EU joint
    development consortium) and fatima (Gulf Health Data Authority, chair of the Gulf
    federated learning alliance)."""
    call_command("seed_demo", "--force", stdout=StringIO())
    found = []
    for username in ("amelie", "fatima"):
        user = User.objects.get(username=username)
        _, token = AuthToken.objects.create(user=user)
        found.append(Caller(username, user, {"Authorization": f"Bearer {token}"}))
    assert found[0].user.organisation_id != found[1].user.organisation_id
    add_what_the_demo_lacks(found[0].user)
    return found


def add_what_the_demo_lacks(chair: User) -> None:
    """Objects of the collections the demo leaves empty, so that their URLs are tried with ids
    that exist: exports waiting for their task, a checkpoint, a meeting, a proxy."""
    from agreements.exports import export_create
    from audit.exports import audit_export_create
    from audit.services import checkpoint_seal
    from consortia.governance.services import proxy_give
    from consortia.meeting_services import meeting_create
    from consortia.models import Membership, RoleAssignment

    consortium = RoleAssignment.objects.get(user=chair, role=Role.CHAIR).consortium
    export_create(actor=chair, consortium=consortium)
    audit_export_create(actor=chair, consortium_id=consortium.pk, format="csv", filters={})
    checkpoint_seal()
    meeting_create(
        actor=chair, consortium=consortium, title="Steering committee", held_at=timezone.now()
    )
    grantee = (
        Membership.objects.filter(consortium=consortium, status=Membership.Status.ACTIVE)
        .exclude(organisation=chair.organisation)
        .first()
    )
    assert grantee is not None
    proxy_give(actor=chair, consortium=consortium, grantee=grantee.organisation)


# Collections with objects but no list of their own: their ids come from the database.
UNLISTED = {
    "/api/v1/agreement-versions/": "agreements.AgreementVersion",
    "/api/v1/agreement-parties/": "agreements.Party",
    "/api/v1/clauses/": "agreements.Clause",
    "/api/v1/agreement-exports/": "agreements.AgreementExport",
}


@pytest.fixture
def known_ids(live_app: InProcessApp, callers: list[Caller]) -> Callable[[str], list[Any]]:
    """The ids of a collection's objects, as its list shows them to either caller."""
    from django.apps import apps
    from werkzeug.test import Client

    found: dict[str, list[Any]] = {}

    def ids(path: str) -> list[Any]:
        if path not in found:
            values: set[Any] = set()
            if path in UNLISTED:
                values.update(apps.get_model(UNLISTED[path]).objects.values_list("pk", flat=True))
            for caller in callers:
                answer = Client(live_app).get(path, headers=caller.headers)
                if answer.status_code != 200:
                    continue
                data = answer.get_json()
                rows = data.get("results", []) if isinstance(data, dict) else data
                for row in rows:
                    key = next((k for k in ("id", "code", "slug") if k in row), None)
                    if key is not None:
                        values.add(row[key])
            found[path] = sorted(values, key=str)
        return found[path]

    return ids
