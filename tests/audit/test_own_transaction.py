"""``audit_record_inserting`` outside any transaction: a row and its event in a transaction
of their own, sent as two round trips behind Django's back. It must still be all or
nothing, leave the connection as it found it, and tell the callbacks only once committed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from psycopg.pq import TransactionStatus

from audit import services as audit_services
from audit.models import Action, AuditEvent
from audit.services import Precondition, PreconditionNotMetError, audit_record_inserting
from compute.compliance.models import Decision
from tests.audit.test_recording import chain_is_valid
from tests.conftest import World, requires_postgres, unsaved_decision

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

HOLDS, FAILS = Precondition("SELECT %s = 1", (1,)), Precondition("SELECT %s = 1", (2,))


@pytest.fixture
def w(committed_db: None, world: World) -> World:
    return world


def record(world: World, decision: Decision, **options: Any) -> AuditEvent:
    return audit_record_inserting(
        decision,
        action=Action.CREATE,
        actor=world.member,
        consortium_id=world.consortium_a.pk,
        target=decision,
        **options,
    )


def idle() -> bool:
    """Autocommit as Django sees it, and no transaction open on the server."""
    return (
        connection.get_autocommit()
        and connection.connection.info.transaction_status == TransactionStatus.IDLE
    )


def unsaved(instance: Model) -> bool:
    """As the instance was before the write: a retry inserts it anew."""
    return instance.pk is None and instance._state.adding


def stored() -> tuple[int, int]:
    return Decision.objects.count(), AuditEvent.objects.count()


def test_the_row_and_its_event_commit_in_two_round_trips(w: World) -> None:
    chain = f"consortium:{w.consortium_a.pk}"
    decision = unsaved_decision(w)
    with CaptureQueriesContext(connection) as queries:
        event = record(w, decision, precondition=HOLDS)
    sent = [query["sql"] for query in queries.captured_queries]
    assert len(sent) == 2
    assert sent[0].startswith("BEGIN; SELECT 1 = 1; INSERT INTO")
    assert sent[1].rstrip().endswith("; COMMIT")
    assert idle()
    assert Decision.objects.filter(pk=decision.pk, outcome="allow").exists()
    assert AuditEvent.objects.filter(
        pk=event.pk, object_type="compute.decision", object_id=str(decision.pk)
    ).exists()
    record(w, unsaved_decision(w))
    assert list(AuditEvent.objects.filter(chain=chain).values_list("sequence", flat=True)) == [
        1,
        2,
    ]
    assert chain_is_valid(chain)


def test_a_precondition_that_fails_writes_nothing(w: World) -> None:
    before = stored()
    decision = unsaved_decision(w)
    with pytest.raises(PreconditionNotMetError):
        record(w, decision, precondition=FAILS)
    assert stored() == before
    assert idle()
    assert unsaved(decision)
    # The instance can be stored afterwards, as a retry does.
    record(w, decision)
    assert stored() == (before[0] + 1, before[1] + 1)


def test_inside_a_transaction_a_failed_precondition_leaves_it_usable(w: World) -> None:
    before = stored()
    with transaction.atomic():
        with pytest.raises(PreconditionNotMetError):
            record(w, unsaved_decision(w), precondition=FAILS)
        record(w, unsaved_decision(w), precondition=HOLDS)
    assert stored() == (before[0] + 1, before[1] + 1)


def test_a_failure_between_the_round_trips_rolls_both_back(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = stored()

    def broken(*args: Any) -> AuditEvent:
        raise RuntimeError("the event could not be built")

    monkeypatch.setattr(audit_services, "_chained", broken)
    decision = unsaved_decision(w)
    with pytest.raises(RuntimeError, match="could not be built"):
        record(w, decision)
    assert idle()
    assert stored() == before
    assert unsaved(decision)


def test_a_connection_lost_between_the_round_trips_raises_what_broke_it(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = stored()

    def lost(*args: Any) -> AuditEvent:
        connection.connection.close()
        raise RuntimeError("the server went away")

    monkeypatch.setattr(audit_services, "_chained", lost)
    with pytest.raises(RuntimeError, match="went away"):
        record(w, unsaved_decision(w))
    # The rollback could not be sent; the server drops the transaction with the connection.
    connection.close()
    assert stored() == before


def test_a_row_the_commit_refuses_is_not_stored_and_leaves_no_event(w: World) -> None:
    # Foreign keys are checked at COMMIT, in the second round trip.
    before = stored()
    with pytest.raises(IntegrityError):
        record(w, unsaved_decision(w, decided_by_id=10**9))
    assert idle()
    assert stored() == before
    record(w, unsaved_decision(w))
    assert stored() == (before[0] + 1, before[1] + 1)


def test_callbacks_are_told_once_the_event_is_committed(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    told: list[tuple[list[int], bool]] = []

    def callback(records: Sequence[AuditEvent]) -> None:
        told.append(([event.pk for event in records], idle()))

    monkeypatch.setattr(audit_services, "_recorded_callbacks", [callback])
    event = record(w, unsaved_decision(w))
    assert told == [([event.pk], True)]
    with pytest.raises(PreconditionNotMetError):
        record(w, unsaved_decision(w), precondition=FAILS)
    assert len(told) == 1
