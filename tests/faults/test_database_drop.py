"""Issue 11: the database goes away in the middle of a request.

The person gets a clean 503 (the page, or a problem under /api/v1/) that says when to retry;
nothing of the request is kept (every write of a request shares one transaction); and the next
request works, because the lost connection is replaced.

The connection is dropped for real: a second connection terminates this thread's PostgreSQL
session (``pg_terminate_backend`` on its own pid) right after a chosen statement, as a failover
or a restart would. Transactional tests, so that the request's own transaction is what commits
or rolls back; PostgreSQL only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, connections
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from consortia.models import Consortium, Membership, RoleAssignment
from tests.conftest import World, requires_postgres
from tests.faults.summary_line import Summary, reporting

pytestmark = [requires_postgres, pytest.mark.usefixtures("committed_db")]

API = "/api/v1"
FOUNDING = {
    "name": "Health Data Alliance",
    "partnership_model": "federated_learning",
    "home_jurisdiction": "EU",
}


@pytest.fixture
def summary(request: pytest.FixtureRequest) -> Iterator[Summary]:
    yield from reporting(request)


@dataclass
class Drop:
    statement: str
    seen: int = 0
    terminated: bool = False


def terminate(pid: int) -> None:
    """End the session ``pid`` from another connection, and wait until it has ended."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 10000)", [pid])
    finally:
        other.close()


@contextmanager
def drop_after(statement: str, *, occurrence: int = 1) -> Iterator[Drop]:
    """Terminate this thread's database session just after the ``occurrence``-th statement
    that starts with ``statement``, once: the request goes on with a dead connection."""
    drop = Drop(statement)

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        result = execute(sql, params, many, context)
        if not drop.terminated and sql.startswith(statement):
            drop.seen += 1
            if drop.seen == occurrence:
                terminate(context["connection"].connection.info.backend_pid)
                drop.terminated = True
        return result

    with connection.execute_wrapper(wrapper):
        yield drop


