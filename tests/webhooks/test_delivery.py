"""Delivery against a real receiver on 127.0.0.1: signed headers, one kept-alive connection,
the guard against request forgery, no redirects, retries on the schedule with jitter and
Retry-After, giving up, and 410 disabling the endpoint."""

from __future__ import annotations

import datetime
import ipaddress
import json
import random
import socket
import time
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from alliance.webhooks import delivery, services, signing
from alliance.webhooks.delivery import RETRY_SCHEDULE
from alliance.webhooks.models import Attempt, Destination, Endpoint, Event, Message
from audit.models import AuditEvent
from consortia.models import Consortium
from tests.webhooks.conftest import Hooks, Receiver, make_endpoint

_audit_ids = iter(range(10_000_000, 20_000_000))


def queue(endpoint: Endpoint, consortium: Consortium, count: int = 1) -> list[Message]:
    """Messages waiting for ``endpoint`` (rows written directly, as a fan-out would)."""
    messages = []
    for _ in range(count):
        number = next(_audit_ids)
        event = Event.objects.create(
            type="motion.opened",
            consortium=consortium,
            audit_event_id=number,
            body=json.dumps({"type": "motion.opened", "data": {"n": number}}),
            occurred_at=timezone.now(),
        )
        messages.append(
            Message.objects.create(
                endpoint=endpoint,
                event=event,
                webhook_id=services.new_webhook_id(),
                next_attempt_at=timezone.now(),
            )
        )
    return messages


def deliver(endpoint: Endpoint, seed: int = 1) -> services.DeliveryRun:
    return services.messages_deliver(endpoint_id=endpoint.pk, rng=random.Random(seed))  # noqa: S311 - jitter, seeded


@pytest.fixture
def endpoint(hooks: Hooks, receiver: Receiver) -> tuple[Endpoint, str]:
    return make_endpoint(hooks.world.chair, receiver.url())


def test_messages_are_signed_and_sent_in_order_over_one_connection(
    hooks: Hooks, receiver: Receiver, endpoint: tuple[Endpoint, str]
) -> None:
    hook, secret = endpoint
    messages = queue(hook, hooks.world.consortium_a, 5)
    run = deliver(hook)
    assert (run.delivered, run.attempted) == (5, 5)
    assert receiver.ids() == [message.webhook_id for message in messages]
    assert len({received.client for received in receiver.received}) == 1, "kept alive"
    for received in receiver.received:
        assert received.headers["content-type"] == "application/json"
        assert received.headers["user-agent"] == "Alliance-Webhooks/1"
        assert signing.verify(secret, received.headers, received.body)
    assert set(Message.objects.values_list("status", flat=True)) == {"delivered"}
    attempt = Attempt.objects.filter(message=messages[0]).get()
    assert (attempt.number, attempt.status_code, attempt.delivered) == (1, 204, True)
    # Nothing is due any more: a second run sends nothing.
    assert deliver(hook).attempted == 0
    assert len(receiver.received) == 5


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("172.16.5.4", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - the address under test
        ("240.0.0.1", "reserved"),
        ("::ffff:10.0.0.1", "private"),  # IPv4-mapped
        ("100.64.0.1", "not a public"),  # shared address space (carrier-grade NAT)
    ],
)
def test_the_guard_refuses_non_public_addresses(settings: Any, address: str, why: str) -> None:
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = []
    reason = delivery.address_refusal(ipaddress.ip_address(address))
    assert reason is not None
    assert why in reason


def test_the_guard_lets_public_and_explicitly_allowed_addresses_through(settings: Any) -> None:
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = []
    assert delivery.address_refusal(ipaddress.ip_address("93.184.216.34")) is None
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = ["10.20.0.0/16"]
    assert delivery.address_refusal(ipaddress.ip_address("10.20.3.4")) is None
    assert delivery.address_refusal(ipaddress.ip_address("10.21.3.4")) is not None


def test_loopback_is_refused_by_default_and_nothing_is_sent(
    settings: Any, hooks: Hooks, receiver: Receiver, endpoint: tuple[Endpoint, str]
) -> None:
    hook, _ = endpoint
    (message,) = queue(hook, hooks.world.consortium_a)
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = []
    run = deliver(hook)
    assert (run.failed, run.retrying) == (1, 0)
    assert receiver.received == []
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED, "refused for good: no retry"
    assert "127.0.0.1 is a loopback address" in message.last_error
    # Registering such an endpoint is refused outright, naming the field.
    with pytest.raises(ValidationError) as refused:
        make_endpoint(hooks.world.chair, receiver.url())
    assert "url" in refused.value.message_dict


def _partner_endpoint(hooks: Hooks, url: str) -> Endpoint:
    """An endpoint on a host name (written directly: the service would want https)."""
    Destination.objects.create(
        consortium=hooks.world.consortium_a,
        host="hooks.partner.example",
        approved_by=hooks.world.chair,
    )
    endpoint, _ = make_endpoint(hooks.world.chair, "https://hooks.partner.example/in")
    Endpoint.objects.filter(pk=endpoint.pk).update(url=url)
    endpoint.refresh_from_db()
    return endpoint


