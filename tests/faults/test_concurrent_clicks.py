"""Issue 11: two people click at once, and nobody loses what they did.

Two board members approve the last capacity of a pool at the same moment, over HTTP against a
live server: two requests that each fit alone but not together. Exactly one is approved, the
other gets a 409 that says why, and the pool is never overbooked. ``tests.faults.race``
makes the clicks really collide: each decision reads the free capacity before either
reserves, unless the pool's lock makes the second wait (and the test checks it did).

PostgreSQL only: the race needs real concurrent sessions and row locks.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum

from compute import allocations, capacity
from compute.models import AllocationRequest, Reservation
from consortia import services as consortia_services
from consortia.models import Role, User
from tests.compute.conftest import Grid, at, make_grid
from tests.conftest import World, requires_postgres
from tests.consortia.factories import RoleAssignmentFactory, UserFactory
from tests.faults.race import Race
from tests.faults.summary_line import Summary, reporting

pytestmark = [requires_postgres, pytest.mark.usefixtures("committed_db")]

# Paris has 16 H100s and the board keeps 5% in reserve: 15 can be granted. 8 + 8 cannot.
USABLE_AT_PARIS = 15
ASKED = 8


@pytest.fixture
def summary(request: pytest.FixtureRequest) -> Iterator[Summary]:
    yield from reporting(request)


def ask(grid: Grid, gpus: int) -> AllocationRequest:
    return allocations.request_submit(
        actor=grid.technician,
        pool=grid.pool,
        gpus=gpus,
        starts_at=at("2027-01-10"),
        ends_at=at("2027-01-20"),
        purpose="Fine-tune the legal-domain model",
        sites=[grid.paris],
    )


def second_board_member(world: World) -> User:
    """Another person on the capacity board, from the organisation that did not ask."""
    person = UserFactory.create(username="board_2", organisation=world.org_chair)
    RoleAssignmentFactory.create(
        consortium=world.consortium_a, user=person, role=Role.CAPACITY_BOARD
    )
    return person


def post(url: str, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - the test's own live server
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refusal:
        return refusal.code, json.loads(refusal.read())


def reserved_at_paris(grid: Grid) -> int:
    active = Reservation.objects.filter(pool=grid.pool, site=grid.paris, status="active")
    return int(active.aggregate(total=Sum("gpus"))["total"] or 0)


def test_two_board_members_approving_the_last_capacity_at_once_overbook_nothing(
    world: World, summary: Summary, live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = make_grid(world)
    deciders = [grid.board_chair_org, second_board_member(world)]
    asked = [ask(grid, ASKED), ask(grid, ASKED)]
    tokens = [consortia_services.api_token_create(actor=person) for person in deciders]
    race = Race(contenders=2)
    monkeypatch.setattr(capacity, "lock", race.entering(capacity.lock))
    monkeypatch.setattr(capacity, "tightest", race.reading(capacity.tightest))
    answers: dict[int, tuple[int, dict[str, Any]]] = {}

    def approve(index: int) -> None:
        try:
            answers[index] = post(
                f"{live_server.url}/api/v1/allocation-requests/{asked[index].pk}/decide/",
                tokens[index],
                {"decision": "approve"},
            )
        finally:
            connection.close()

    clicks = [threading.Thread(target=approve, args=(index,)) for index in range(2)]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()

    statuses = sorted(status for status, _ in answers.values())
    outcomes = sorted(AllocationRequest.objects.values_list("status", flat=True))
    reserved = reserved_at_paris(grid)
    summary.note(
        f"answers {statuses}, requests {outcomes}, reserved {reserved}/{USABLE_AT_PARIS} GPUs, "
        f"waits on the pool lock {race.blocked_seen}"
    )
    assert statuses == [200, 409]
    [refusal] = [body for status, body in answers.values() if status == 409]
    assert (refusal["type"], refusal["code"]) == ("/api/v1/problems/conflict", "capacity_exhausted")
    assert f"Only {USABLE_AT_PARIS - ASKED} GPUs are free" in refusal["detail"]
    # The refused approval changed nothing: that request still waits for the board.
    assert outcomes == ["approved", "submitted"]
    assert reserved == ASKED <= USABLE_AT_PARIS
    # The clicks did collide: the second decision waited for the first one's lock.
    assert race.blocked_seen == 1
