"""A large export runs on a real Celery worker, which records its progress on the export."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import transaction

from audit import exports
from audit.models import AuditExport
from audit.services import audit_record
from audit.tasks import audit_export_run
from tests.conftest import World, requires_redis

pytestmark = [requires_redis, pytest.mark.celery_integration]


def test_export_runs_on_the_worker(
    committed_db: None, world: World, celery_app: Any, celery_worker: Any
) -> None:
    assert audit_export_run.app is celery_app
    with transaction.atomic():
        for index in range(2 * exports.PROGRESS_EVERY + 150):
            audit_record(
                action="update",
                actor=world.chair,
                consortium_id=world.consortium_a.pk,
                object_display=f"event {index}",
            )
    export = exports.audit_export_create(
        actor=world.auditor, consortium_id=world.consortium_a.pk, format="jsonl", filters={}
    )
    deadline = time.monotonic() + 60
    while True:
        export.refresh_from_db()
        if (
            export.status in {AuditExport.Status.DONE, AuditExport.Status.FAILED}
            or time.monotonic() > deadline
        ):
            break
        time.sleep(0.02)
    assert export.status == AuditExport.Status.DONE, export.error
    assert export.rows_written == export.rows_total >= 2 * exports.PROGRESS_EVERY + 150
    assert exports.export_path(export).stat().st_size > 0
    # A second delivery of the same task finds the export finished and does nothing.
    assert audit_export_run.delay(export.pk).get(timeout=30) is False
