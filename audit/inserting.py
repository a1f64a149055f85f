"""One PostgreSQL statement that inserts a new row and appends the audit event about it.

The compliance gate stores a decision and its event for every request a pipeline makes, and
a round trip to the database costs both ends more CPU than anything else the gate does. So
``audit.services`` sends the chain's lock and this statement in one round trip (between BEGIN
and COMMIT when the write is a transaction of its own). The event's place in its chain is only known under the lock, so PostgreSQL reads the
chain's head, numbers the event, stamps its time and computes its hash, with the recipe the
verifier recomputes it by (``audit.canonical.canonical_sql``).

The row is inserted only if the caller's precondition holds. When it does not, neither the
row nor the event is, and the statement returns no row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Field, Model

from alliance import compiled
from alliance.prepared import SessionStatement
from audit.canonical import canonical_sql
from audit.models import AuditEvent

# Stamped by PostgreSQL, in this order of columns.
_PLACE = ("sequence", "occurred_at", "prev_hash", "hash")


@dataclass(frozen=True)
class Statement:
    """The SQL, and what its parameters are, in order: ``row_fields``' values, the
    precondition's parameters, the chain, ``event_fields``' values and the genesis hash.

    Its one row, when the row was inserted: the row's key, then the event's id, sequence,
    time, previous hash and hash."""

    sql: str
    row_fields: list[Any]
    event_fields: tuple[str, ...]
    session: SessionStatement


_statements: dict[tuple[str, type[Model], frozenset[str], str | None], Statement] = {}


def row_and_event(
    model: type[Model], *, keyed_by_row: frozenset[str], precondition: str | None
) -> Statement:
    """The statement for a new ``model`` row. ``keyed_by_row`` names the event's id fields
    (``object_id``, ``related_object_id``) that are the new row's key, which only the insert
    draws. ``precondition`` is a query of one boolean (``audit.services.Precondition``)."""
    key = (connection.alias, model, keyed_by_row, precondition)
    found = _statements.get(key)
    if found is None:
        found = _statements[key] = _build(model, keyed_by_row, precondition)
    return found


def _build(model: type[Model], keyed_by_row: frozenset[str], precondition: str | None) -> Statement:
    quote = connection.ops.quote_name
    meta = model._meta
    assert meta.pk is not None
    row_key = quote(meta.pk.column)
    row_fields = compiled.insert_fields(model)
    event_fields = tuple(
        field
        for field in compiled.insert_fields(AuditEvent)
        if field.name not in _PLACE and field.name not in keyed_by_row
    )
    # Values in a SELECT list have no target column to take their type from: each is cast to
    # its column's type (varchar without its length, so that a value too long is refused by
    # the insert rather than cut short by the cast).
    row_values = ", ".join(f"CAST({_placeholder(field)} AS {_type(field)})" for field in row_fields)
    event_values = [
        f"CAST({_placeholder(field)} AS {_type(field)}) AS {quote(field.column)}"
        for field in event_fields
    ] + [f"new_row.{row_key}::text AS {quote(name)}" for name in sorted(keyed_by_row)]
    event_columns = [quote(field.column) for field in event_fields] + [
        quote(name) for name in sorted(keyed_by_row)
    ]
    event_table = quote(AuditEvent._meta.db_table)
    sql = f"""WITH new_row AS (
    INSERT INTO {quote(meta.db_table)} ({", ".join(quote(f.column) for f in row_fields)})
    SELECT {row_values} WHERE ({precondition or "SELECT true"})
    RETURNING {row_key}
), head AS (
    SELECT sequence, hash FROM {event_table} WHERE chain = %s ORDER BY sequence DESC LIMIT 1
), e AS (
    SELECT {", ".join(event_values)},
           coalesce((SELECT sequence FROM head), 0) + 1 AS sequence,
           clock_timestamp() AS occurred_at,
           coalesce((SELECT hash FROM head), %s) AS prev_hash
    FROM new_row
), event AS (
    INSERT INTO {event_table} ({", ".join(event_columns)}, {", ".join(_PLACE)})
    SELECT {", ".join(f"e.{column}" for column in event_columns)},
           e.sequence, e.occurred_at, e.prev_hash,
           encode(sha256(convert_to(e.prev_hash || {canonical_sql("e")}, 'UTF8')), 'hex')
    FROM e
    RETURNING id, {", ".join(_PLACE)}
)
SELECT new_row.{row_key}, event.* FROM new_row, event"""  # noqa: S608 - our own names
    return Statement(
        sql, row_fields, tuple(field.name for field in event_fields), SessionStatement(sql)
    )


def _placeholder(field: Field[Any, Any]) -> str:
    if hasattr(field, "get_placeholder"):
        return str(field.get_placeholder(None, None, connection))
    return "%s"


def _type(field: Field[Any, Any]) -> str:
    column_type = field.db_type(connection)
    assert column_type is not None, field
    return "text" if column_type.startswith("varchar") else column_type
