"""Webhook fan-out at size: N events to M endpoints on a local receiver, delivered by a real
Celery worker, against a floor of plain keep-alive HTTP POSTs to the same receiver.

The path measured is production's: each event is recorded with ``audit_record`` in its own
transaction (what every service does), the audit hook fans it out on commit (one query for
the subscribers, the event and its M messages inserted in bulk, the endpoints woken), and a
Celery worker with 2 processes on Redis delivers: one task per endpoint at a time, claiming
batches of due messages and sending them over one kept-alive connection, signed.

The receiver runs in its own process (asyncio, HTTP/1.1 keep-alive): it verifies every
signature with the endpoint's secret, deduplicates on ``webhook-id`` and counts. The floor
is the same number of POSTs of the same size sent by 2 processes with ``http.client`` over
keep-alive connections to the same receiver, with nothing else running: what HTTP alone costs
on this machine.

Run by bench/run.py as ``python -m bench.webhooks_fanout`` on a fresh, migrated database
(DATABASE_URL, REDIS_URL, DJANGO_SETTINGS_MODULE set); prints progress, then one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ORGANISATIONS = 5
EVENT_TYPE = "motion.opened"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# The receiver ----------------------------------------------------------------------------------


class Counts:
    def __init__(self) -> None:
        self.received = 0
        self.duplicates = 0
        self.bad_signatures = 0
        self.floor = 0
        self.seen: set[str] = set()
        self.secrets: dict[str, bytes] = {}
        self.first_at = 0.0
        self.last_at = 0.0


def _signed_by(secret: bytes, headers: dict[str, str], body: bytes) -> bool:
    content = f"{headers.get('webhook-id')}.{headers.get('webhook-timestamp')}.".encode() + body
    expected = base64.b64encode(hmac.new(secret, content, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(part.partition(",")[2], expected)
        for part in headers.get("webhook-signature", "").split()
    )


class ReceiverProtocol(asyncio.Protocol):
    """A minimal HTTP/1.1 server: enough for keep-alive POSTs and two control requests."""

    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            self.handle(head[0].split(" ")[:2], headers, body)

    def answer(self, status: str, payload: bytes = b"") -> None:
        assert self.transport is not None
        self.transport.write(
            f"HTTP/1.1 {status}\r\nContent-Length: {len(payload)}\r\n\r\n".encode() + payload
        )

    def handle(self, request: list[str], headers: dict[str, str], body: bytes) -> None:
        _method, path = request
        counts = self.counts
        if path == "/stats":
            stats = {
                "received": counts.received,
                "unique": len(counts.seen),
                "duplicates": counts.duplicates,
                "bad_signatures": counts.bad_signatures,
                "floor": counts.floor,
                "first_at": counts.first_at,
                "last_at": counts.last_at,
            }
            self.answer("200 OK", json.dumps(stats).encode())
        elif path == "/secrets":
            counts.secrets.update(
                {key: base64.b64decode(value) for key, value in json.loads(body).items()}
            )
            self.answer("204 No Content")
        elif path.startswith("/floor"):
            counts.floor += 1
            self.answer("204 No Content")
        else:
            counts.received += 1
            webhook_id = headers.get("webhook-id", "")
            secret = counts.secrets.get(path)
            if secret is None or not _signed_by(secret, headers, body):
                counts.bad_signatures += 1
            if webhook_id in counts.seen:
                counts.duplicates += 1  # a receiver that deduplicates ignores it
            else:
                counts.seen.add(webhook_id)
            counts.last_at = time.time()
            counts.first_at = counts.first_at or counts.last_at
            self.answer("204 No Content")


async def _serve(port_file: str) -> None:
    counts = Counts()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: ReceiverProtocol(counts), "127.0.0.1", 0)
    Path(port_file).write_text(str(server.sockets[0].getsockname()[1]))
    async with server:
        await server.serve_forever()


def _control(port: int, path: str, body: bytes | None = None) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, method="POST" if body else "GET"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        payload = answer.read()
    return json.loads(payload) if payload else None


# The floor -------------------------------------------------------------------------------------


def _floor_client(port: int, count: int, body: bytes, headers: dict[str, str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    for number in range(count):
        connection.request(
            "POST", "/floor", body=body, headers={**headers, "webhook-id": f"f{number}"}
        )
        response = connection.getresponse()
        response.read()
    connection.close()


def floor(port: int, count: int, body: bytes, processes: int = 2) -> float:
    """POSTs per second: ``count`` POSTs shared by ``processes`` keep-alive clients."""
    headers = {
        "content-type": "application/json",
        "user-agent": "floor",
        "webhook-timestamp": str(int(time.time())),
        "webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode(),
    }
    share = count // processes
    clients = [
        multiprocessing.Process(target=_floor_client, args=(port, share, body, headers))
        for _ in range(processes)
    ]
    started = time.monotonic()
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    return share * processes / (time.monotonic() - started)


# The measured path -----------------------------------------------------------------------------


def _worker(queue: str, processes: int) -> None:
    """A Celery worker on this run's own queue (its own enqueues go there too)."""
    import django

    django.setup()
    from alliance.celery import app

    app.conf.task_default_queue = queue
    app.worker_main(
        [
            "worker",
            "--loglevel=WARNING",
            f"--concurrency={processes}",
            "--prefetch-multiplier=1",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )


def setup(port: int, endpoints: int) -> tuple[int, list[Any]]:
    """A consortium with ORGANISATIONS member organisations, the receiver's host approved,
    and ``endpoints`` endpoints (through the service) spread over the organisations."""
    import datetime

    from django.core.cache import cache

    from alliance.webhooks import services
    from consortia.models import Consortium, Membership, Organisation, Role, RoleAssignment, User

    consortium = Consortium.objects.create(
        name=f"Webhook bench {uuid.uuid4().hex[:6]}",
        partnership_model_id="joint_development",
        home_jurisdiction_id="EU",
        status=Consortium.Status.OPERATIONAL,
    )
    admins = []
    for number in range(ORGANISATIONS):
        organisation = Organisation.objects.create(
            name=f"Bench organisation {consortium.pk}-{number}",
            kind=Organisation.Kind.COMPANY,
            home_jurisdiction_id="DE",
            registration_id=f"WH-{consortium.pk}-{number}",
        )
        Membership.objects.create(
            consortium=consortium,
            organisation=organisation,
            status=Membership.Status.ACTIVE,
            joined_on=datetime.date(2026, 1, 1),
        )
        admins.append(
            User.objects.create(
                username=f"wh-{consortium.pk}-{number}",
                organisation=organisation,
                is_organisation_admin=True,
            )
        )
    RoleAssignment.objects.create(consortium=consortium, user=admins[0], role=Role.CHAIR)
    services.destination_approve(actor=admins[0], consortium=consortium, host="127.0.0.1")
    secrets, ids = {}, []
    for number in range(endpoints):
        path = f"/endpoint/{number}"
        endpoint, secret = services.endpoint_create(
            actor=admins[number % ORGANISATIONS],
            organisation=admins[number % ORGANISATIONS].organisation,  # type: ignore[arg-type]
            url=f"http://127.0.0.1:{port}{path}",
            event_types=[EVENT_TYPE],
        )
        secrets[path] = secret.removeprefix("whsec_")
        ids.append(endpoint.pk)
    _control(port, "/secrets", json.dumps(secrets).encode())
    # A previous run's wake marks (same ids in a fresh database) must not hold this one back.
    cache.delete_many([services.wake_key(pk) for pk in ids])
    return consortium.pk, ids


def _record_share(consortium_id: int, numbers: range) -> None:
    from django.db import connection, transaction

    from audit.models import Action
    from audit.services import audit_record

    for number in numbers:
        with transaction.atomic():
            audit_record(
                action=Action.CREATE,
                actor=None,
                consortium_id=consortium_id,
                object_type="consortia.motion",
                object_id=str(number + 1),
                object_display=f"Motion {number + 1}: bench",
                changes={"kind": {"before": None, "after": "general"}},
            )
    connection.close()


def record(consortium_id: int, events: int, producers: int) -> float:
    """Record ``events`` audit events of the type the endpoints want, one transaction each,
    as services do, from ``producers`` processes (a web tier's workers); the audit hook fans
    each out on commit in the process that recorded it. Returns the seconds taken."""
    from django.db import connections

    connections.close_all()  # each process opens its own
    fork = multiprocessing.get_context("fork")
    shares = [
        fork.Process(target=_record_share, args=(consortium_id, range(i, events, producers)))
        for i in range(producers)
    ]
    started = time.monotonic()
    for share in shares:
        share.start()
    for share in shares:
        share.join()
        if share.exitcode != 0:
            sys.exit("a producer failed")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--endpoints", type=int, default=50)
    parser.add_argument("--producers", type=int, default=2, help="Processes recording events.")
    parser.add_argument("--worker-processes", type=int, default=2)
    parser.add_argument(
        "--floor-posts",
        type=int,
        default=100_000,
        help="Plain POSTs timed for the floor (a rate: it needs no more to be stable).",
    )
    parser.add_argument("--timeout", type=int, default=900, help="Seconds to wait for the drain.")
    parser.add_argument("--receive", metavar="PORT_FILE", help=argparse.SUPPRESS)
    parser.add_argument("--worker", metavar="QUEUE", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.receive:
        asyncio.run(_serve(arguments.receive))
        return
    if arguments.worker:
        _worker(arguments.worker, arguments.worker_processes)
        return

    import django

    django.setup()
    from django.db.models import Count

    from alliance.celery import app
    from alliance.webhooks.models import Message

    expected = arguments.events * arguments.endpoints
    port_file = Path(f"/tmp/alliance-webhook-receiver-{os.getpid()}.port")  # noqa: S108
    receiver = subprocess.Popen(
        [sys.executable, "-m", "bench.webhooks_fanout", "--receive", str(port_file)], cwd=ROOT
    )
    worker: subprocess.Popen[bytes] | None = None
    try:
        deadline = time.monotonic() + 10
        while not (port_file.exists() and port_file.read_text()):
            if time.monotonic() > deadline:
                sys.exit("the receiver did not start")
            time.sleep(0.05)
        port = int(port_file.read_text())
        body = json.dumps({"type": EVENT_TYPE, "data": {"pad": "x" * 600}}).encode()

        log(f"floor: {arguments.floor_posts:,} plain keep-alive POSTs from 2 processes")
        floor_rate = floor(port, arguments.floor_posts, body)
        log(f"  {floor_rate:,.0f} POSTs/s")

        consortium_id, endpoint_ids = setup(port, arguments.endpoints)
        queue = f"bench-webhooks-{uuid.uuid4().hex}"
        app.conf.task_default_queue = queue

        log(f"fan-out: {arguments.events:,} events to {arguments.endpoints} endpoints")
        recording_s = record(consortium_id, arguments.events, arguments.producers)
        created = Message.objects.filter(endpoint_id__in=endpoint_ids).count()
        log(f"  {recording_s:.1f} s, {created:,} messages")

        log(f"delivery: a Celery worker ({arguments.worker_processes} processes) drains them")
        started = time.monotonic()
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.webhooks_fanout",
                "--worker",
                queue,
                "--worker-processes",
                str(arguments.worker_processes),
            ],
            cwd=ROOT,
        )
        stats: dict[str, Any] = {}
        while time.monotonic() - started < arguments.timeout:
            stats = _control(port, "/stats")
            if stats["unique"] >= expected:
                break
            time.sleep(0.5)
        wall_s = time.monotonic() - started
        # A straggler sent twice (a retry after a lost answer) would still arrive: look once
        # more after a pause.
        time.sleep(2)
        stats = _control(port, "/stats")
        statuses = dict(
            Message.objects.filter(endpoint_id__in=endpoint_ids)
            .order_by()
            .values_list("status")
            .annotate(count=Count("id"))
            .values_list("status", "count")
        )
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        receiver.terminate()
        receiver.wait(5)
        port_file.unlink(missing_ok=True)

    # From the first delivery to the last: the worker's start-up (imports) is not delivery.
    delivering_s = max(stats["last_at"] - stats["first_at"], 0.001)
    rate = stats["received"] / delivering_s
    print(
        json.dumps(
            {
                "events": arguments.events,
                "endpoints": arguments.endpoints,
                "producers": arguments.producers,
                "worker_processes": arguments.worker_processes,
                "expected": expected,
                "messages_created": created,
                "unique": stats["unique"],
                "lost": expected - stats["unique"],
                "duplicates": stats["duplicates"],
                "bad_signatures": stats["bad_signatures"],
                "statuses": statuses,
                "fan_out_s": recording_s,
                "events_per_s": arguments.events / recording_s,
                "messages_per_s": created / recording_s,
                "delivering_s": delivering_s,
                "drain_wall_s": wall_s,
                "deliveries_per_s": rate,
                "floor_per_s": floor_rate,
                "floor_posts": arguments.floor_posts,
                "ratio": rate / floor_rate,
            }
        )
    )


if __name__ == "__main__":
    main()
