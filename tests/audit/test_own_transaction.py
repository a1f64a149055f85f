"""``audit_record_inserting``: a row and its event in one round trip, the event hashed by
PostgreSQL. Outside any transaction, in a transaction of their own sent behind Django's
back, in a statement each connection prepares once; inside the caller's, the same
statement sent as written. It must still be all or nothing, hash as the verifier does,
survive a server that forgot the statement, leave the connection as it found it, and tell
the callbacks only once committed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from django.db import DatabaseError, DataError, IntegrityError, connection, transaction
from django.db.models import Model
from psycopg.pq import TransactionStatus

from alliance import compiled
from alliance.round_trips import round_trips
from audit import services as audit_services
from audit.canonical import event_hash
from audit.models import Action, AuditEvent
from audit.services import (
    Precondition,
    PreconditionNotMetError,
    audit_record,
    audit_record_inserting,
)
from audit.verification import verify
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


def test_the_row_and_its_event_commit_in_one_round_trip(w: World) -> None:
    chain = f"consortium:{w.consortium_a.pk}"
    record(w, unsaved_decision(w), precondition=HOLDS)  # the connection prepares it
    decision = unsaved_decision(w)
    with round_trips() as sent:
        event = record(w, decision, precondition=HOLDS)
    ((write,),) = sent.statements
    assert write.startswith("BEGIN; SELECT pg_advisory_xact_lock(")
    assert "; EXECUTE alliance_" in write
    assert write.endswith("; COMMIT")
    assert idle()
    assert Decision.objects.filter(pk=decision.pk, outcome="allow").exists()
    assert AuditEvent.objects.filter(
        pk=event.pk, object_type="compute.decision", object_id=str(decision.pk)
    ).exists()
    assert list(AuditEvent.objects.filter(chain=chain).values_list("sequence", flat=True)) == [
        1,
        2,
    ]
    assert chain_is_valid(chain)
    assert verify(chains=[chain], method="sql").ok


def test_inside_a_transaction_the_row_and_its_event_are_one_round_trip_too(w: World) -> None:
    """A batch of decisions writes each in the caller's transaction: the same statement, the
    precondition checked in it, not in a round trip of its own before."""
    chain = f"consortium:{w.consortium_a.pk}"
    decision = unsaved_decision(w)
    with transaction.atomic():
        with round_trips() as sent:
            event = record(w, decision, precondition=HOLDS)
        ((write,),) = sent.statements
        assert write.startswith("SELECT pg_advisory_xact_lock(")
        assert "INSERT INTO" in write
        assert "COMMIT" not in write
    assert idle()
    assert Decision.objects.filter(pk=decision.pk).exists()
    assert AuditEvent.objects.get(pk=event.pk).hash == event.hash
    assert chain_is_valid(chain)


def test_the_event_returned_is_the_one_stored_and_hashes_in_python(w: World) -> None:
    # Callbacks (webhooks) are handed the returned event: it must be the stored one.
    audit_record(action=Action.UPDATE, actor=w.chair, consortium_id=w.consortium_a.pk)
    event = record(w, unsaved_decision(w))
    stored = AuditEvent.objects.values().get(pk=event.pk)
    assert {name: getattr(event, name) for name in stored if name != "id"} == {
        name: value for name, value in stored.items() if name != "id"
    }
    assert event.sequence == 2
    assert event_hash(event.prev_hash, stored) == event.hash


def test_an_event_naming_the_row_as_related_gets_its_key(w: World) -> None:
    decision = unsaved_decision(w)
    event = audit_record_inserting(
        decision,
        action=Action.CREATE,
        actor=w.member,
        consortium_id=w.consortium_a.pk,
        target=w.consortium_a,
        related=decision,
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.object_type, stored.object_id) == (
        "consortia.consortium",
        str(w.consortium_a.pk),
    )
    assert (stored.related_object_type, stored.related_object_id) == (
        "compute.decision",
        str(decision.pk),
    )
    assert chain_is_valid(f"consortium:{w.consortium_a.pk}")


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


def test_an_event_the_database_refuses_rolls_the_row_back(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Too long for its column: refused by the insert, not cut short on the way.
    before = stored()
    described = audit_services._event_fields

    def too_long(event: Any) -> tuple[dict[str, Any], Any]:
        fields, changes = described(event)
        return {**fields, "object_type": "x" * 101}, changes

    monkeypatch.setattr(audit_services, "_event_fields", too_long)
    decision = unsaved_decision(w)
    with pytest.raises(DataError):
        record(w, decision)
    assert idle()
    assert stored() == before
    assert unsaved(decision)


def test_a_connection_lost_before_the_round_trip_raises_what_broke_it(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = stored()
    values = compiled.insert_values

    def lost(*args: Any) -> list[Any]:
        connection.connection.close()
        return values(*args)

    monkeypatch.setattr(compiled, "insert_values", lost)
    with pytest.raises(DatabaseError):
        record(w, unsaved_decision(w))
    # No rollback could be sent; Django replaces the connection at the end of the request.
    connection.close()
    assert stored() == before


def test_a_row_the_commit_refuses_is_not_stored_and_leaves_no_event(w: World) -> None:
    # Foreign keys are checked at COMMIT, the round trip's last statement.
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


def written(w: World) -> list[list[str]]:
    with round_trips() as sent:
        record(w, unsaved_decision(w))
    return sent.statements


def test_each_connection_prepares_the_statement_once(w: World) -> None:
    connection.close()
    (prepare,), (write,) = written(w)
    assert prepare.startswith("PREPARE alliance_")
    assert "WITH new_row AS" in prepare
    assert "; EXECUTE alliance_" in write
    assert [len(trip) for trip in written(w)] == [1]
    assert stored()[1] == 2


def test_a_statement_the_server_discarded_is_sent_itself_then_prepared_again(
    w: World,
) -> None:
    record(w, unsaved_decision(w))
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    refused, rolled_back, inline = (sql for (sql,) in written(w))
    assert "; EXECUTE alliance_" in refused
    assert rolled_back == "ROLLBACK"
    assert "WITH new_row AS" in inline
    assert idle()
    prepare, write = (sql for (sql,) in written(w))
    assert prepare.startswith("PREPARE alliance_")
    assert "; EXECUTE alliance_" in write
    assert stored() == (3, 3)
    assert chain_is_valid(f"consortium:{w.consortium_a.pk}")


def test_without_prepared_statements_the_statement_is_sent_itself(w: World, settings: Any) -> None:
    # Behind a pooler in transaction mode, which keeps no prepared statement between
    # transactions.
    settings.ALLIANCE_PREPARED_STATEMENTS = False
    connection.close()
    ((write,),) = written(w)
    assert write.startswith("BEGIN; SELECT pg_advisory_xact_lock(")
    assert "WITH new_row AS" in write
    assert "PREPARE" not in write
    assert chain_is_valid(f"consortium:{w.consortium_a.pk}")
