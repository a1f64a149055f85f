"""Recording audit events. ``audit_record`` is the one way in.

Services call it inside their own transaction, so an event exists if and only if the change
it describes committed. Appends to one chain are serialised by a transaction-scoped lock, so
sequences are gapless and chain order is commit order.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Required, TypedDict, Unpack

from django.conf import settings
from django.db import (
    DatabaseError,
    IntegrityError,
    ProgrammingError,
    connection,
    models,
    transaction,
)
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from alliance import compiled
from alliance.copy_insert import copy_insert, new_instance
from alliance.prepared import is_unknown_statement
from audit import context, inserting
from audit.canonical import canonical_json, event_hash
from audit.models import (
    GENESIS_HASH,
    PLATFORM_CHAIN,
    Action,
    ActorKind,
    AuditCheckpoint,
    AuditEvent,
    Outcome,
    consortium_chain,
)

# Field names whose values never enter an event, whatever model they belong to.
SECRET_FIELD_MARKERS = ("password", "secret", "token", "digest", "private_key", "api_key")

JSONValue = str | int | bool | None | list["JSONValue"] | dict[str, "JSONValue"]


def is_secret_field(name: str) -> bool:
    lowered = name.lower()
    return any(marker in lowered for marker in SECRET_FIELD_MARKERS)


def json_safe(value: Any) -> JSONValue:
    """A value as it enters the hash: no floats, no naive times, no model instances."""
    if value is None or isinstance(value, bool | int | str):
        return value
    # A plain dict before the slower tests below (Mapping is an abstract class), and its
    # plain strings as they are: a sweep's events hold millions of them.
    if type(value) is dict:
        return {
            key if type(key) is str else str(key): item
            if type(item) is str or item is None
            else json_safe(item)
            for key, item in value.items()
        }
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | float | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return json_safe(value.pk)
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, Iterable):
        return [json_safe(item) for item in value]
    return str(value)


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, JSONValue]:
    """The audited state of ``instance``: foreign keys by id, secrets left out."""
    state: dict[str, JSONValue] = {}
    for name in fields:
        if is_secret_field(name):
            continue
        field = instance._meta.get_field(name)
        attribute = field.attname if isinstance(field, models.ForeignKey) else name
        state[name] = json_safe(getattr(instance, attribute))
    return state


def changes_between(
    before: Mapping[str, JSONValue] | None, after: Mapping[str, JSONValue] | None
) -> dict[str, dict[str, JSONValue]]:
    """``{field: {"before": old, "after": new}}`` for every field whose value differs."""
    before = before or {}
    after = after or {}
    changed: dict[str, dict[str, JSONValue]] = {}
    for name in sorted(set(before) | set(after)):
        if is_secret_field(name):
            continue
        old, new = before.get(name), after.get(name)
        if old != new:
            changed[name] = {"before": old, "after": new}
    return changed


_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"
_READ_HEAD = (
    "SELECT sequence, hash FROM audit_auditevent WHERE chain = %s ORDER BY sequence DESC LIMIT 1"
)
_LOCK_AND_READ_HEAD = "; ".join((_LOCK, _READ_HEAD))


def _lock_chain_and_read_head(chain: str) -> tuple[int, str] | None:
    """Take the chain's lock, then read its head: the last event's sequence and hash.

    On PostgreSQL both statements travel in one round trip (the lock is held for the rest of
    the transaction, so appends to one chain are serialised and chain order is commit
    order). Each statement takes its own snapshot, so the read sees whatever the previous
    holder of the lock committed. SQLite (quick start only) serialises writers on the whole
    database, and the unique (chain, sequence) constraint catches anything that slips through.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_AND_READ_HEAD, [chain, chain])
            cursor.nextset()
            row = cursor.fetchone()
        return (int(row[0]), str(row[1])) if row else None
    return (
        AuditEvent.objects.filter(chain=chain)
        .order_by("-sequence")
        .values_list("sequence", "hash")
        .first()
    )


def _describe_actor(actor: Any) -> dict[str, Any]:
    if actor is None:
        return {"actor_kind": ActorKind.SYSTEM.value, "actor_id": "", "actor_display": "system"}
    if not getattr(actor, "is_authenticated", False):
        return {
            "actor_kind": ActorKind.ANONYMOUS.value,
            "actor_id": "",
            "actor_display": "anonymous",
        }
    organisation = getattr(actor, "organisation", None)
    client = getattr(actor, "acting_client", None)
    if client is not None:
        # A partner client acts through an account of its own; the trail names the client.
        return {
            "actor_kind": ActorKind.CLIENT.value,
            "actor_id": str(actor.pk),
            "actor_display": str(client)[:200],
            "actor_organisation_id": client.organisation_id,
            "actor_organisation_display": str(client.organisation)[:200],
        }
    return {
        "actor_kind": ActorKind.USER.value,
        "actor_id": str(actor.pk),
        "actor_display": str(getattr(actor, "username", actor))[:200],
        "actor_organisation_id": organisation.pk if organisation is not None else None,
        "actor_organisation_display": str(organisation)[:200] if organisation is not None else "",
    }


