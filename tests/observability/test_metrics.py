"""/metrics: request counters by URL name, task counters and queue depth from Redis, and only
for callers the deployment allows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from alliance.celery import app as project_app
from alliance.observability import metrics
from alliance.observability.store import redis_client
from tests.conftest import requires_redis


def scrape(client: Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_by_url_name_method_and_status(db: Any, client: Client) -> None:
    before = scrape(client)
    for _ in range(3):
        assert client.get("/accounts/login/").status_code == 200
    assert client.get("/no/such/page/").status_code == 404
    after = scrape(client)

    login = {"route": "login", "method": "GET"}
    assert (
        value(after, "alliance_http_requests_total", **login, status="200")
        - value(before, "alliance_http_requests_total", **login, status="200")
        == 3
    )
    assert (
        value(after, "alliance_http_request_duration_seconds_count", **login)
        - value(before, "alliance_http_request_duration_seconds_count", **login)
        == 3
    )
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert (
        value(after, "alliance_http_requests_total", **unmatched)
        - value(before, "alliance_http_requests_total", **unmatched)
        == 1
    )
    # Raw paths never become labels.
    assert not any("/no/such/page/" in str(labels) for _, labels in after)


def test_unusual_methods_share_one_label(db: Any, client: Client) -> None:
    before = scrape(client)
    client.generic("BREW", "/accounts/login/")
    after = scrape(client)
    labels = {"route": "login", "method": "other", "status": "405"}
    assert (
        value(after, "alliance_http_requests_total", **labels)
        - value(before, "alliance_http_requests_total", **labels)
        == 1
    )


@pytest.mark.parametrize(
    ("address", "headers"),
    [
        ("203.0.113.9", {}),  # the internet
        ("10.1.2.3", {}),  # a private network nobody allowed
        ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}),  # through the public proxy
        ("127.0.0.1", {"HTTP_X_FORWARDED_PROTO": "https"}),
        ("not-an-address", {}),
    ],
)
def test_metrics_are_refused_outside_the_allowed_networks(
    db: Any, client: Client, address: str, headers: dict[str, Any]
) -> None:
    response = client.get("/metrics", REMOTE_ADDR=address, **headers)
    assert response.status_code == 404
    assert b"alliance_" not in response.content


@override_settings(METRICS_ALLOWED_NETWORKS=("10.0.0.0/8",))
def test_an_allowed_network_is_let_in_and_loopback_then_is_not(db: Any, client: Client) -> None:
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::ffff:10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


@override_settings(METRICS_BEARER_TOKEN="scrape-token-0123456789")
def test_a_configured_token_is_required_as_well(db: Any, client: Client) -> None:
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    wrong = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 404
    right: dict[str, Any] = {"HTTP_AUTHORIZATION": "Bearer scrape-token-0123456789"}
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", **right).status_code == 200
    # The token does not open the door to an address outside the networks.
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", **right).status_code == 404


@pytest.fixture
def private_queue() -> Iterator[str]:
    """The project's app with a default queue of this test's own, emptied afterwards."""
    name, previous = f"alliance-test-depth-{uuid.uuid4().hex}", project_app.conf.task_default_queue
    project_app.conf.task_default_queue = name
    yield name
    project_app.conf.task_default_queue = previous
    client = redis_client()
    assert client is not None
    client.delete(name)


@requires_redis
# send_task publishes even where tasks run eagerly (as in these tests), and says so.
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_queue_depth_counts_the_messages_waiting(
    db: Any, client: Client, private_queue: str
) -> None:
    assert value(scrape(client), "alliance_celery_queue_length", queue=private_queue) == 0
    for _ in range(3):
        # No worker reads this queue.
        project_app.send_task("consortia.tasks.motions_close_due", queue=private_queue)
    samples = scrape(client)
    assert value(samples, "alliance_celery_queue_length", queue=private_queue) == 3
    assert value(samples, "alliance_redis_up") == 1


@pytest.fixture
def task_name() -> Iterator[str]:
    """A task name of this test's own, whose counters are removed from Redis afterwards."""
    name = f"tests.observability.task_{uuid.uuid4().hex}"
    yield name
    client = redis_client()
    assert client is not None
    fields = [field for field in client.hkeys(metrics.TASKS_KEY) if name.encode() in field]
    if fields:
        client.hdel(metrics.TASKS_KEY, *fields)


@requires_redis
def test_task_counters_and_runtime_come_from_redis(db: Any, client: Client, task_name: str) -> None:
    name = task_name
    metrics.record_task(name, "SUCCESS", 0.07)
    metrics.record_task(name, "SUCCESS", 3.0)
    metrics.record_task(name, "FAILURE", 0.01)
    samples = scrape(client)
    assert value(samples, "alliance_celery_tasks_total", task=name, outcome="success") == 2
    assert value(samples, "alliance_celery_tasks_total", task=name, outcome="failure") == 1
    histogram = "alliance_celery_task_duration_seconds"
    assert value(samples, f"{histogram}_bucket", task=name, le="0.05") == 1
    assert value(samples, f"{histogram}_bucket", task=name, le="0.1") == 2
    assert value(samples, f"{histogram}_bucket", task=name, le="5.0") == 3
    assert value(samples, f"{histogram}_bucket", task=name, le="+Inf") == 3
    assert value(samples, f"{histogram}_count", task=name) == 3
    assert value(samples, f"{histogram}_sum", task=name) == pytest.approx(3.08)


@requires_redis
@override_settings(REDIS_URL="redis://127.0.0.1:18199/0")
def test_a_scrape_with_redis_down_still_answers(db: Any, client: Client) -> None:
    samples = scrape(client)
    assert value(samples, "alliance_redis_up") == 0
    assert not any(name.startswith("alliance_celery_") for name, _ in samples)
