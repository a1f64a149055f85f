"""Canonical bytes of an audit event, and its hash.

Modelled on RFC 8785 (JSON Canonicalization Scheme): keys sorted, no insignificant whitespace,
UTF-8. Only strings, integers, booleans, null, lists and objects appear: times are fixed-format
UTC strings and decimals are strings, so no floating-point formatting enters the hash.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Mapping
from typing import Any

HASHED_FIELDS = (
    "chain",
    "sequence",
    "occurred_at",
    "consortium_id",
    "actor_kind",
    "actor_id",
    "actor_display",
    "actor_organisation_id",
    "actor_organisation_display",
    "action",
    "object_type",
    "object_id",
    "object_display",
    "related_object_type",
    "related_object_id",
    "related_object_display",
    "changes",
    "request_id",
    "client_address",
    "user_agent",
    "outcome",
    "reason",
)


def format_time(moment: datetime.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(event: Mapping[str, Any]) -> bytes:
    document = {field: event[field] for field in HASHED_FIELDS}
    document["occurred_at"] = format_time(document["occurred_at"])
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def event_hash(prev_hash: str, event: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_bytes(event)).hexdigest()