@pytest.mark.parametrize(
    "answers", [["10.1.2.3"], ["93.184.216.34", "10.0.0.7"], ["169.254.169.254"]]
)
def test_a_host_resolving_to_a_private_address_is_refused_without_connecting(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch, answers: list[str]
) -> None:
    endpoint = _partner_endpoint(hooks, "https://hooks.partner.example/in")
    queue(endpoint, hooks.world.consortium_a, 2)
    monkeypatch.setattr(delivery, "resolve", lambda host, port: answers)

    def no_connection(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the guard let a connection through")

    monkeypatch.setattr(socket, "create_connection", no_connection)
    run = deliver(endpoint)
    assert run.failed == 2
    assert {m.status for m in Message.objects.all()} == {"failed"}
    assert all(
        "Refused: hooks.partner.example resolves to" in m.last_error for m in Message.objects.all()
    )


def test_the_connection_goes_to_the_vetted_address_without_resolving_again(
    hooks: Hooks, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = receiver.url().split(":")[2].split("/")[0]
    endpoint = _partner_endpoint(hooks, f"http://hooks.partner.example:{port}/hooks")
    queue(endpoint, hooks.world.consortium_a, 3)
    answers = [["127.0.0.1"], ["10.9.9.9"]]  # a rebinding DNS: the second answer is private
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[min(len(calls), 2) - 1]

    monkeypatch.setattr(delivery, "resolve", rebinding)
    assert deliver(endpoint).delivered == 3
    assert calls == ["hooks.partner.example"], "resolved once per run"
    assert {r.headers["host"] for r in receiver.received} == {f"hooks.partner.example:{port}"}


def test_a_redirect_is_not_followed(
    hooks: Hooks, receiver: Receiver, endpoint: tuple[Endpoint, str]
) -> None:
    hook, _ = endpoint
    receiver.answer("/hooks", (302, {"Location": receiver.url("/elsewhere")}, b""))
    (message,) = queue(hook, hooks.world.consortium_a)
    run = deliver(hook)
    assert run.retrying == 1
    assert [r.path for r in receiver.received] == ["/hooks"], "/elsewhere was never asked"
    message.refresh_from_db()
    assert message.status == Message.Status.PENDING
    assert message.last_status_code == 302
    assert "not followed" in message.last_error


def test_the_schedule_spans_about_three_days_with_bounded_jitter() -> None:
    assert delivery.MAX_ATTEMPTS == 10
    total = sum(RETRY_SCHEDULE, datetime.timedelta())
    assert datetime.timedelta(days=2.9) < total < datetime.timedelta(days=3.1)
    rng = random.Random(7)  # noqa: S311 - jitter, seeded
    for failures, step in enumerate(RETRY_SCHEDULE, start=1):
        waits = [delivery.retry_delay(failures, rng=rng) for _ in range(200)]
        assert all(w is not None and step * 0.8 <= w <= step * 1.2 for w in waits)
        assert len(set(waits)) > 150, "jittered, not fixed"
    assert delivery.retry_delay(len(RETRY_SCHEDULE) + 1) is None, "then it gives up"


def test_retry_after_is_honoured_when_longer_and_capped() -> None:
    now = datetime.datetime(2026, 12, 3, 12, tzinfo=datetime.UTC)
    rng = random.Random(1)  # noqa: S311 - jitter, seeded
    assert delivery.retry_after("120", now) == datetime.timedelta(seconds=120)
    assert delivery.retry_after("Thu, 03 Dec 2026 12:10:00 GMT", now) == datetime.timedelta(
        minutes=10
    )
    assert delivery.retry_after("soon", now) is None
    two_minutes = datetime.timedelta(seconds=120)
    assert delivery.retry_delay(1, two_minutes, rng=rng) == two_minutes  # longer than ~5 s
    shorter = delivery.retry_delay(3, two_minutes, rng=rng)  # ~30 min is longer
    assert shorter is not None
    assert shorter > datetime.timedelta(minutes=20)
    capped = delivery.retry_delay(1, datetime.timedelta(days=30), rng=rng)
    assert capped == delivery.RETRY_AFTER_CAP


def test_a_failed_attempt_is_retried_with_the_same_id_and_then_delivered(
    hooks: Hooks, receiver: Receiver, endpoint: tuple[Endpoint, str]
) -> None:
    hook, _ = endpoint
    receiver.answer("/hooks", (500, {}, b"database down"))
    (message,) = queue(hook, hooks.world.consortium_a)
    started = timezone.now()
    assert deliver(hook).retrying == 1
    message.refresh_from_db()
    assert (message.status, message.failures, message.last_status_code) == ("pending", 1, 500)
    wait = message.next_attempt_at - started
    assert datetime.timedelta(seconds=3.9) < wait < datetime.timedelta(seconds=6.5)
    assert deliver(hook).attempted == 0, "not due yet"
    with time_machine.travel(message.next_attempt_at + datetime.timedelta(seconds=1)):
        assert deliver(hook).delivered == 1
    assert receiver.ids() == [message.webhook_id, message.webhook_id]
    assert list(Attempt.objects.filter(message=message).values_list("number", "status_code")) == [
        (1, 500),
        (2, 204),
    ]
    assert Attempt.objects.get(message=message, number=1).response_excerpt == "database down"


def test_retry_after_from_the_receiver_sets_the_next_attempt(
    hooks: Hooks, receiver: Receiver, endpoint: tuple[Endpoint, str]
) -> None:
    hook, _ = endpoint
    receiver.answer("/hooks", (503, {"Retry-After": "120"}, b""))
    (message,) = queue(hook, hooks.world.consortium_a)
    started = timezone.now()
    deliver(hook)
    message.refresh_from_db()
    wait = message.next_attempt_at - started
    assert datetime.timedelta(seconds=119) < wait < datetime.timedelta(seconds=125)


def test_it_gives_up_after_the_last_step(
    hooks: Hooks, receiver: Receiver, endpoint: tuple[Endpoint, str]
) -> None:
    hook, _ = endpoint
    receiver.answer("/hooks", (500, {}, b""))
    (message,) = queue(hook, hooks.world.consortium_a)
    Message.objects.filter(pk=message.pk).update(failures=len(RETRY_SCHEDULE), attempts=9)
    run = deliver(hook)
    assert run.gave_up == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.GAVE_UP, 10)


def test_410_disables_the_endpoint_and_stops(
    hooks: Hooks, receiver: Receiver, endpoint: tuple[Endpoint, str]
) -> None:
    hook, _ = endpoint
    receiver.answer("/hooks", (410, {}, b"gone"))
    first, *rest = queue(hook, hooks.world.consortium_a, 3)
    run = deliver(hook)
    assert run.disabled
    assert run.failed == 1
    assert len(receiver.received) == 1
    hook.refresh_from_db()
    assert not hook.is_active
    assert "410" in hook.disabled_reason
    first.refresh_from_db()
    assert first.status == Message.Status.FAILED
    # The rest wait for the endpoint to be enabled again, untried.
    assert {
        (m.status, m.attempts) for m in Message.objects.filter(pk__in=[m.pk for m in rest])
    } == {("pending", 0)}
    event = AuditEvent.objects.filter(object_type="webhooks.endpoint", action="transition").get()
    assert event.actor_kind == "system"
    assert "410" in event.reason
    assert deliver(hook).attempted == 0, "a disabled endpoint gets nothing"


def test_an_unreachable_endpoint_fails_the_batch_without_a_timeout_each(
    hooks: Hooks, receiver: Receiver
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hook, _ = make_endpoint(hooks.world.chair, f"http://127.0.0.1:{port}/hooks")
    queue(hook, hooks.world.consortium_a, 4)
    started = time.monotonic()
    run = deliver(hook)
    assert time.monotonic() - started < 2
    assert (run.retrying, run.delivered) == (4, 0)
    assert set(Message.objects.values_list("status", "failures")) == {("pending", 1)}
    assert Attempt.objects.filter(error__startswith="Not sent:").count() == 3


def test_a_slow_receiver_times_out_and_is_retried(
    settings: Any, hooks: Hooks, endpoint: tuple[Endpoint, str]
) -> None:
    hook, _ = endpoint
    settings.WEBHOOK_READ_TIMEOUT = 0.3
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts, never answers
    Endpoint.objects.filter(pk=hook.pk).update(
        url=f"http://127.0.0.1:{listener.getsockname()[1]}/hooks"
    )
    (message,) = queue(hook, hooks.world.consortium_a)
    try:
        assert deliver(hook).retrying == 1
    finally:
        listener.close()
    message.refresh_from_db()
    assert "timed out" in message.last_error


def test_only_the_start_of_a_large_answer_is_read(
    settings: Any, hooks: Hooks, receiver: Receiver, endpoint: tuple[Endpoint, str]
) -> None:
    hook, _ = endpoint
    receiver.answer("/hooks", (200, {}, b"x" * 200_000))
    messages = queue(hook, hooks.world.consortium_a, 2)
    assert deliver(hook).delivered == 2
    excerpt = Attempt.objects.get(message=messages[0]).response_excerpt
    assert len(excerpt) == delivery.EXCERPT_CHARS


def test_a_consortium_that_withdraws_its_approval_stops_what_waits(
    hooks: Hooks, receiver: Receiver, endpoint: tuple[Endpoint, str]
) -> None:
    hook, _ = endpoint
    (message,) = queue(hook, hooks.world.consortium_a)
    services.destination_remove(actor=hooks.world.chair, destination=hooks.destination)
    assert deliver(hook).failed == 1
    assert receiver.received == []
    message.refresh_from_db()
    assert message.status == "failed"
    assert "no longer approves" in message.last_error