def _describe_object(instance: models.Model | None, prefix: str) -> dict[str, str]:
    if instance is None:
        return {}
    return {
        f"{prefix}_type": instance._meta.label_lower,
        f"{prefix}_id": str(instance.pk),
        f"{prefix}_display": str(instance)[:300],
    }


def _normalise_address(address: str | None) -> str | None:
    # Stored the way GenericIPAddressField stores it, so the hash verifies after a round trip.
    if address and ":" in address:
        return clean_ipv6_address(address)
    return address


class EventSpec(TypedDict, total=False):
    """What ``audit_record`` is told about one event; ``action`` and ``actor`` are required."""

    action: Required[str]
    actor: Required[Any]
    consortium_id: int | None
    target: models.Model | None
    related: models.Model | None
    changes: Mapping[str, Any] | None
    outcome: str
    reason: str
    object_type: str
    object_id: str
    object_display: str


def _chain_of(consortium_id: int | None) -> str:
    return consortium_chain(consortium_id) if consortium_id is not None else PLATFORM_CHAIN


def _event_fields(event: EventSpec) -> tuple[dict[str, Any], JSONValue]:
    """An event's fields, all but its place in the chain (sequence, time and hashes), and
    its changes as JSON values (what the stored canonical text reads back as)."""
    consortium_id = event.get("consortium_id")
    chain = _chain_of(consortium_id)
    request = context.current()
    changes = json_safe(dict(event.get("changes") or {}))
    fields: dict[str, Any] = {
        "chain": chain,
        "consortium_id": consortium_id,
        "actor_organisation_id": None,
        "actor_organisation_display": "",
        "action": str(event["action"]),
        "object_type": event.get("object_type", ""),
        "object_id": event.get("object_id", ""),
        "object_display": event.get("object_display", "")[:300],
        "related_object_type": "",
        "related_object_id": "",
        "related_object_display": "",
        "changes": canonical_json(changes),
        "request_id": request.request_id if request else "",
        "client_address": _normalise_address(request.client_address) if request else None,
        "user_agent": request.user_agent if request else "",
        "outcome": str(event.get("outcome", Outcome.SUCCESS)),
        "reason": event.get("reason", ""),
    }
    fields.update(_describe_actor(event["actor"]))
    fields.update(_describe_object(event.get("target"), "object"))
    fields.update(_describe_object(event.get("related"), "related_object"))
    return fields, changes


def _chained(
    fields: dict[str, Any], changes: JSONValue, head: tuple[int, str] | None
) -> AuditEvent:
    sequence, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    fields["sequence"] = sequence
    # Stamped under the lock, so times never run backwards along a chain.
    fields["occurred_at"] = timezone.now()
    fields["prev_hash"] = prev_hash
    fields["hash"] = event_hash(prev_hash, fields)
    record = new_instance(AuditEvent, fields)
    # What the stored text reads back as, so that webhooks need not parse it again.
    record.changes_data = changes
    return record


# Told about the events of every audit_record / audit_record_many call, still inside the
# caller's transaction (a callback defers its work with transaction.on_commit). Apps above
# audit (webhooks) register in their AppConfig.ready, so audit imports none of them.
RecordedCallback = Callable[[Sequence[AuditEvent]], None]
_recorded_callbacks: list[RecordedCallback] = []


def on_recorded(callback: RecordedCallback) -> None:
    """Call ``callback`` with the events each time events are recorded."""
    if callback not in _recorded_callbacks:
        _recorded_callbacks.append(callback)


def _tell_recorded(records: Sequence[AuditEvent]) -> None:
    for callback in _recorded_callbacks:
        callback(records)


def audit_record(**event: Unpack[EventSpec]) -> AuditEvent:
    """Append one event to the chain of ``consortium_id`` (or the platform chain).

    Call it inside the transaction that makes the change. Called outside one (a read, a
    denial) it commits on its own.
    """
    fields, changes = _event_fields(event)
    with transaction.atomic(savepoint=False):
        record = _chained(fields, changes, _lock_chain_and_read_head(fields["chain"]))
        # Every write of every request ends here: an insert compiled once (events have no
        # signals and no save() of their own).
        compiled.insert(record)
    _tell_recorded([record])
    return record


