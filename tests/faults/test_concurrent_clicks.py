"""Issue 11: two people click at once, and nobody loses what they did.

- Two board members approve the last capacity of a pool at the same moment (over the API
  against a live server, and in the browser): two requests that each fit alone but not
  together. Exactly one is approved, the other gets a 409 that says why, and the pool is
  never overbooked. Guarded by the pool's lock: without it, 16 of 15 GPUs are reserved.
- The last two votes on a unanimity motion: both count, the motion closes once.
- Both parties sign at once: both signatures kept, the signed document made and sealed once.
  Votes and signatures are guarded twice: by their row locks (motion; agreement and
  version) and by the audit chain's lock, which every audited write of a consortium takes
  before it counts ballots or signatures. Either alone keeps these tests passing.

``tests.faults.race`` makes the clicks really collide: each reads the contested state before
either writes, unless a lock makes the second wait (each test checks that it did).

PostgreSQL only: the race needs real concurrent sessions and row locks.
"""

from __future__ import annotations

import datetime
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agreements import sealing, signing
from agreements.models import Signature, SignedDocument
from audit.models import AuditEvent
from compute import capacity
from compute.models import AllocationRequest, Reservation
from consortia import services as consortia_services
from consortia.governance import services as governance
from consortia.governance.tally import Rule
from consortia.models import Motion, Role, User, Vote
from tests.agreements.conftest import make_deal
from tests.agreements.signing_helpers import PASSWORD, send_for_signature
from tests.compute.conftest import Grid, make_grid
from tests.compute.test_api import submitted
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


