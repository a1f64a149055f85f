"""Fault: Redis, the broker, restarts while tasks are queued, and while a worker holds one.

Redis runs here as a server of the test's own, as production must run it: with its
append-only file written before each answer (``--appendonly yes --appendfsync always``).
Delivery tasks of webhooks are the tasks: each has a visible effect, one request at the
receiver, and is idempotent (a delivered message is never claimed again).

1. Tasks queued with no worker running, then Redis restarts: a worker started afterwards
   runs every one, and every effect happens exactly once.
2. A worker is in the middle of a task (its receiver holds the request) when Redis
   restarts: the message, acknowledged late, is still unacknowledged in Redis, comes back
   after the visibility timeout and runs again, and the effect still happens once.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer

import pytest
from celery import Celery

from alliance.webhooks.models import Message
from tests.conftest import requires_postgres, requires_redis
from tests.faults.conftest import Faults, Summary
from tests.faults.processes import Worker, wait_for
from tests.webhooks.conftest import Hooks, Receiver, _handler, make_endpoint
from tests.webhooks.test_delivery import queue

pytestmark = [requires_postgres, requires_redis, pytest.mark.celery_integration]

DELIVER = "alliance.webhooks.tasks.webhooks_deliver"
TASKS = 20
HELD = "/held"


@dataclass
class HoldingReceiver(Receiver):
    """Holds each request to HELD until released, so a worker stays mid-task."""

    entered: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def next_answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        if path == HELD:
            self.entered.set()
            self.released.wait(60)
        return super().next_answer(path)


@pytest.fixture
def holding_receiver() -> Iterator[HoldingReceiver]:
    found = HoldingReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    server.daemon_threads = True
    found.server = server
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    yield found
    found.released.set()
    server.shutdown()
    server.server_close()


def send(broker: str, queue_name: str, endpoint_ids: list[int]) -> list[str]:
    """Queue one delivery task per endpoint, as the application would, on ``broker``."""
    # Not made current: the application's own tasks must keep the test app after this test.
    sender = Celery("faults-sender", broker=broker, set_as_current=False)
    try:
        return [
            sender.send_task(DELIVER, args=[endpoint_id], queue=queue_name).id
            for endpoint_id in endpoint_ids
        ]
    finally:
        sender.close()


def received(worker: Worker, task_id: str) -> int:
    """How many times the worker took the task's message from the broker."""
    return len(
        re.findall(rf"{re.escape(DELIVER)}\[{re.escape(task_id)}\] received", worker.output())
    )


def test_tasks_queued_across_a_redis_restart_all_run_exactly_once(
    committed_db: None, hooks: Hooks, receiver: Receiver, faults: Faults, summary: Summary
) -> None:
    redis = faults.redis()
    queue_name = f"faults-{uuid.uuid4().hex}"
    messages: list[Message] = []
    endpoint_ids = []
    for number in range(TASKS):
        endpoint, _ = make_endpoint(hooks.member_admin, receiver.url(f"/hooks/{number}"))
        messages += queue(endpoint, hooks.world.consortium_a)
        endpoint_ids.append(endpoint.pk)

    send(redis.url, queue_name, endpoint_ids)
    queued_before = redis.client().llen(queue_name)
    redis.restart()
    queued_after = redis.client().llen(queue_name)
    summary.update(queued=queued_before, queued_after_restart=queued_after)
    assert queued_before == queued_after == TASKS

    faults.worker(queue=queue_name, broker=redis.url)
    wait_for(
        lambda: (
            redis.client().llen(queue_name) == 0
            and not redis.client().hlen("unacked")
            and not Message.objects.filter(status=Message.Status.PENDING).exists()
        ),
        "the worker to run every task",
    )
    ids = receiver.ids()
    summary.update(effects=len(ids), distinct=len(set(ids)))
    assert sorted(ids) == sorted(message.webhook_id for message in messages)
    assert len(ids) == len(set(ids)) == TASKS


def test_a_task_held_by_a_worker_across_a_redis_restart_runs_its_effect_once(
    committed_db: None,
    hooks: Hooks,
    holding_receiver: HoldingReceiver,
    faults: Faults,
    summary: Summary,
) -> None:
    redis = faults.redis()
    queue_name = f"faults-{uuid.uuid4().hex}"
    endpoint, _ = make_endpoint(hooks.member_admin, holding_receiver.url(HELD))
    (message,) = queue(endpoint, hooks.world.consortium_a)
    worker = faults.worker(
        queue=queue_name,
        broker=redis.url,
        visibility_timeout=5,
        extra={"WEBHOOK_READ_TIMEOUT": "60"},
    )
    (task_id,) = send(redis.url, queue_name, [endpoint.pk])
    assert holding_receiver.entered.wait(60), "the worker never sent the request"
    unacked_before = redis.client().hlen("unacked")
    redis.restart()
    unacked_after = redis.client().hlen("unacked")
    holding_receiver.released.set()
    summary.update(unacked_before_restart=unacked_before, unacked_after_restart=unacked_after)
    # Late acknowledgement: the message a worker is running is in Redis, and survives.
    assert unacked_before == unacked_after == 1

    wait_for(lambda: received(worker, task_id) >= 2, "the unacknowledged message to come back")
    wait_for(
        lambda: redis.client().llen(queue_name) == 0 and not redis.client().hlen("unacked"),
        "the redelivered message to be acknowledged",
    )
    message.refresh_from_db()
    ids = holding_receiver.ids()
    summary.update(runs=received(worker, task_id), effects=len(ids), status=message.status)
    assert message.status == Message.Status.DELIVERED
    assert ids == [message.webhook_id]
