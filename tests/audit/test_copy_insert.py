"""Many events at once go in through COPY on PostgreSQL (alliance.copy_insert): they come
back with their ids, every awkward character survives the row format, and the chain they
form verifies exactly as one written event by event does."""

from __future__ import annotations

from typing import Any

from audit.models import Action, AuditEvent
from audit.services import audit_record_many
from audit.verification import verify
from tests.conftest import World

AWKWARD = "tab\there, line\nbreak, back\\slash, \"quotes\", 'apostrophe', \\N, é, 🔒, \r"


def test_many_events_keep_their_ids_text_and_chain(world: World, django_db_setup: Any) -> None:
    chain_of = world.consortium_a.pk
    records = audit_record_many(
        {
            "action": Action.UPDATE,
            "actor": world.chair,
            "consortium_id": chain_of,
            "target": world.consortium_a,
            "changes": {"charter": {"before": AWKWARD, "after": f"{AWKWARD} {number}"}},
            "reason": AWKWARD,
        }
        for number in range(25)
    )
    assert len({record.pk for record in records}) == 25
    stored = {
        event.pk: event for event in AuditEvent.objects.filter(pk__in=[r.pk for r in records])
    }
    assert set(stored) == {record.pk for record in records}
    for record in records:
        assert stored[record.pk].reason == AWKWARD
        assert stored[record.pk].changes == record.changes
        assert stored[record.pk].hash == record.hash
        assert stored[record.pk].occurred_at == record.occurred_at
    report = verify(chains=[records[0].chain])
    assert report.ok, report
