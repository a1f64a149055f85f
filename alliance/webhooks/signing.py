"""Standard Webhooks signatures (https://www.standardwebhooks.com/), standard library only.

A secret is ``whsec_`` followed by base64 of 32 random bytes. A message is signed as
``v1,<base64 HMAC-SHA256(secret bytes, "<webhook-id>.<webhook-timestamp>.<body>")>``; while a
rotated secret overlaps with its successor, ``webhook-signature`` carries both signatures,
space-separated, and a receiver accepts the message if any of them matches.

``verify`` is what a receiver runs: this module imports nothing from Alliance or Django, so a
partner may copy it as it is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping, MutableSet

PREFIX = "whsec_"
SECRET_BYTES = 32
TOLERANCE_SECONDS = 5 * 60


class WebhookVerificationError(Exception):
    """The message must not be trusted; the text says why."""


def generate_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_bytes(secret: str) -> bytes:
    """The key bytes of a ``whsec_`` secret (a bare base64 string is accepted too)."""
    encoded = secret.removeprefix(PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error as error:
        raise ValueError("A webhook secret is whsec_ followed by base64.") from error


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature of the message."""
    content = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(
    secrets_in_use: Iterable[str], webhook_id: str, timestamp: int, body: bytes
) -> str:
    """The ``webhook-signature`` value: one signature per secret in use, space-separated."""
    return " ".join(sign(secret, webhook_id, timestamp, body) for secret in secrets_in_use)


def headers(
    secrets_in_use: Iterable[str], webhook_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_in_use, webhook_id, timestamp, body),
    }


def verify(
    secrets_accepted: str | Iterable[str],
    message_headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
    seen_ids: MutableSet[str] | None = None,
) -> str:
    """Check a received message; return its ``webhook-id`` or raise WebhookVerificationError.

    Refuses a missing header, a timestamp more than ``tolerance`` seconds from ``now`` (an
    old message replayed later), and a body or id that no accepted secret signed. With
    ``seen_ids`` (ids already processed, kept at least ``tolerance`` seconds), a message seen
    before is refused too: retries and replays reuse the id, so processing it again would be
    a duplicate. Signatures are compared in constant time.
    """
    lowered = {name.lower(): value for name, value in message_headers.items()}
    try:
        webhook_id = lowered["webhook-id"]
        timestamp_text = lowered["webhook-timestamp"]
        signatures = lowered["webhook-signature"]
    except KeyError as missing:
        raise WebhookVerificationError(f"Missing header {missing.args[0]}.") from None
    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a number.") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError("webhook-timestamp is outside the tolerance.")
    candidates = [secrets_accepted] if isinstance(secrets_accepted, str) else secrets_accepted
    expected = [
        sign(secret, webhook_id, timestamp, body).partition(",")[2] for secret in candidates
    ]
    received = [
        value
        for version, _, value in (part.partition(",") for part in signatures.split())
        if version == "v1"
    ]
    # Every pair is compared, so the time taken does not say which one matched.
    matched = False
    for signature in received:
        for wanted in expected:
            matched |= hmac.compare_digest(signature.encode(), wanted.encode())
    if not matched:
        raise WebhookVerificationError("No signature matches.")
    if seen_ids is not None:
        if webhook_id in seen_ids:
            raise WebhookVerificationError("This webhook-id was already processed.")
        seen_ids.add(webhook_id)
    return webhook_id
