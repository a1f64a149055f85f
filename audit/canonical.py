"""Canonical bytes of an audit event, and its hash.

The canonical form is a JSON object of the hashed fields, modelled on RFC 8785 (JSON
Canonicalization Scheme): keys in code-point order, no insignificant whitespace, UTF-8,
strings escaped as JSON requires and nothing more. Only strings, integers, booleans, null,
lists and objects appear: times are fixed-format UTC strings and decimals are strings, so no
floating-point formatting enters the hash. ``changes`` is stored already canonical, so it is
spliced in as stored.

    hash = sha256(prev_hash + canonical_bytes(event)), hex

The document is built field by field in a fixed order, which is both faster than sorting a
dict per event and, through ``canonical_sql``, the same recipe that PostgreSQL follows when
it verifies a chain in one query.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring
from typing import Any


def format_time(moment: datetime.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    # isoformat, not strftime("%Y-%m-%dT%H:%M:%S.%fZ"): the same text in a sixth of the time.
    utc = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


# One encoder for every event: json.dumps with these options builds a new one each call.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: Any) -> str:
    """Canonical JSON of a JSON-safe value (see audit.services.json_safe)."""
    return _CANONICAL.encode(value)


def _string(value: str) -> str:
    return encode_basestring(value)


def _integer(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def _optional_string(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _time(value: datetime.datetime) -> str:
    return '"' + format_time(value) + '"'


def _raw(value: str) -> str:
    return value


# How PostgreSQL writes the same value ({} is the column): to_json escapes strings exactly as
# json.dumps(ensure_ascii=False) does; host() prints an address as Django stores it.
_SQL_STRING = "to_json({})::text"
_SQL_INTEGER = "coalesce({}::text, 'null')"
_SQL_ADDRESS = "coalesce(to_json(host({}))::text, 'null')"
_SQL_TIME = """'"' || to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'"""
_SQL_RAW = "{}"

# (field, how Python writes it, how SQL writes it), in code-point order of the field names.
_FIELDS: tuple[tuple[str, Callable[[Any], str], str], ...] = (
    ("action", _string, _SQL_STRING),
    ("actor_display", _string, _SQL_STRING),
    ("actor_id", _string, _SQL_STRING),
    ("actor_kind", _string, _SQL_STRING),
    ("actor_organisation_display", _string, _SQL_STRING),
    ("actor_organisation_id", _integer, _SQL_INTEGER),
    ("chain", _string, _SQL_STRING),
    ("changes", _raw, _SQL_RAW),
    ("client_address", _optional_string, _SQL_ADDRESS),
    ("consortium_id", _integer, _SQL_INTEGER),
    ("object_display", _string, _SQL_STRING),
    ("object_id", _string, _SQL_STRING),
    ("object_type", _string, _SQL_STRING),
    ("occurred_at", _time, _SQL_TIME),
    ("outcome", _string, _SQL_STRING),
    ("reason", _string, _SQL_STRING),
    ("related_object_display", _string, _SQL_STRING),
    ("related_object_id", _string, _SQL_STRING),
    ("related_object_type", _string, _SQL_STRING),
    ("request_id", _string, _SQL_STRING),
    ("sequence", _integer, _SQL_INTEGER),
    ("user_agent", _string, _SQL_STRING),
)
HASHED_FIELDS = tuple(name for name, _, _ in _FIELDS)
_PREFIXES = tuple(
    ("{" if index == 0 else ",") + f'"{name}":' for index, (name, _, _) in enumerate(_FIELDS)
)


def canonical_text(event: Mapping[str, Any]) -> str:
    return (
        "".join(
            [
                prefix + write(event[name])
                for prefix, (name, write, _) in zip(_PREFIXES, _FIELDS, strict=True)
            ]
        )
        + "}"
    )


def canonical_sql(alias: str) -> str:
    """A PostgreSQL expression that yields ``canonical_text`` of the row ``alias``: the same
    recipe, written inline so the planner evaluates it without a function call per row."""
    parts = [
        "'" + prefix + "' || " + template.format(f"{alias}.{name}")
        for prefix, (name, _, template) in zip(_PREFIXES, _FIELDS, strict=True)
    ]
    return "(" + " || ".join(parts) + " || '}')"


def canonical_bytes(event: Mapping[str, Any]) -> bytes:
    return canonical_text(event).encode("utf-8")


def event_hash(prev_hash: str, event: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_text(event)).encode("utf-8")).hexdigest()
