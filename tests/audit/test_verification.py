"""audit_verify finds every kind of tampering and names the first broken event."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.canonical import canonical_bytes, canonical_sql, event_hash
from audit.models import AuditCheckpoint, AuditEvent
from audit.services import audit_record, checkpoint_seal
from audit.verification import verify
from consortia import services
from tests.audit.helpers import behind_the_triggers
from tests.conftest import World

METHODS = ["python", "sql"]


def method_available(method: str) -> None:
    if method == "sql" and connection.vendor != "postgresql":
        pytest.skip("the SQL verifier needs PostgreSQL")


def some_history(world: World) -> str:
    for charter in ("One", "Two", "Three", "Four"):
        services.consortium_update(
            actor=world.chair, consortium=world.consortium_a, charter=charter
        )
    return f"consortium:{world.consortium_a.pk}"


def run_verify(*chains: str, method: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    arguments = [f"--chain={chain}" for chain in chains] + (
        ["--python"] if method == "python" else []
    )
    try:
        call_command("audit_verify", *arguments, stdout=out, stderr=err)
    except CommandError:
        return 1, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("method", METHODS)
def test_an_intact_trail_verifies(world: World, method: str) -> None:
    method_available(method)
    chain = some_history(world)
    checkpoint_seal()
    code, out, _ = run_verify(chain, method=method)
    assert code == 0, out
    assert "Every chain is intact." in out
    assert "Verified 4 events in 1 chains and 1 checkpoints" in out


@pytest.mark.parametrize("method", METHODS)
def test_an_event_altered_behind_the_triggers_is_named(world: World, method: str) -> None:
    method_available(method)
    chain = some_history(world)
    victim = AuditEvent.objects.get(chain=chain, sequence=2)
    with behind_the_triggers("audit_auditevent"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET actor_display = 'someone else' WHERE id = %s", [victim.pk]
        )
    code, _, err = run_verify(chain, method=method)
    assert code == 1
    assert f"BROKEN {chain} #2 (event {victim.pk}): hash does not match the event's content" in err


@pytest.mark.parametrize("method", METHODS)
def test_a_rehashed_event_still_breaks_the_link(world: World, method: str) -> None:
    """Recomputing the altered event's own hash does not help: the next event points at the old one."""
    method_available(method)
    chain = some_history(world)
    victim = AuditEvent.objects.filter(chain=chain, sequence=2).values().get()
    victim["reason"] = "rewritten"
    forged = event_hash(victim["prev_hash"], victim)
    with behind_the_triggers("audit_auditevent"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET reason = %s, hash = %s WHERE id = %s",
            ["rewritten", forged, victim["id"]],
        )
    report = verify(chains=[chain], method=method)  # type: ignore[arg-type]
    assert [(broken.sequence, broken.reason) for broken in report.breaks] == [
        (3, "prev_hash does not match the previous event's hash")
    ]


@pytest.mark.parametrize("method", METHODS)
def test_a_deleted_event_leaves_a_gap(world: World, method: str) -> None:
    method_available(method)
    chain = some_history(world)
    with behind_the_triggers("audit_auditevent"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE chain = %s AND sequence = 3", [chain])
    report = verify(chains=[chain], method=method)  # type: ignore[arg-type]
    assert [(broken.sequence, broken.reason) for broken in report.breaks] == [
        (4, "sequence gap: an event is missing before this one")
    ]


def test_cutting_the_tail_is_caught_by_the_checkpoint(world: World) -> None:
    chain = some_history(world)
    checkpoint_seal()
    with behind_the_triggers("audit_auditevent"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE chain = %s AND sequence = 4", [chain])
    report = verify(chains=[chain])
    assert [(broken.sequence, broken.reason) for broken in report.breaks] == [
        (4, "the chain no longer leads to this checkpoint's head: history was rewritten or cut")
    ]


def test_a_forged_checkpoint_is_caught(world: World) -> None:
    chain = some_history(world)
    (checkpoint,) = checkpoint_seal()
    with behind_the_triggers("audit_auditcheckpoint"), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditcheckpoint SET size = 3 WHERE id = %s", [checkpoint.pk])
    report = verify(chains=[chain])
    assert [broken.reason for broken in report.breaks] == [
        "checkpoint signature does not verify: the checkpoint was altered"
    ]


def test_checkpoints_are_append_only(world: World) -> None:
    from django.db import DatabaseError, transaction

    some_history(world)
    checkpoint_seal()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditCheckpoint.objects.update(size=1)


def test_sql_canonical_form_is_byte_for_byte_pythons(world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the SQL twin exists on PostgreSQL only")
    awkward = [
        'quote " backslash \\ slash / tab \t newline \n control \x01 \x1f del \x7f',
        "unicode é 漢字 emoji 🛰 and U+2028 \u2028",
        "",
    ]
    for index, text in enumerate(awkward):
        audit_record(
            action="update",
            actor=world.chair,
            consortium_id=world.consortium_a.pk,
            object_display=text,
            reason=text,
            changes={
                "z": {"before": text, "after": None},
                "a": [1, -7, True, False, None, {"nested": text, "Ä": "ä", "B": "b", "a": "a"}],
                "é": {},
                "": [],
                str(index): 12345678901234,
            },
        )
    audit_record(
        action="view", actor=None, consortium_id=None, object_display="no actor, no consortium"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {canonical_sql('e')} FROM audit_auditevent e ORDER BY id")  # noqa: S608 - our own expression
        from_sql = dict(cursor.fetchall())
    from audit.canonical import HASHED_FIELDS

    for event in AuditEvent.objects.values("id", *HASHED_FIELDS):
        assert from_sql[event["id"]].encode("utf-8") == canonical_bytes(event), event["id"]


def test_ipv6_addresses_hash_the_same_in_both(world: World, client: Any, settings: Any) -> None:
    settings.AUDIT_CLIENT_ADDRESS_HEADER = "HTTP_X_REAL_IP"
    client.force_login(world.chair)
    for address in ("2001:DB8:0:0:0:0:0:1", "::ffff:192.0.2.1", "198.51.100.23"):
        client.post(
            f"/consortia/{world.consortium_a.pk}/edit/",
            {"name": "Consortium A", "charter": address},
            HTTP_X_REAL_IP=address,
        )
    assert verify(method="python").ok
    if connection.vendor == "postgresql":
        assert verify(method="sql").ok


@pytest.mark.parametrize("method", METHODS)
def test_archiving_a_sealed_segment_keeps_the_chain_verifiable(world: World, method: str) -> None:
    """The README's retention procedure: seal, export, then delete up to the checkpoint."""
    method_available(method)
    chain = some_history(world)
    (checkpoint,) = checkpoint_seal()
    services.consortium_update(
        actor=world.chair, consortium=world.consortium_a, charter="After the archive"
    )
    with behind_the_triggers("audit_auditevent"), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM audit_auditevent WHERE chain = %s AND sequence <= %s",
            [chain, checkpoint.size],
        )
    report = verify(chains=[chain], method=method)  # type: ignore[arg-type]
    assert report.ok, report.breaks
    assert report.events == 1
    with behind_the_triggers("audit_auditevent"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE chain = %s", [chain])
    services.consortium_update(actor=world.chair, consortium=world.consortium_a, charter="Restart")
    assert verify(chains=[chain], method=method).ok is False  # type: ignore[arg-type]