def both_at_once(*clicks: Callable[[], Any]) -> list[Any]:
    """Run each click in its own thread (its own database session); what each returned, or
    the exception it raised."""
    results: list[Any] = [None] * len(clicks)

    def run(index: int) -> None:
        try:
            results[index] = clicks[index]()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(clicks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@dataclass
class LastCapacity:
    grid: Grid
    deciders: list[User]
    asked: list[AllocationRequest]
    race: Race

    def outcome(self, summary: Summary, answers: list[int]) -> tuple[list[str], int]:
        outcomes = sorted(AllocationRequest.objects.values_list("status", flat=True))
        reserved = reserved_at_paris(self.grid)
        summary.note(
            f"answers {sorted(answers)}, requests {outcomes}, reserved {reserved}/"
            f"{USABLE_AT_PARIS} GPUs, lock waits {self.race.blocked_seen}"
        )
        return outcomes, reserved


@pytest.fixture
def last_capacity(world: World, monkeypatch: pytest.MonkeyPatch) -> LastCapacity:
    """Two requests for 8 of Paris's 15 grantable GPUs, two board members to approve them,
    and each approval held after reading what is free (``tests.faults.race``)."""
    grid = make_grid(world)
    asked = [submitted(grid, ASKED), submitted(grid, ASKED)]
    race = Race(contenders=2)
    monkeypatch.setattr(capacity, "lock", race.entering(capacity.lock))
    monkeypatch.setattr(capacity, "tightest", race.reading(capacity.tightest))
    return LastCapacity(
        grid=grid,
        deciders=[grid.board_chair_org, second_board_member(world)],
        asked=asked,
        race=race,
    )


def assert_one_approved_nothing_overbooked(
    last_capacity: LastCapacity, outcomes: list[str], reserved: int
) -> None:
    # The refused approval changed nothing: that request still waits for the board.
    assert outcomes == ["approved", "submitted"]
    assert reserved == ASKED <= USABLE_AT_PARIS
    # The clicks did collide: the second decision waited for the first one's lock.
    assert last_capacity.race.blocked_seen == 1


def test_two_board_members_approving_the_last_capacity_at_once_over_the_api_one_409(
    last_capacity: LastCapacity, summary: Summary, live_server: Any
) -> None:
    tokens = [
        consortia_services.api_token_create(actor=person) for person in last_capacity.deciders
    ]
    answers = both_at_once(
        *(
            partial(
                post,
                f"{live_server.url}/api/v1/allocation-requests/{request.pk}/decide/",
                token,
                {"decision": "approve"},
            )
            for request, token in zip(last_capacity.asked, tokens, strict=True)
        )
    )
    outcomes, reserved = last_capacity.outcome(summary, [status for status, _ in answers])
    assert sorted(status for status, _ in answers) == [200, 409], answers
    [refusal] = [body for status, body in answers if status == 409]
    assert (refusal["type"], refusal["code"]) == ("/api/v1/problems/conflict", "capacity_exhausted")
    assert f"Only {USABLE_AT_PARIS - ASKED} GPUs are free" in refusal["detail"]
    assert_one_approved_nothing_overbooked(last_capacity, outcomes, reserved)


def test_two_board_members_approving_the_last_capacity_at_once_in_the_browser_one_is_told_why(
    last_capacity: LastCapacity, summary: Summary
) -> None:
    browsers = []
    for person in last_capacity.deciders:
        browser = Client()
        browser.force_login(person)
        browsers.append(browser)
    answers = both_at_once(
        *(
            partial(
                browser.post,
                reverse("compute:request-decide", args=[request.pk]),
                {"decision": "approve"},
            )
            for request, browser in zip(last_capacity.asked, browsers, strict=True)
        )
    )
    outcomes, reserved = last_capacity.outcome(summary, [answer.status_code for answer in answers])
    assert sorted(answer.status_code for answer in answers) == [302, 409]
    [refusal] = [answer for answer in answers if answer.status_code == 409]
    assert f"Only {USABLE_AT_PARIS - ASKED} GPUs are free" in refusal.content.decode()
    assert_one_approved_nothing_overbooked(last_capacity, outcomes, reserved)


def test_the_last_two_votes_cast_at_once_both_count_and_close_the_motion_once(
    world: World, summary: Summary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Consortium A's two members vote on a unanimity motion at the same moment. Each vote
    alone leaves it open; together they decide it, so it must close, once, on both."""
    motion = governance.motion_propose(
        actor=world.chair,
        consortium=world.consortium_a,
        kind="general",
        title="Adopt the shared evaluation suite",
        closes_at=timezone.now() + datetime.timedelta(days=7),
        rule=Rule.UNANIMITY,
    )
    race = Race(contenders=2)
    # Each vote reads the open motion, then counts the ballots: held after that count.
    monkeypatch.setattr(governance, "_locked_open", race.entering(governance._locked_open))
    monkeypatch.setattr(governance, "current_tally", race.reading(governance.current_tally))

    results = both_at_once(
        lambda: governance.vote_cast(actor=world.chair, motion=motion, choice="for"),
        lambda: governance.vote_cast(actor=world.member, motion=motion, choice="for"),
    )

    motion.refresh_from_db()
    counted = motion.votes.filter(superseded=False).count()
    closings = AuditEvent.objects.filter(
        object_type="consortia.motion", object_id=str(motion.pk), action="transition"
    ).count()
    summary.note(
        f"results {[type(result).__name__ for result in results]}, votes counted {counted}, "
        f"status {motion.status}, closings {closings}, lock waits "
        f"{race.blocked_seen}"
    )
    assert all(isinstance(result, Vote) for result in results), results
    assert counted == 2
    assert (motion.status, motion.outcome_reason) == (Motion.Status.PASSED, "passed")
    assert closings == 1
    assert race.blocked_seen == 1


def test_two_parties_signing_at_once_keep_both_signatures_and_execute_once(
    world: World, summary: Summary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both signatories of an agreement sign at the same moment. Each signature alone leaves
    the other party waiting; together they complete it: the signed document is made, and
    sealed, exactly once, with both signatures."""
    deal = make_deal(world)
    version = send_for_signature(deal)
    sealed: list[int] = []
    monkeypatch.setattr(sealing, "schedule", lambda document: sealed.append(document.pk))
    race = Race(contenders=2)
    # Each signature locks the agreement, then reads who is still waiting: held after that.
    monkeypatch.setattr(signing, "_ceremony", race.entering(signing._ceremony))
    monkeypatch.setattr(signing, "parties_waiting", race.reading(signing.parties_waiting))

    results = both_at_once(
        *(
            partial(
                signing.signature_sign,
                actor=signatory,
                version=version,
                password=PASSWORD,
                consent=True,
            )
            for signatory in (world.chair, world.member)
        )
    )

    signatures = Signature.objects.filter(version=version, decision="signed", voided=False)
    documents = SignedDocument.objects.filter(version=version)
    summary.note(
        f"results {[type(result).__name__ for result in results]}, signatures "
        f"{signatures.count()}, signed documents {documents.count()}, sealings scheduled "
        f"{len(sealed)}, lock waits {race.blocked_seen}"
    )
    assert all(isinstance(result, Signature) for result in results), results
    assert sorted(signatures.values_list("signatory__username", flat=True)) == ["chair", "member"]
    [document] = documents
    assert sealed == [document.pk]
    signed_by = sorted(entry["signatory"] for entry in document.completion["signatures"])
    assert signed_by == sorted(signature.signatory_display for signature in signatures)
    assert race.blocked_seen == 1
