"""Fault: the Celery worker dies while it renders and seals an executed PDF.

The last signature queues the sealing; a real worker (prefork, its own process) starts
rendering and is held there by a test-only hook (tests/faults/render_hold.py), then killed
with SIGKILL: either its pool process alone (the worker sees it lost and puts the message
back, ``reject_on_worker_lost``) or the whole worker, as when its machine dies (the message
stays unacknowledged on the broker and comes back after the visibility timeout, to a worker
started afterwards). Either way there must be exactly one executed PDF, whose signature
validates, one audit event for it, and an intact audit chain.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from agreements import sealing, signing
from agreements.models import AgreementVersion, SignedDocument
from agreements.pdfsign.verify import verify
from audit import verification
from audit.models import AuditEvent
from tests.agreements.conftest import make_deal
from tests.agreements.signing_helpers import PASSWORD, send_for_signature
from tests.conftest import World, requires_postgres, requires_redis
from tests.faults.conftest import Faults, Summary
from tests.faults.processes import wait_for
from tests.faults.render_hold import STARTED

pytestmark = [requires_postgres, requires_redis, pytest.mark.celery_integration]


def executed_files(content_hash: str) -> list[str]:
    folder = Path(settings.MEDIA_ROOT) / sealing.DIRECTORY
    return sorted(path.name for path in folder.glob(f"{content_hash}-*.pdf"))


@pytest.mark.parametrize("killed", ["pool process", "whole worker"])
def test_a_worker_killed_mid_seal_leaves_exactly_one_executed_pdf(
    committed_db: None,
    world: World,
    broker_app: Any,
    faults: Faults,
    tmp_path: Path,
    summary: Summary,
    killed: str,
) -> None:
    queue = broker_app.conf.task_default_queue
    hold = tmp_path / "hold"
    hold.mkdir()
    first = faults.worker(queue=queue, hold_dir=hold)
    version = send_for_signature(make_deal(world))
    for signatory in (world.chair, world.member):
        signing.signature_sign(actor=signatory, version=version, password=PASSWORD, consent=True)

    wait_for(lambda: (hold / STARTED).exists(), "the worker to start rendering")
    document = SignedDocument.objects.get(version=version)
    assert document.state == SignedDocument.State.RENDERING
    if killed == "pool process":
        os.kill(int((hold / STARTED).read_text()), signal.SIGKILL)
    else:
        first.kill()
        # A visibility timeout of seconds instead of an hour, so the message comes back now.
        faults.worker(queue=queue, hold_dir=hold, visibility_timeout=2)

    def settled() -> bool:
        document.refresh_from_db()
        summary.update(state=document.state, runs=document.attempts)
        return document.state in (SignedDocument.State.SEALED, SignedDocument.State.FAILED)

    wait_for(settled, "the sealing to finish after the kill", seconds=90)
    files = executed_files(document.content_hash)
    summary["executed_pdfs"] = len(files)
    assert document.state == SignedDocument.State.SEALED, document.error
    # One run was killed, the redelivered one took over: no third run, no second seal.
    assert document.attempts == 2
    assert files == [document.file_name.rsplit("/", 1)[-1]]
    verdict = verify(sealing.open_sealed(document))
    summary["signature_valid"] = verdict.valid
    assert verdict.valid, verdict.summary
    sealed_events = AuditEvent.objects.filter(
        object_type="agreements.signeddocument", object_id=str(document.pk), action="create"
    ).count()
    summary["audit_events_for_it"] = sealed_events
    assert sealed_events == 1
    version.refresh_from_db()
    assert version.status == AgreementVersion.Status.EXECUTED
    chain = verification.verify()
    summary.update(audit_chain_ok=chain.ok, audit_events=chain.events)
    assert chain.ok, chain.breaks
