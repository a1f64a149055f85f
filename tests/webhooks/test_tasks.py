"""The delivery task: idempotent, replays keep the webhook-id, the sweeper picks up what is
due or was left by a dead worker, and end to end with a real Celery worker on Redis."""

from __future__ import annotations

import datetime
import threading
import time
from typing import Any

import pytest
import time_machine
from celery.worker import state as worker_state
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from alliance.errors import ConflictError
from alliance.webhooks import services
from alliance.webhooks.models import Attempt, Message
from alliance.webhooks.tasks import webhooks_deliver, webhooks_sweep
from audit.models import AuditEvent
from tests.conftest import World, requires_postgres, requires_redis
from tests.webhooks.conftest import Hooks, Receiver, make_endpoint
from tests.webhooks.test_delivery import queue
from tests.webhooks.test_fanout import propose


def test_the_task_run_twice_sends_a_delivered_message_once(
    hooks: Hooks, receiver: Receiver
) -> None:
    endpoint, _ = make_endpoint(hooks.member_admin, receiver.url())
    queue(endpoint, hooks.world.consortium_a, 3)
    assert webhooks_deliver(endpoint.pk) == 3
    assert webhooks_deliver(endpoint.pk) == 0
    assert len(receiver.received) == 3
    assert Attempt.objects.count() == 3


def test_replay_sends_again_with_the_same_webhook_id(
    hooks: Hooks, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint, _ = make_endpoint(hooks.member_admin, receiver.url())
    (message,) = queue(endpoint, hooks.world.consortium_a)
    webhooks_deliver(endpoint.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.message_replay(actor=hooks.member_admin, message=message)
    assert receiver.ids() == [message.webhook_id, message.webhook_id]
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("delivered", 2)
    replayed = AuditEvent.objects.get(object_type="webhooks.message", action="update")
    assert replayed.actor_id == str(hooks.member_admin.pk)
    assert replayed.reason == "Replayed by hand"


def test_replay_to_a_disabled_endpoint_is_refused(hooks: Hooks, receiver: Receiver) -> None:
    endpoint, _ = make_endpoint(hooks.member_admin, receiver.url())
    (message,) = queue(endpoint, hooks.world.consortium_a)
    services.endpoint_disable(actor=hooks.member_admin, endpoint=endpoint, reason="Maintenance")
    with pytest.raises(ConflictError, match="enable it first"):
        services.message_replay(actor=hooks.member_admin, message=message)


def test_enabling_an_endpoint_sends_what_waited(
    hooks: Hooks, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint, _ = make_endpoint(hooks.member_admin, receiver.url())
    services.endpoint_disable(actor=hooks.member_admin, endpoint=endpoint, reason="Maintenance")
    queue(endpoint, hooks.world.consortium_a, 2)
    assert webhooks_deliver(endpoint.pk) == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.endpoint_enable(actor=hooks.member_admin, endpoint=endpoint)
    assert len(receiver.received) == 2


def test_the_sweeper_sends_what_came_due(hooks: Hooks, receiver: Receiver) -> None:
    endpoint, _ = make_endpoint(hooks.member_admin, receiver.url())
    due, later = queue(endpoint, hooks.world.consortium_a, 2)
    Message.objects.filter(pk=later.pk).update(
        next_attempt_at=timezone.now() + datetime.timedelta(hours=2)
    )
    cache.delete(services.wake_key(endpoint.pk))
    assert webhooks_sweep() == 1
    assert receiver.ids() == [due.webhook_id]
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=3)):
        assert webhooks_sweep() == 1
    assert receiver.ids() == [due.webhook_id, later.webhook_id]
    assert webhooks_sweep() == 0


@requires_postgres
def test_a_message_being_sent_is_skipped_by_another_run_and_cannot_be_replayed(
    committed_db: None, world: World, receiver: Receiver
) -> None:
    from django.db import transaction

    from tests.consortia.factories import UserFactory

    admin = UserFactory.create(organisation=world.org_member, is_organisation_admin=True)
    services.destination_approve(actor=world.chair, consortium=world.consortium_a, host="127.0.0.1")
    endpoint, _ = make_endpoint(admin, receiver.url())
    (message,) = queue(endpoint, world.consortium_a)
    locked, release = threading.Event(), threading.Event()

    def sending() -> None:  # a run in the middle of its batch holds the row
        try:
            with transaction.atomic():
                list(Message.objects.select_for_update().filter(pk=message.pk))
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=sending)
    holder.start()
    try:
        assert locked.wait(10)
        assert webhooks_deliver(endpoint.pk) == 0, "the locked message is skipped"
        with pytest.raises(ConflictError, match="being sent right now"):
            services.message_replay(actor=admin, message=message)
    finally:
        release.set()
        holder.join()
    assert webhooks_deliver(endpoint.pk) == 1
    assert receiver.ids() == [message.webhook_id]


@requires_postgres
def test_two_runs_at_once_never_send_a_message_twice(
    committed_db: None, world: World, receiver: Receiver
) -> None:
    from tests.consortia.factories import UserFactory

    admin = UserFactory.create(organisation=world.org_member, is_organisation_admin=True)
    services.destination_approve(actor=world.chair, consortium=world.consortium_a, host="127.0.0.1")
    endpoint, _ = make_endpoint(admin, receiver.url())
    messages = queue(endpoint, world.consortium_a, 400)

    def run() -> None:
        try:
            services.messages_deliver(endpoint_id=endpoint.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = receiver.ids()
    assert sorted(ids) == sorted(message.webhook_id for message in messages)
    assert len(ids) == len(set(ids))


def wait_for(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not deliver in time")
        time.sleep(0.05)


@requires_redis
@pytest.mark.celery_integration
def test_a_real_worker_delivers_a_domain_event_after_commit(
    committed_db: None, world: World, receiver: Receiver, celery_app: Any, celery_worker: Any
) -> None:
    from tests.consortia.factories import UserFactory

    assert not celery_app.conf.task_always_eager
    assert webhooks_deliver.app is celery_app, "the service must enqueue on the broker"
    admin = UserFactory.create(organisation=world.org_member, is_organisation_admin=True)
    services.destination_approve(actor=world.chair, consortium=world.consortium_a, host="127.0.0.1")
    endpoint, _ = make_endpoint(admin, receiver.url(), ["motion.opened"])

    propose(world)  # commits on its own: fan-out after commit, delivery on the worker

    wait_for(lambda: Message.objects.filter(endpoint=endpoint, status="delivered").exists())
    (message,) = Message.objects.filter(endpoint=endpoint)
    assert receiver.ids() == [message.webhook_id]
    # A redelivered task (its result is not kept: count the worker's runs) sends nothing.
    runs = worker_state.total_count.get(webhooks_deliver.name, 0)
    webhooks_deliver.delay(endpoint.pk)
    wait_for(lambda: worker_state.total_count.get(webhooks_deliver.name, 0) > runs)
    assert len(receiver.received) == 1
    assert Attempt.objects.filter(message=message).count() == 1
