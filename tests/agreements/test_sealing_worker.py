"""The last signature hands the version to a real Celery worker on Redis, which renders,
seals and validates the PDF and executes the agreement; a second delivery changes nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest

from agreements import signing
from agreements.models import AgreementVersion, SignedDocument
from agreements.tasks import agreements_seal_executed
from tests.agreements.conftest import make_deal
from tests.agreements.signing_helpers import PASSWORD, send_for_signature
from tests.conftest import World, requires_redis

pytestmark = [requires_redis, pytest.mark.celery_integration]


def test_the_worker_seals_and_executes(
    committed_db: None, world: World, celery_app: Any, celery_worker: Any
) -> None:
    assert agreements_seal_executed.app is celery_app
    deal = make_deal(world)
    version = send_for_signature(deal)
    for signatory in (world.chair, world.member):
        signing.signature_sign(actor=signatory, version=version, password=PASSWORD, consent=True)
    deadline = time.monotonic() + 120
    document = SignedDocument.objects.get(version=version)
    while document.state != SignedDocument.State.SEALED and time.monotonic() < deadline:
        if document.state == SignedDocument.State.FAILED:
            break
        time.sleep(0.1)
        document.refresh_from_db()
    assert document.state == SignedDocument.State.SEALED, document.error
    version.refresh_from_db()
    assert version.status == AgreementVersion.Status.EXECUTED
    assert agreements_seal_executed.delay(document.pk).get(timeout=60) is False
    document.refresh_from_db()
    assert document.attempts == 1
