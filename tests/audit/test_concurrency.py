"""Twenty writers appending to one chain at once leave it gapless and valid."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections, transaction

from audit.models import AuditEvent
from audit.services import audit_record
from audit.verification import verify
from tests.conftest import requires_postgres

WRITERS = 20
EVENTS_EACH = 10


@requires_postgres
def test_concurrent_writers_keep_one_chain_gapless(committed_db: None) -> None:
    chain_consortium = 424242
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            start.wait()
            for index in range(EVENTS_EACH):
                with transaction.atomic():
                    audit_record(
                        action="update",
                        actor=None,
                        consortium_id=chain_consortium,
                        object_display=f"writer {number} event {index}",
                    )
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    sequences = list(
        AuditEvent.objects.filter(chain=f"consortium:{chain_consortium}")
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert sequences == list(range(1, WRITERS * EVENTS_EACH + 1))
    report = verify(chains=[f"consortium:{chain_consortium}"])
    assert report.ok, report.breaks
    assert report.events == WRITERS * EVENTS_EACH


def test_rolled_back_write_leaves_no_event_and_no_gap(db: Any) -> None:
    audit_record(action="update", actor=None, consortium_id=7, object_display="kept")

    def write_then_fail() -> None:
        with transaction.atomic():
            audit_record(action="update", actor=None, consortium_id=7, object_display="rolled back")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        write_then_fail()
    audit_record(action="update", actor=None, consortium_id=7, object_display="kept too")
    rows = list(
        AuditEvent.objects.filter(chain="consortium:7")
        .order_by("sequence")
        .values_list("sequence", "object_display")
    )
    assert rows == [(1, "kept"), (2, "kept too")]
    assert verify(chains=["consortium:7"]).ok