@dataclass(frozen=True)
class Precondition:
    """A query answering one boolean that must be true in the transaction of a write, or the
    write does not happen (``PreconditionNotMetError``): a check that travels with the write
    instead of costing a round trip before it."""

    sql: str
    params: tuple[Any, ...] = ()

    def holds(self) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            row = cursor.fetchone()
        return bool(row and row[0])


class PreconditionNotMetError(Exception):
    """A write's ``Precondition`` did not hold: nothing was written."""


def audit_record_inserting(
    instance: models.Model,
    *,
    precondition: Precondition | None = None,
    **event: Unpack[EventSpec],
) -> AuditEvent:
    """Insert ``instance``, a new row, and append the event about it (which may name it as
    its target), if ``precondition`` (when given) holds; else raise ``PreconditionNotMetError``.
    Only for models without signals or a save() of their own (``alliance.compiled.insert``).

    The compliance gate does this for every decision, so on PostgreSQL it is one round trip
    to one statement (``audit.inserting``), which checks the precondition, inserts the row
    and appends its event: in a transaction of its own outside any (BEGIN and COMMIT travel
    with it), else in the caller's.
    """
    if connection.vendor != "postgresql":
        if precondition is not None and not precondition.holds():
            raise PreconditionNotMetError(precondition.sql)
        with transaction.atomic(savepoint=False):
            compiled.insert(instance)
            return audit_record(**event)
    if _outside_any_transaction():
        record = _row_and_event(instance, event, precondition, own_transaction=True)
    else:
        with transaction.atomic(savepoint=False):
            record = _row_and_event(instance, event, precondition, own_transaction=False)
    # Raised outside the atomic block: a failed precondition wrote nothing and broke nothing,
    # and raised inside it would doom the caller's transaction.
    if record is None:
        raise PreconditionNotMetError(precondition.sql if precondition is not None else "")
    _tell_recorded([record])
    return record


def _outside_any_transaction() -> bool:
    return connection.get_autocommit() and not connection.in_atomic_block


def _row_and_event(
    instance: models.Model,
    event: EventSpec,
    precondition: Precondition | None,
    *,
    own_transaction: bool,
) -> AuditEvent | None:
    """The write of ``audit_record_inserting`` in one round trip: the chain's lock and the
    statement that inserts the row and its event, between BEGIN and COMMIT when
    ``own_transaction``. Django's ``atomic`` with the event hashed in Python would take four:
    BEGIN on its own, the insert with the read of the chain's head, the event, and COMMIT on
    its own. None when the precondition did not hold.

    In its own transaction the connection stays in autocommit as Django sees it, so nothing
    else may run on it until this returns: any failure rolls back before it is raised. The
    callbacks told about the event run after the commit, where ``transaction.on_commit`` runs
    them at once.
    """
    fields, changes = _event_fields(event)
    keyed_by_row = frozenset(
        f"{prefix}_id"
        for prefix, role in (("object", "target"), ("related_object", "related"))
        if event.get(role) is instance
    )
    statement = inserting.row_and_event(
        type(instance),
        keyed_by_row=keyed_by_row,
        precondition=precondition.sql if precondition is not None else None,
    )
    chain = fields["chain"]
    params = [
        chain,
        *compiled.insert_values(instance, statement.row_fields),
        *(precondition.params if precondition is not None else ()),
        chain,
        *(fields[name] for name in statement.event_fields),
        GENESIS_HASH,
    ]
    with connection.cursor() as cursor:
        if own_transaction:
            _written_in_own_transaction(cursor, statement, params)
            cursor.nextset()  # past BEGIN
        else:
            # Sent as written, not EXECUTEd: a prepared statement the server lost would fail
            # here, and with it the caller's transaction.
            cursor.execute(f"{_LOCK}; {statement.sql}", params)
        cursor.nextset()  # past the lock
        written = cursor.fetchone()
    if written is None:
        return None
    row_pk, event_pk, sequence, occurred_at, prev_hash, hash_ = written
    compiled.inserted(instance, row_pk)
    fields.update(dict.fromkeys(keyed_by_row, str(row_pk)))
    record = AuditEvent(
        **fields, sequence=sequence, occurred_at=occurred_at, prev_hash=prev_hash, hash=hash_
    )
    record.changes_data = changes
    compiled.inserted(record, event_pk)
    return record


def _written_in_own_transaction(
    cursor: Any, statement: inserting.Statement, params: list[Any]
) -> None:
    try:
        try:
            cursor.execute(_written_in_one_trip(statement), params)
        except ProgrammingError as error:
            if not is_unknown_statement(error):
                raise
            # A DISCARD ALL (or a pooler) took the prepared statement: the statement itself
            # this time, and prepared again the next.
            _roll_back(cursor)
            statement.session.forget()
            cursor.execute(_in_one_trip(statement.sql), params)
    except BaseException:
        _roll_back(cursor)
        raise


