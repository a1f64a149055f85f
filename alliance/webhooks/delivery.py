"""Sending webhook messages over HTTP: the guard against server-side request forgery, one
keep-alive connection per endpoint, and the retry schedule. No database here.

The guard resolves the endpoint's host once per delivery run and refuses the run if any
address it resolves to is private, loopback, link-local, multicast, reserved or unspecified
(unless inside WEBHOOK_ALLOWED_PRIVATE_NETWORKS); the connection then goes to the vetted
address itself, so a second DNS answer cannot point it elsewhere (DNS rebinding). Redirects
are not followed, connecting and reading have their own timeouts, and at most
WEBHOOK_MAX_RESPONSE_BYTES of a response are read.
"""

from __future__ import annotations

import datetime
import email.utils
import functools
import http.client
import ipaddress
import random
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

USER_AGENT = "Alliance-Webhooks/1"
EXCERPT_CHARS = 1000

# Waits after the 1st, 2nd, ... failed attempt: 10 attempts over about three days (71.6 h
# before jitter), after the Standard Webhooks schedule. Each wait varies by +-20 % so that
# endpoints recovering from an outage are not hit by every retry at the same instant.
RETRY_SCHEDULE = tuple(
    datetime.timedelta(seconds=seconds)
    for seconds in (
        5,
        5 * 60,
        30 * 60,
        2 * 3600,
        5 * 3600,
        10 * 3600,
        14 * 3600,
        20 * 3600,
        20 * 3600,
    )
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
JITTER = 0.2
# A Retry-After longer than the computed wait is honoured up to this.
RETRY_AFTER_CAP = datetime.timedelta(hours=24)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Refused(Exception):  # noqa: N818 - an answer of the guard, not a failure of the code
    """The destination must not be contacted; retrying will not change that."""


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave."""

    delivered: bool
    status_code: int | None = None
    error: str = ""
    excerpt: str = ""
    duration_ms: int = 0
    retry_after: datetime.timedelta | None = None
    # Failed in a way a retry cannot fix (the guard refused): the message fails for good.
    refused: bool = False
    # Nothing reached the endpoint (DNS, connect, timeout): the rest of the batch waits too.
    unreachable: bool = False

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver asks for no more messages; the endpoint is disabled."""
        return self.status_code == 410


@functools.cache
def _networks(configured: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(network, strict=False) for network in configured)


def allowed_private_networks() -> tuple[Network, ...]:
    return _networks(tuple(getattr(settings, "WEBHOOK_ALLOWED_PRIVATE_NETWORKS", ())))


def address_refusal(address: Address) -> str | None:
    """Why the guard refuses ``address``, or None when it may be contacted."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in allowed_private_networks()):
        return None
    for kind in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(address, f"is_{kind}"):
            return f"{address} is a {kind.replace('_', '-')} address"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def literal_address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def may_use_plain_http(host: str) -> bool:
    """Plain http only to a host inside WEBHOOK_ALLOWED_PRIVATE_NETWORKS (a receiver on the
    deployment's own network, or a test's on 127.0.0.1): anywhere else, https."""
    address = literal_address(host)
    if address is None and host == "localhost":
        address = ipaddress.ip_address("127.0.0.1")
    return address is not None and any(address in network for network in allowed_private_networks())


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to now (tests replace this)."""
    found: list[str] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = str(sockaddr[0]).split("%", 1)[0]
        if address not in found:
            found.append(address)
    return found


def vetted_addresses(host: str, port: int) -> list[str]:
    """The addresses to connect to; Refused if any of them is not allowed. A host whose
    name resolves to several addresses is refused if one of them is forbidden, since the
    connection could otherwise be steered to that one."""
    addresses = resolve(host, port)
    if not addresses:
        raise OSError(f"{host} resolves to no address")
    for text in addresses:
        reason = address_refusal(ipaddress.ip_address(text))
        if reason is not None:
            raise Refused(f"Refused: {host} resolves to {reason}.")
    return addresses


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a vetted address, whatever the host name resolves to now."""

    def __init__(
        self, host: str, port: int, *, address: str, read_timeout: float, **kwargs: Any
    ) -> None:
        super().__init__(host, port, **kwargs)
        self.address = address
        self.read_timeout = read_timeout

    def _open(self) -> socket.socket:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.read_timeout)
        return sock

    def connect(self) -> None:
        self.sock = self._open()


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a vetted address; the certificate is still checked against the host name."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        address: str,
        read_timeout: float,
        context: ssl.SSLContext,
        **kwargs: Any,
    ) -> None:
        super().__init__(host, port, context=context, **kwargs)
        self.address = address
        self.read_timeout = read_timeout
        self.tls_context = context

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.read_timeout)
        self.sock = self.tls_context.wrap_socket(sock, server_hostname=self.host)


@functools.cache
def _tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_bundle:
        # A sovereign deployment's own CA, beside the system's roots.
        context.load_verify_locations(cafile=ca_bundle)
    return context


def tls_context() -> ssl.SSLContext:
    return _tls_context(getattr(settings, "WEBHOOK_CA_BUNDLE", None))


def retry_after(value: str | None, now: datetime.datetime) -> datetime.timedelta | None:
    """A Retry-After header as a wait: seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return datetime.timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(when - now, datetime.timedelta(0))


def retry_delay(
    failures: int,
    requested: datetime.timedelta | None = None,
    *,
    rng: random.Random | None = None,
) -> datetime.timedelta | None:
    """How long to wait after the ``failures``-th failed attempt, or None to give up: the
    schedule's step with +-20 % jitter, or the receiver's Retry-After when it is longer
    (up to RETRY_AFTER_CAP)."""
    if failures < 1 or failures > len(RETRY_SCHEDULE):
        return None
    step = RETRY_SCHEDULE[failures - 1]
    # Jitter spreads retries; it is no secret, so the ordinary generator does.
    factor = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    wait = step * factor
    if requested is not None:
        wait = max(wait, min(requested, RETRY_AFTER_CAP))
    return wait


class Sender:
    """POSTs to one endpoint URL over one keep-alive connection, for one delivery run.

    The host is resolved and vetted at the first POST; every later POST of the run goes to
    the same vetted address. Use as a context manager, or call ``close``.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.scheme = parts.scheme
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.addresses: list[str] | None = None
        self.refusal: str | None = None
        self.connection: http.client.HTTPConnection | None = None
        self.connect_timeout = float(settings.WEBHOOK_CONNECT_TIMEOUT)
        self.read_timeout = float(settings.WEBHOOK_READ_TIMEOUT)
        self.max_bytes = int(settings.WEBHOOK_MAX_RESPONSE_BYTES)

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _connect(self) -> http.client.HTTPConnection:
        assert self.addresses
        error: OSError | None = None
        for address in self.addresses:
            connection: http.client.HTTPConnection
            if self.scheme == "https":
                connection = _PinnedHTTPSConnection(
                    self.host,
                    self.port,
                    address=address,
                    read_timeout=self.read_timeout,
                    context=tls_context(),
                    timeout=self.connect_timeout,
                )
            else:
                connection = _PinnedHTTPConnection(
                    self.host,
                    self.port,
                    address=address,
                    read_timeout=self.read_timeout,
                    timeout=self.connect_timeout,
                )
            try:
                connection.connect()
            except OSError as failed:
                error = failed
                connection.close()
                continue
            # Later connections of this run go first to the address that answered.
            self.addresses.remove(address)
            self.addresses.insert(0, address)
            return connection
        assert error is not None
        raise error

    def _exchange(
        self, body: bytes, headers: Mapping[str, str]
    ) -> tuple[http.client.HTTPResponse, bytes]:
        reused = self.connection is not None
        for _ in range(2):
            if self.connection is None:
                self.connection = self._connect()
            try:
                self.connection.request("POST", self.target, body=body, headers=dict(headers))
                response = self.connection.getresponse()
                content = response.read(self.max_bytes + 1)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the receiver closed while idle: one fresh try. A
                # receiver that got it anyway deduplicates on webhook-id.
                self.close()
                if not reused:
                    raise
                reused = False
                continue
            if len(content) > self.max_bytes or not response.isclosed() or response.will_close:
                # Unread body left, or the receiver will close: this connection is done.
                self.close()
            return response, content[: self.max_bytes]
        raise ConnectionResetError("the connection was closed twice")

    def post(self, body: bytes, headers: Mapping[str, str]) -> Outcome:
        started = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        if self.refusal is not None:
            return Outcome(delivered=False, error=self.refusal, refused=True)
        try:
            if self.addresses is None:
                self.addresses = vetted_addresses(self.host, self.port)
        except Refused as refusal:
            self.refusal = str(refusal)
            return Outcome(delivered=False, error=self.refusal, refused=True)
        except OSError as error:
            return Outcome(
                delivered=False,
                error=f"Cannot resolve {self.host}: {error}"[:500],
                duration_ms=elapsed(),
                unreachable=True,
            )
        all_headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **headers,
        }
        try:
            response, content = self._exchange(body, all_headers)
        except ssl.SSLError as error:
            self.close()
            return Outcome(
                delivered=False,
                error=f"TLS: {error}"[:500],
                duration_ms=elapsed(),
                unreachable=True,
            )
        except (OSError, http.client.HTTPException) as error:
            self.close()
            text = str(error) or error.__class__.__name__
            return Outcome(
                delivered=False,
                error=f"{error.__class__.__name__}: {text}"[:500],
                duration_ms=elapsed(),
                unreachable=True,
            )
        status = response.status
        excerpt = content.decode("utf-8", errors="replace")[:EXCERPT_CHARS]
        if 200 <= status < 300:
            return Outcome(
                delivered=True, status_code=status, excerpt=excerpt, duration_ms=elapsed()
            )
        problem = f"HTTP {status}"
        if 300 <= status < 400:
            location = response.getheader("Location", "?")
            problem = f"HTTP {status}: redirect to {location} not followed"[:500]
        return Outcome(
            delivered=False,
            status_code=status,
            error=problem,
            excerpt=excerpt,
            duration_ms=elapsed(),
            retry_after=retry_after(
                response.getheader("Retry-After"), datetime.datetime.now(datetime.UTC)
            ),
        )
