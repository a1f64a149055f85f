"""The audit trail's core: one chain per consortium, hashes that link, an append-only table."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from audit.canonical import event_hash, format_time
from audit.models import GENESIS_HASH, AuditEvent
from audit.services import audit_record, changes_between
from consortia import services
from tests.conftest import World, unsaved_decision


def chain_is_valid(chain: str) -> bool:
    previous = GENESIS_HASH
    for position, event in enumerate(
        AuditEvent.objects.filter(chain=chain).order_by("sequence").values(), start=1
    ):
        if event["sequence"] != position or event["prev_hash"] != previous:
            return False
        if event_hash(previous, event) != event["hash"]:
            return False
        previous = event["hash"]
    return True


def test_services_append_to_their_consortiums_chain(world: World) -> None:
    services.consortium_update(actor=world.chair, consortium=world.consortium_a, charter="One")
    services.consortium_update(actor=world.chair, consortium=world.consortium_a, charter="Two")
    chain = f"consortium:{world.consortium_a.pk}"
    assert list(AuditEvent.objects.filter(chain=chain).values_list("sequence", flat=True)) == [1, 2]
    assert chain_is_valid(chain)


def test_secrets_never_enter_an_event() -> None:
    changes = changes_between(
        {"password": "a", "api_token": "t", "name": "x"},
        {"password": "b", "api_token": "u", "name": "y"},
    )
    assert changes == {"name": {"before": "x", "after": "y"}}


def test_request_metadata_is_recorded(world: World, client: Any) -> None:
    client.force_login(world.chair)
    response = client.post(
        f"/consortia/{world.consortium_a.pk}/edit/",
        {"name": "Consortium A", "charter": "Edited in the browser"},
        HTTP_USER_AGENT="pytest-browser/1.0",
        REMOTE_ADDR="192.0.2.10",
        HTTP_X_FORWARDED_FOR="203.0.113.66",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.filter(action="update").latest("pk")
    assert event.request_id == response["X-Request-ID"]
    assert event.user_agent == "pytest-browser/1.0"
    assert event.client_address == "192.0.2.10", "X-Forwarded-For is not trusted unless configured"


def test_trusted_proxy_header(world: World, client: Any, settings: Any) -> None:
    settings.AUDIT_CLIENT_ADDRESS_HEADER = "HTTP_X_FORWARDED_FOR"
    client.force_login(world.chair)
    client.post(
        f"/consortia/{world.consortium_a.pk}/edit/",
        {"name": "Consortium A", "charter": "Via proxy"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.7, 2001:DB8::1",
    )
    assert AuditEvent.objects.filter(action="update").latest("pk").client_address == "2001:db8::1"


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_auditevent SET reason = 'x'", "DELETE FROM audit_auditevent"]
)
def test_the_database_refuses_changes_to_events(world: World, statement: str) -> None:
    audit_record(
        action="view",
        actor=world.chair,
        consortium_id=world.consortium_a.pk,
        target=world.consortium_a,
    )
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEvent.objects.filter(reason="x").count() == 0


def test_the_database_refuses_truncate(world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    audit_record(
        action="view",
        actor=world.chair,
        consortium_id=world.consortium_a.pk,
        target=world.consortium_a,
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL alliance.audit_allow_truncate = off")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.exists()


def test_a_row_inserted_with_its_event_is_named_by_it_and_the_chain_holds(world: World) -> None:
    # Inside a transaction (a batch's path): the row and its event in one statement.
    from audit.models import Action
    from audit.services import audit_record_inserting
    from compute.compliance.models import Decision

    chain = f"consortium:{world.consortium_a.pk}"
    audit_record(action=Action.UPDATE, actor=world.chair, consortium_id=world.consortium_a.pk)
    before = AuditEvent.objects.filter(chain=chain).count()
    decision = unsaved_decision(world)
    event = audit_record_inserting(
        decision,
        action=Action.CREATE,
        actor=world.member,
        consortium_id=world.consortium_a.pk,
        target=decision,
    )
    assert decision.pk is not None
    assert not decision._state.adding
    assert Decision.objects.filter(pk=decision.pk, outcome="allow").exists()
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.object_type, stored.object_id) == ("compute.decision", str(decision.pk))
    assert stored.sequence == before + 1
    assert chain_is_valid(chain)


def test_an_events_changes_read_back_as_they_were_recorded(world: World) -> None:
    """What a recorder hands on (webhooks read ``changes_data`` of each new event without
    parsing it) is what the stored canonical text reads back as, whichever way it went in."""
    from audit.models import Action
    from audit.services import audit_record_many
    from compute.compliance.reasons import Code

    changes: dict[str, Any] = {
        "code": {"before": None, "after": Code.SITE_NOT_APPROVED},
        "sites": {"before": (1, 2), "after": [3]},
        Code.MISSING_ATTRIBUTE: {
            "nested": {"when": datetime.datetime(2026, 6, 1, 9, tzinfo=datetime.UTC)}
        },
    }
    one = audit_record(
        action=Action.UPDATE,
        actor=world.chair,
        consortium_id=world.consortium_a.pk,
        target=world.consortium_a,
        changes=changes,
    )
    many = audit_record_many(
        [{"action": Action.UPDATE, "actor": None, "consortium_id": None, "changes": changes}]
    )
    expected = {
        "code": {"before": None, "after": "SITE_NOT_APPROVED"},
        "sites": {"before": [1, 2], "after": [3]},
        "MISSING_ATTRIBUTE": {"nested": {"when": "2026-06-01T09:00:00+00:00"}},
    }
    for record in (one, *many):
        assert "changes_data" in record.__dict__  # handed on, not parsed again
        assert record.changes_data == expected
        assert AuditEvent.objects.get(pk=record.pk).changes_data == expected


@pytest.mark.parametrize(
    "moment",
    [
        datetime.datetime(2026, 12, 4, 21, 5, 7, 120034, tzinfo=datetime.UTC),
        datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        datetime.datetime(2026, 3, 29, 2, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
    ],
)
def test_an_events_time_is_written_as_it_always_was(moment: datetime.datetime) -> None:
    # Every stored hash covers this text: it must not change for any instant.
    utc = moment.astimezone(datetime.UTC)
    assert format_time(moment) == utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
