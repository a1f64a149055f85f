"""ETag and If-Match on the API's detail resources: no lost updates.

Every detail answer (a GET, and the answer to a PATCH or PUT, which share the row shape)
carries a strong ETag: the SHA-256 of its canonical JSON. A GET with a matching
``If-None-Match`` answers 304. A write (PATCH, PUT, DELETE, or a POST action on the object)
with ``If-Match`` is compared against the object's current representation with its row
locked, in the same transaction as the write: a client that read a stale version gets 412
and nothing is written, never a silent overwrite (RFC 9110 §13.1.1).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException

WRITES = frozenset({"PATCH", "PUT", "DELETE", "POST"})
READS = frozenset({"GET", "HEAD"})


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "The object changed since you read it (If-Match does not match its ETag): read it "
        "again and re-apply your change."
    )
    default_code = "precondition_failed"


def etag(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:40] + '"'


def listed(header: str) -> list[str]:
    """The entity tags of an If-Match or If-None-Match header."""
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def matches(header: str, current: str) -> bool:
    """Strong comparison (If-Match allows no weak tags): ``*`` or the current tag listed."""
    tags = listed(header)
    return "*" in tags or current in tags