@pytest.fixture
def served_like_production(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Requests handled as the WSGI server handles them: one persistent connection (the
    production CONN_MAX_AGE; tests use 0), closed at a request's start or end when it failed
    or fails its health check. The test client leaves that check out; it is put back here."""
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    connection.close()  # the next connection reads the setting

    def boundary(**kwargs: Any) -> None:
        close_old_connections()

    request_started.connect(boundary)
    request_finished.connect(boundary)
    yield
    request_started.disconnect(boundary)
    request_finished.disconnect(boundary)
    connection.close()


def chain_heads() -> list[tuple[str, int, str]]:
    """Each audit chain's last event: an event added, even rolled back later, moves it."""
    return sorted(
        (chain, sequence, digest)
        for chain, sequence, digest in AuditEvent.objects.order_by("chain", "-sequence")
        .distinct("chain")
        .values_list("chain", "sequence", "hash")
    )


def founded() -> int:
    return Consortium.objects.filter(name=FOUNDING["name"]).count()


def assert_clean_503(response: Any) -> None:
    assert response.status_code == 503, response.content[:500]
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    text = response.content.decode()
    assert "Traceback" not in text
    assert "OperationalError" not in text
    assert "terminating connection" not in text


@pytest.mark.usefixtures("served_like_production")
@pytest.mark.parametrize(
    "statement",
    [
        'INSERT INTO "consortia_consortium"',
        'INSERT INTO "consortia_roleassignment"',
        'INSERT INTO "audit_auditevent"',
    ],
)
def test_api_create_answers_503_keeps_nothing_and_the_next_request_works(
    world: World, summary: Summary, api_as: Any, unchanged: Any, statement: str
) -> None:
    """Founding a consortium writes the consortium, its membership, the chair's role and three
    audit events. The connection drops after one of those writes."""
    client = api_as(world.candidate)
    heads = chain_heads()
    with unchanged(), drop_after(statement) as drop:
        response = client.post(f"{API}/consortia/", FOUNDING, format="json")
    summary.note(f"dropped after {statement}: {response.status_code} {response.content[:80]!r}")
    summary.note(f"rows kept {founded()}, audit heads unchanged {chain_heads() == heads}")
    assert drop.terminated, f"no statement starts with {statement}"
    assert_clean_503(response)
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/api/v1/problems/service-unavailable"
    assert (problem["status"], problem["code"]) == (503, "database_unavailable")
    assert "saved in full or not at all" in problem["detail"]
    assert chain_heads() == heads

    again = client.post(f"{API}/consortia/", FOUNDING, format="json")
    summary.note(f"retry {again.status_code}, consortia {founded()}")
    assert again.status_code == 201, again.content
    assert founded() == 1


@pytest.mark.usefixtures("served_like_production")
def test_a_retry_with_the_same_idempotency_key_runs_again_after_the_503(
    world: World, summary: Summary, api_as: Any
) -> None:
    """The 503 releases the request's Idempotency-Key (nothing was done under it), so the
    client's retry with the same key runs, instead of waiting on a key held forever."""
    client = api_as(world.candidate)
    key = {"Idempotency-Key": "found-health-data-alliance"}
    with drop_after('INSERT INTO "consortia_membership"') as drop:
        response = client.post(f"{API}/consortia/", FOUNDING, format="json", headers=key)
    again = client.post(f"{API}/consortia/", FOUNDING, format="json", headers=key)
    replay = client.post(f"{API}/consortia/", FOUNDING, format="json", headers=key)
    summary.note(
        f"first {response.status_code}, retry {again.status_code}, replay {replay.status_code} "
        f"({replay.get('Idempotent-Replayed')}), consortia {founded()}"
    )
    assert drop.terminated
    assert_clean_503(response)
    assert again.status_code == 201, again.content
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (201, "true")
    assert founded() == 1


@pytest.mark.usefixtures("served_like_production")
@pytest.mark.parametrize(
    ("language", "title"), [("en", "Briefly unavailable"), ("fr", "Brièvement indisponible")]
)
def test_browser_form_answers_the_503_page_keeps_nothing_and_the_next_post_works(
    world: World, summary: Summary, browser_as: Any, unchanged: Any, language: str, title: str
) -> None:
    client = browser_as(world.candidate)
    form = {**FOUNDING, "partnership_model": "infrastructure_pool", "charter": ""}
    heads = chain_heads()
    with unchanged(), drop_after('INSERT INTO "consortia_membership"') as drop:
        response = client.post(
            reverse("consortia:create"), form, headers={"Accept-Language": language}
        )
    summary.note(f"{language}: {response.status_code} {response['Content-Type']}")
    summary.note(f"rows kept {founded()}, audit heads unchanged {chain_heads() == heads}")
    assert drop.terminated
    assert_clean_503(response)
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert f"<h1>{title}</h1>" in page
    assert f'<html lang="{language}' in page
    assert response["X-Request-ID"] in page
    assert chain_heads() == heads

    again = client.post(reverse("consortia:create"), form)
    summary.note(f"retry {again.status_code}, consortia {founded()}")
    assert again.status_code == 302
    assert RoleAssignment.objects.get(consortium__name=FOUNDING["name"]).user == world.candidate


@pytest.mark.usefixtures("served_like_production")
def test_api_change_and_transition_in_one_request_are_kept_together_or_not_at_all(
    world: World, summary: Summary, api_as: Any, unchanged: Any
) -> None:
    """One PATCH renames a consortium and moves its status: two services, each with its
    audit event. The connection drops after the second event (the move's) is written: the
    rename must not stay without the move."""
    client = api_as(world.chair)
    url = f"{API}/consortia/{world.consortium_a.pk}/"
    change = {"name": "Consortium A, winding down", "status": "dissolving"}
    with unchanged(), drop_after('INSERT INTO "audit_auditevent"', occurrence=2) as drop:
        response = client.patch(url, json.dumps(change), content_type="application/json")
    kept = Consortium.objects.filter(name=change["name"]).count()
    summary.note(f"dropped between the two services: {response.status_code}, renamed rows {kept}")
    assert drop.terminated
    assert_clean_503(response)
    assert response.json()["code"] == "database_unavailable"

    again = client.patch(url, json.dumps(change), content_type="application/json")
    summary.note(f"retry {again.status_code}")
    assert again.status_code == 200, again.content
    world.consortium_a.refresh_from_db()
    assert (world.consortium_a.name, world.consortium_a.status) == (
        change["name"],
        change["status"],
    )


@pytest.mark.usefixtures("served_like_production")
def test_a_connection_that_died_between_requests_is_replaced_before_use(
    world: World, summary: Summary, browser_as: Any
) -> None:
    """A persistent connection ended while idle (the server restarted, a proxy timed it
    out): CONN_HEALTH_CHECKS finds it dead and opens another, so nobody sees an error."""
    client = browser_as(world.chair)
    assert client.get(reverse("consortia:list")).status_code == 200
    idle_pid = connection.connection.info.backend_pid
    terminate(idle_pid)
    response = client.get(reverse("consortia:list"))
    summary.note(f"idle session {idle_pid} ended; next request {response.status_code}")
    assert response.status_code == 200
    assert connection.connection.info.backend_pid != idle_pid


@pytest.mark.usefixtures("served_like_production")
def test_a_database_that_cannot_be_reached_answers_503_until_it_is_back(
    world: World, summary: Summary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database refuses connections from the start of the request (down, not just
    one session lost): the page and the API answer the 503, and the first request once it is
    back succeeds. (These pages' first query is the view's, since the session loads lazily;
    a middleware's failure goes through handler500: test_database_unavailable_answers.py.)"""
    browser, api = Client(raise_request_exception=False), Client(raise_request_exception=False)
    browser.force_login(world.chair)
    api.force_login(world.chair)
    before = Membership.objects.count()
    connection.close()
    with monkeypatch.context() as patch:
        # A port in this suite's range where nothing listens: every connection attempt fails.
        patch.setitem(connection.settings_dict, "PORT", "18599")
        page = browser.get(reverse("consortia:list"))
        problem = api.get(f"{API}/consortia/")
        connection.close()
    summary.note(f"unreachable: page {page.status_code}, API {problem.status_code}")
    assert_clean_503(page)
    assert "<h1>Briefly unavailable</h1>" in page.content.decode()
    assert_clean_503(problem)
    assert problem.json()["code"] == "database_unavailable"
    back = browser.get(reverse("consortia:list"))
    summary.note(f"back: {back.status_code}")
    assert back.status_code == 200
    assert Membership.objects.count() == before
