"""Fault: a webhook receiver is down for an hour while events keep coming.

Down means either nothing listens on its port (connections refused) or it answers 503 with
a Retry-After of 15 minutes. Meanwhile every attempt must be written to the delivery log and
spaced by the retry schedule; once it is back, every event must arrive exactly once, signed,
and none may be marked failed or given up.

The hour passes on a moved clock (time-machine), one minute at a time, and each minute runs
the task that beat runs each minute (``webhooks_sweep``), which wakes the delivery tasks;
tasks run in this process. A real worker is not used because its clock, in a process of its
own, cannot be moved, and an hour of real time is no test. The receiver is a real HTTP
server on 127.0.0.1, taken down and brought back on the same port.
"""

from __future__ import annotations

import datetime
import itertools
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from alliance.webhooks import signing
from alliance.webhooks.delivery import JITTER, RETRY_SCHEDULE
from alliance.webhooks.models import Attempt, Message
from alliance.webhooks.tasks import webhooks_sweep
from tests.faults.conftest import Summary
from tests.webhooks.conftest import Hooks, Receiver, _handler, make_endpoint
from tests.webhooks.test_delivery import queue

OUTAGE = datetime.timedelta(hours=1)
TICK = datetime.timedelta(minutes=1)  # beat runs the sweeper every minute
# The schedule's last step is 20 h: the receiver is back long before, so everything that
# waited must arrive within the next few steps.
GIVE_UP_AFTER = datetime.timedelta(hours=6)
RETRY_AFTER = datetime.timedelta(minutes=15)
EVENTS_AT_START = 5
EVENT_EVERY = datetime.timedelta(minutes=10)  # more events while it is down


class Switchable:
    """The webhooks tests' receiver, which can be taken off its port and put back."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
        self.port = int(self.server.server_address[1])
        self._serve()

    def _serve(self) -> None:
        self.server.daemon_threads = True
        self.receiver.server = self.server
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def down(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def up(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self.receiver))
        self._serve()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def switchable() -> Iterator[Switchable]:
    server = Switchable(Receiver())
    yield server
    server.close()


def expected_wait(failures: int, retry_after: datetime.timedelta | None) -> tuple[float, float]:
    """The shortest and longest gap in seconds after the ``failures``-th failure: the
    jittered step (or the receiver's Retry-After when longer), plus up to one sweeper tick."""
    step = RETRY_SCHEDULE[failures - 1].total_seconds()
    low, high = step * (1 - JITTER), step * (1 + JITTER)
    if retry_after is not None:
        low, high = max(low, retry_after.total_seconds()), max(high, retry_after.total_seconds())
    return low, high + TICK.total_seconds()


@pytest.mark.parametrize("outage", ["connection refused", "503 with Retry-After"])
def test_a_receiver_down_for_an_hour_gets_every_event_once_when_it_is_back(
    hooks: Hooks, switchable: Switchable, summary: Summary, outage: str
) -> None:
    receiver = switchable.receiver
    refused = outage == "connection refused"
    retry_after = None if refused else RETRY_AFTER
    endpoint, secret = make_endpoint(
        hooks.member_admin, f"http://127.0.0.1:{switchable.port}/hooks"
    )
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        if refused:
            switchable.down()
        else:
            receiver.answer(
                "/hooks",
                *itertools.repeat(
                    (503, {"Retry-After": str(int(RETRY_AFTER.total_seconds()))}, b""), 10_000
                ),
            )
        messages = queue(endpoint, hooks.world.consortium_a, EVENTS_AT_START)
        while timezone.now() < start + OUTAGE:
            clock.shift(TICK)
            if (timezone.now() - start) % EVENT_EVERY == datetime.timedelta(0):
                messages += queue(endpoint, hooks.world.consortium_a)
            webhooks_sweep()
        during_outage = list(Attempt.objects.filter(message__endpoint=endpoint))
        seen_while_down = len(receiver.received)

        if refused:
            switchable.up()
        else:
            receiver.script.clear()
        back_at = timezone.now()
        while (
            Message.objects.filter(endpoint=endpoint, status=Message.Status.PENDING).exists()
            and timezone.now() < back_at + GIVE_UP_AFTER
        ):
            clock.shift(TICK)
            webhooks_sweep()
        waited = timezone.now() - back_at

    arrived = receiver.received[seen_while_down:]
    ids = [request.headers["webhook-id"] for request in arrived]
    statuses = sorted(
        set(Message.objects.filter(endpoint=endpoint).values_list("status", flat=True))
    )
    summary.update(
        events=len(messages),
        failed_attempts_while_down=len(during_outage),
        arrived=len(ids),
        distinct=len(set(ids)),
        statuses="/".join(statuses),
        minutes_to_drain_after_back=int(waited.total_seconds() // 60),
    )
    # Every attempt while down failed, was logged, and (503) matches what the receiver saw.
    assert during_outage
    assert not any(attempt.delivered for attempt in during_outage)
    assert seen_while_down == (0 if refused else len(during_outage))
    first_ones = {message.pk for message in messages[:EVENTS_AT_START]}
    for message_id in first_ones:
        # Within the hour the schedule tries at 0, ~5 s, ~5 min and ~30 min.
        assert sum(attempt.message_id == message_id for attempt in during_outage) >= 3
    # Every event arrived exactly once, signed with the endpoint's secret.
    assert statuses == [Message.Status.DELIVERED]
    assert sorted(ids) == sorted(message.webhook_id for message in messages)
    assert len(set(ids)) == len(ids) == len(messages)
    for request in arrived:
        signing.verify(
            secret,
            request.headers,
            request.body,
            now=float(request.headers["webhook-timestamp"]),
        )
    # The log holds every attempt, spaced by the schedule.
    spacing_checked = 0
    for message in Message.objects.filter(endpoint=endpoint):
        log: list[Any] = list(message.attempt_log.order_by("number"))
        assert [attempt.number for attempt in log] == list(range(1, message.attempts + 1))
        assert [attempt.delivered for attempt in log] == [False] * (len(log) - 1) + [True]
        assert log[-1].started_at >= back_at
        for failures, (before, after) in enumerate(itertools.pairwise(log), start=1):
            low, high = expected_wait(failures, retry_after)
            gap = (after.started_at - before.started_at).total_seconds()
            assert low <= gap <= high, (message.pk, failures, gap, low, high)
            spacing_checked += 1
    summary["retry_gaps_checked"] = spacing_checked
