"""Celery wiring, end to end: a service enqueues after commit, a real worker on the Redis
broker runs the task against the real database, and a second delivery changes nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest
from celery.worker import state as worker_state
from django.core import mail

from audit.models import AuditEvent
from consortia import services
from consortia.models import Membership
from consortia.tasks import membership_invitation_notify
from tests.conftest import World, requires_redis

pytestmark = [requires_redis, pytest.mark.celery_integration]


def wait_for(condition: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not finish in time")
        time.sleep(0.05)


def test_invitation_is_sent_once_by_a_real_worker(
    committed_db: None, world: World, celery_app: Any, celery_worker: Any
) -> None:
    assert not celery_app.conf.task_always_eager
    assert membership_invitation_notify.app is celery_app, "the service must enqueue on the broker"
    processed_before = worker_state.total_count.get(membership_invitation_notify.name, 0)
    mail.outbox.clear()

    membership = services.membership_invite(
        actor=world.chair, consortium=world.consortium_a, organisation=world.org_candidate
    )

    def notified() -> bool:
        return Membership.objects.filter(
            pk=membership.pk, invitation_notified_at__isnull=False
        ).exists() and bool(
            AuditEvent.objects.filter(action="notify", object_id=str(membership.pk)).exists()
        )

    wait_for(notified)
    assert worker_state.total_count[membership_invitation_notify.name] == processed_before + 1
    assert [message.to for message in mail.outbox] == [[world.candidate.email]]

    # Redelivery (a worker killed after sending, say) finds the notice claimed.
    assert membership_invitation_notify.delay(membership.pk).get(timeout=15) == 0
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action="notify", object_id=str(membership.pk)).count() == 1
