"""A real HTTP receiver on 127.0.0.1 and the people and rows webhook tests start from.

``receiver`` is an ``http.server`` in a thread (HTTP/1.1, so connections are kept alive) that
records every request and answers 204 unless a test scripted other answers for a path.
``hooks`` gives Member Org an administrator (``member_admin``) and Chair Org a person who is
not one (``chair_colleague``); consortium A approves 127.0.0.1, where the receiver listens.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from alliance.webhooks import events, services
from alliance.webhooks.models import Attempt, Destination, Endpoint, Event, Message
from audit.models import AuditEvent
from consortia.models import User

# Fixtures of the domain tests, for webhooks produced by real domain actions.
from tests.agreements.conftest import deal  # noqa: F401
from tests.compute.compliance.conftest import compliance, transfer_bases  # noqa: F401
from tests.compute.conftest import grid  # noqa: F401
from tests.conftest import World
from tests.consortia.factories import UserFactory

ALL_TYPES = list(events.CATALOGUE)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    client: tuple[str, int]


@dataclass
class Receiver:
    """Records requests; answers each path's scripted responses in turn, then 204."""

    received: list[Received] = field(default_factory=list)
    script: dict[str, list[tuple[int, dict[str, str], bytes]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def url(self, path: str = "/hooks") -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def answer(self, path: str, *responses: tuple[int, dict[str, str], bytes]) -> None:
        self.script.setdefault(path, []).extend(responses)

    def next_answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            queued = self.script.get(path)
            return queued.pop(0) if queued else (204, {}, b"")

    def record(self, received: Received) -> None:
        with self.lock:
            self.received.append(received)

    def ids(self, path: str | None = None) -> list[str]:
        return [r.headers["webhook-id"] for r in self.received if path in (None, r.path)]

    def types(self) -> list[str]:
        import json

        return [json.loads(r.body)["type"] for r in self.received]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.record(
                Received(
                    self.path,
                    {name.lower(): value for name, value in self.headers.items()},
                    body,
                    (str(self.client_address[0]), int(self.client_address[1])),
                )
            )
            status, headers, payload = receiver.next_answer(self.path)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    server.daemon_threads = True
    found.server = server
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


@dataclass
class Hooks:
    world: World
    member_admin: User
    chair_colleague: User
    destination: Destination


@pytest.fixture
def hooks(world: World) -> Hooks:
    member_admin = UserFactory.create(
        username="member_admin", organisation=world.org_member, is_organisation_admin=True
    )
    chair_colleague = UserFactory.create(username="chair_colleague", organisation=world.org_chair)
    destination = services.destination_approve(
        actor=world.chair, consortium=world.consortium_a, host="127.0.0.1"
    )
    return Hooks(world, member_admin, chair_colleague, destination)


def make_endpoint(
    admin: User, url: str, event_types: list[str] | None = None
) -> tuple[Endpoint, str]:
    assert admin.organisation is not None
    return services.endpoint_create(
        actor=admin,
        organisation=admin.organisation,
        url=url,
        event_types=event_types or ALL_TYPES,
        description="Test receiver",
    )


def webhook_state() -> tuple[Any, ...]:
    """Every webhook row and every successful audit event: a refused request changes none."""
    return (
        *(
            list(model.objects.order_by("pk").values())
            for model in (Destination, Endpoint, Event, Message, Attempt)
        ),
        list(
            AuditEvent.objects.filter(outcome="success")
            .exclude(action__in=["login", "logout", "view", "list"])  # reads change nothing
            .values_list("pk", flat=True)
        ),
    )


@pytest.fixture
def nothing_written() -> Callable[[], Any]:
    from contextlib import contextmanager

    @contextmanager
    def check() -> Iterator[None]:
        before = webhook_state()
        try:
            yield
        finally:
            assert webhook_state() == before, "a refused request wrote something"

    return check
