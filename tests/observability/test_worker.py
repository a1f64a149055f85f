"""With a real Celery worker on the Redis broker: it beats, /readyz sees it, its task logs
carry the id of the request that enqueued the task, and the task is counted."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from alliance.observability import heartbeat
from alliance.observability.store import redis_client
from consortia.tasks import membership_invitation_notify
from tests.conftest import World, requires_redis
from tests.observability.test_metrics import scrape, value

pytestmark = [requires_redis, pytest.mark.celery_integration]

LogLines = Callable[[], list[dict[str, Any]]]


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not get there in time")
        time.sleep(0.05)


def test_a_running_worker_beats_and_readyz_sees_it(
    committed_db: None, no_heartbeats: None, celery_app: Any, celery_worker: Any, client: Client
) -> None:
    beats = redis_client()
    assert beats is not None
    hostname = celery_worker.hostname
    assert beats.zscore(heartbeat.HEARTBEATS_KEY, hostname) is not None
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["worker"]["workers"] == 1
    assert value(scrape(client), "alliance_celery_workers") == 1


def test_task_logs_carry_the_request_that_enqueued_it(
    committed_db: None,
    world: World,
    api_as: Any,
    celery_app: Any,
    celery_worker: Any,
    log_lines: LogLines,  # after the worker, which configures logging as it starts
    client: Client,
) -> None:
    assert membership_invitation_notify.app is celery_app, "the service must enqueue on the broker"
    task = {"task": membership_invitation_notify.name, "outcome": "success"}
    before = value(scrape(client), "alliance_celery_tasks_total", **task)

    response = api_as(world.chair).post(
        "/api/v1/memberships/",
        {"consortium": world.consortium_a.pk, "organisation": world.org_candidate.pk},
        format="json",
    )
    assert response.status_code == 201, response.content

    def task_lines() -> list[dict[str, Any]]:
        return [line for line in log_lines() if line["logger"] == "consortia.tasks"]

    wait_for(lambda: bool(task_lines()))
    (line,) = task_lines()
    assert line["request_id"] == response["X-Request-ID"]
    assert line["task_name"] == membership_invitation_notify.name
    assert line["task_id"]
    assert "path" not in line, "the worker is not answering a request"
    wait_for(lambda: value(scrape(client), "alliance_celery_tasks_total", **task) == before + 1)
