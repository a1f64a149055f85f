"""Idempotency-Key on POST: a retried create returns the first answer instead of writing twice.

A pipeline that times out on ``POST /api/v1/compliance/decisions/`` cannot tell whether the
decision was stored; sending the same request again with the same ``Idempotency-Key`` header
is then safe (the IETF httpapi draft "The Idempotency-Key HTTP Header Field", as Stripe and
others implement it):

* the first request with a key claims it (a row, committed before the work starts) and its
  answer (any status below 500) is kept for ``TTL``;
* the same key with the same method, path and body gets that answer again, marked
  ``Idempotent-Replayed: true``, and nothing is written;
* the same key with a different request is refused with 422; while the first request is
  still running, a retry gets 409 with ``Retry-After``;
* a server error (or a crash) releases the key, so a retry runs the request again.

Keys belong to the authenticated caller: two callers may use the same key.
"""

from __future__ import annotations

import datetime
import hashlib

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from alliance.models import IdempotencyRecord

HEADER = "Idempotency-Key"
TTL = datetime.timedelta(hours=24)
MAX_LENGTH = 255


class KeyInUse(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still running; retry shortly."
    default_code = "idempotency_key_in_use"


class KeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = (
        "This Idempotency-Key was first used with a different request; use a new key for a "
        "new request."
    )
    default_code = "idempotency_key_reused"


class Replayed(Exception):  # noqa: N818 - control flow (the stored answer), not an error
    """Raised to answer with the first request's stored response."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(record.key)
        self.record = record

    def response(self) -> Response:
        return Response(
            self.record.response,
            status=self.record.status,
            headers={"Idempotent-Replayed": "true"},
        )


def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.get_full_path()}\n".encode())
    digest.update(request._request.body)
    return digest.hexdigest()


def claim(request: Request) -> IdempotencyRecord | None:
    """Claim the request's key, or raise: Replayed, KeyReused, KeyInUse, or a 400 for a
    malformed key. None when the request carries no key (or is not a POST)."""
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None or not request.user.is_authenticated:
        return None
    if not 0 < len(key) <= MAX_LENGTH or not key.isprintable():
        raise ValidationError({HEADER: [f"Between 1 and {MAX_LENGTH} printable characters."]})
    fingerprint = _fingerprint(request)
    for _ in range(2):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    owner=request.user, key=key, fingerprint=fingerprint
                )
        except IntegrityError:
            found = IdempotencyRecord.objects.filter(owner=request.user, key=key).first()
        if found is None:
            continue  # released between our insert and our read: try again
        if found.created_at < timezone.now() - TTL:
            found.delete()
            continue
        if found.fingerprint != fingerprint:
            raise KeyReused()
        if found.status is None:
            raise KeyInUse()
        raise Replayed(found)
    raise KeyInUse()


def settle(record: IdempotencyRecord | None, response: Response) -> None:
    """Keep the answer for replays; a server error releases the key instead."""
    if record is None:
        return
    if response.status_code >= 500:
        release(record)
        return
    record.status = response.status_code
    record.response = response.data
    record.save(update_fields=["status", "response"])


def release(record: IdempotencyRecord | None) -> None:
    if record is not None:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()


def purge() -> int:
    """Delete the records past ``TTL``."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - TTL).delete()
    return deleted