def _in_one_trip(sql: str) -> str:
    return f"BEGIN; {_LOCK}; {sql}; COMMIT"


def _written_in_one_trip(statement: inserting.Statement) -> str:
    """One simple query: a message that psycopg sends for a quarter of the CPU a pipeline of
    its four statements costs. The row and event statement is EXECUTEd, prepared in SQL
    once per connection, so PostgreSQL neither parses nor plans it again and psycopg does
    not parse its 4 kB text for placeholders on every call (its query cache stops at 4 kB)."""
    if not settings.ALLIANCE_PREPARED_STATEMENTS:
        return _in_one_trip(statement.sql)
    return _in_one_trip(statement.session.call())


def _roll_back(cursor: Any) -> None:
    # A broken connection cannot roll back; Django discards it at the end of the request,
    # and the error that broke it is the one worth raising.
    with suppress(DatabaseError):
        cursor.execute("ROLLBACK")


def audit_record_many(events: Iterable[EventSpec]) -> list[AuditEvent]:
    """Append many events, in the order given, each described by ``audit_record``'s keywords.

    Each chain's lock is taken once and its events inserted together: a sweep that opens
    thousands of findings would otherwise take the lock, and make a round trip, thousands of
    times. Chains are locked in name order, so two batches never wait on each other in a
    cycle.
    """
    by_chain: dict[str, list[tuple[dict[str, Any], JSONValue]]] = {}
    for event in events:
        fields, changes = _event_fields(event)
        by_chain.setdefault(fields["chain"], []).append((fields, changes))
    records: list[AuditEvent] = []
    with transaction.atomic(savepoint=False):
        for chain in sorted(by_chain):
            head = _lock_chain_and_read_head(chain)
            for fields, changes in by_chain[chain]:
                record = _chained(fields, changes, head)
                head = (record.sequence, record.hash)
                records.append(record)
        copy_insert(records)
    _tell_recorded(records)
    return records


def audit_denial(
    *,
    actor: Any,
    consortium_id: int | None,
    object_type: str,
    object_id: str,
    action: str,
    status: int,
    path: str,
    reason: str,
) -> AuditEvent:
    """Record a request the access policy refused (404 or 403). Called at the boundary,
    outside any transaction that could roll the record back with the request's work."""
    return audit_record(
        action=Action.DENIED,
        actor=actor,
        consortium_id=consortium_id,
        object_type=object_type,
        object_id=object_id,
        object_display=path[:300],
        outcome=Outcome.DENIED,
        reason=f"{status}: {reason}"[:1000],
        changes={"attempted": action} if action else None,
    )


def _chain_heads(chains: Iterable[str] | None) -> dict[str, int]:
    events = AuditEvent.objects.all()
    if chains is not None:
        events = events.filter(chain__in=list(chains))
    return dict(
        events.values("chain").annotate(size=models.Max("sequence")).values_list("chain", "size")
    )


def checkpoint_seal(*, chains: Iterable[str] | None = None) -> list[AuditCheckpoint]:
    """Seal every chain (or those named) that grew since its last checkpoint.

    Idempotent: a chain that did not grow gets no new checkpoint, and two sealers racing on
    the same chain are stopped by the unique (chain, size) constraint.
    """
    from audit.signing import checkpoint_note, key_id, sign

    heads = _chain_heads(chains)
    sealed_sizes = dict(
        AuditCheckpoint.objects.filter(chain__in=list(heads))
        .values("chain")
        .annotate(size=models.Max("size"))
        .values_list("chain", "size")
    )
    created: list[AuditCheckpoint] = []
    for chain, size in sorted(heads.items()):
        if sealed_sizes.get(chain, 0) >= size:
            continue
        head = AuditEvent.objects.values("hash", "consortium_id").get(chain=chain, sequence=size)
        sealed_at = timezone.now()
        checkpoint = AuditCheckpoint(
            chain=chain,
            consortium_id=head["consortium_id"],
            size=size,
            head_hash=head["hash"],
            sealed_at=sealed_at,
            key_id=key_id(),
            signature=sign(checkpoint_note(chain, size, head["hash"], sealed_at)),
        )
        try:
            with transaction.atomic():
                checkpoint.save()
        except IntegrityError:
            continue  # another sealer got there first with the same size
        created.append(checkpoint)
    return created


def audit_read(
    *,
    actor: Any,
    consortium_id: int | None,
    action: str,
    filters: Mapping[str, Any],
    count: int,
    what: str,
) -> None:
    """Record that ``actor`` read something that matters (a listing is one event with its
    filter and how many rows it returned). Reads write in their own short transaction."""
    audit_record(
        action=action,
        actor=actor,
        consortium_id=consortium_id,
        object_type=what,
        object_display=what,
        changes={"filters": dict(filters), "count": count},
    )
