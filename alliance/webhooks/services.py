"""Every state change of webhooks: endpoints, the consortium allow-list, fan-out of events,
delivery runs and replays.

People's changes check the policy, validate, write in one transaction and record their audit
event (endpoints in the platform chain, since they belong to an organisation; destinations in
their consortium's). Fan-out and delivery are the system's: they write the delivery log, which
is their record, and audit only what changes an endpoint (disabling it after a 410).
"""

from __future__ import annotations

import datetime
import functools
import logging
import random
import re
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F, Min
from django.utils import timezone

from alliance.errors import ConflictError
from alliance.webhooks import delivery, events, permissions, selectors, signing, vault
from alliance.webhooks.delivery import Outcome
from alliance.webhooks.models import Attempt, Destination, Endpoint, Event, Message
from alliance.webhooks.tasks import webhooks_deliver as webhooks_deliver_task
from audit.models import Action, AuditEvent
from audit.services import audit_record, changes_between, snapshot
from consortia import permissions as consortium_permissions
from consortia.models import Consortium, Organisation, User
from consortia.permissions import ConsortiumAction

logger = logging.getLogger(__name__)
T = TypeVar("T")

ENDPOINT_FIELDS = ("url", "description", "event_types", "is_active", "disabled_reason")
DESTINATION_FIELDS = ("host", "port", "note")
MAX_URL_LENGTH = 2000
MAX_DESCRIPTION_LENGTH = 200
HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

# Delivery runs: messages claimed at a time, how long one batch may send (its rows stay
# locked meanwhile), and how long one run may go on before it hands over to a fresh task
# (other endpoints get the worker in between).
BATCH = 100
BATCH_SECONDS = 10.0
RUN_BUDGET_SECONDS = 30.0
# One delivery task per endpoint is queued at a time (a cache key marks it); the key lapses
# after this, so a task lost with a broker restart is queued again by the sweeper.
WAKE_TTL = 300
# Set each key unless it is set (SET NX EX), answering 1 where this call set it.
SET_MARKS = """
local set = {}
for i, key in ipairs(KEYS) do
    set[i] = redis.call('SET', key, '1', 'NX', 'EX', ARGV[1]) and 1 or 0
end
return set
"""
# A woken endpoint's run starts this much later, so that the messages of the events that
# follow within it go in the same run (one task, one connection) instead of one task each:
# a consortium's fan-out wakes all its endpoints after every event.
COALESCE_SECONDS = 1.0
# A retry due within this is queued with a countdown; later ones wait for the sweeper.
FOLLOW_UP_HORIZON = datetime.timedelta(seconds=60)


def wake_key(endpoint_id: int) -> str:
    return f"webhooks:wake:{endpoint_id}"


def new_webhook_id() -> str:
    return "msg_" + uuid.uuid4().hex


# Input ---------------------------------------------------------------------------------------


def normalise_host(host: str) -> str:
    """A host as the allow-list and the endpoints store it: an IP address in its canonical
    form, or a lower-case IDNA name. ValueError says what is wrong."""
    host = host.strip().rstrip(".").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    address = delivery.literal_address(host)
    if address is not None:
        return str(address)
    if not host:
        raise ValueError("Give a host name.")
    if any(mark in host for mark in ("/", ":", "@", "?", "#", " ")):
        raise ValueError("Give the host name only: no scheme, port, path or user.")
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError("This is not a valid host name.") from None
    if len(ascii_host) > 253 or not all(HOST_LABEL.match(label) for label in ascii_host.split(".")):
        raise ValueError("This is not a valid host name.")
    return ascii_host


def parse_endpoint_url(url: str) -> tuple[str, int]:
    """The host and port of an endpoint URL, or a ValidationError on ``url`` saying why not."""
    url = url.strip()

    def refuse(message: str) -> ValidationError:
        return ValidationError({"url": message})

    if not url:
        raise refuse("Give the URL that receives the webhooks.")
    if len(url) > MAX_URL_LENGTH:
        raise refuse(f"At most {MAX_URL_LENGTH} characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise refuse("Give an https:// URL.")
    if parts.username is not None or parts.password is not None:
        raise refuse("Put no user name or password in the URL: receivers check the signature.")
    if parts.fragment:
        raise refuse("A URL with a #fragment cannot be sent to; remove it.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise refuse("The port is not a number between 1 and 65535.") from None
    try:
        host = normalise_host(parts.hostname or "")
    except ValueError as error:
        raise refuse(str(error)) from None
    if parts.scheme == "http" and not delivery.may_use_plain_http(host):
        raise refuse(
            "Use https://: plain http is allowed only to addresses in "
            "WEBHOOK_ALLOWED_PRIVATE_NETWORKS."
        )
    address = delivery.literal_address(host)
    if address is not None:
        reason = delivery.address_refusal(address)
        if reason is not None:
            raise refuse(f"Webhooks are not sent to this address: {reason}.")
    return host, port


def checked_event_types(event_types: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(event_types))
    if not chosen:
        raise ValidationError({"event_types": "Choose at least one event type."})
    unknown = [name for name in chosen if name not in events.CATALOGUE]
    if unknown:
        raise ValidationError(
            {"event_types": f"Unknown event type: {', '.join(unknown)}. See the catalogue."}
        )
    return sorted(chosen)


def _checked_description(description: str) -> str:
    description = description.strip()
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise ValidationError({"description": f"At most {MAX_DESCRIPTION_LENGTH} characters."})
    return description


def _checked(errors: dict[str, Any], check: Callable[[], T]) -> T | None:
    """``check()``, or None with its field errors added to ``errors`` (so that one answer
    names every field that is wrong)."""
    try:
        return check()
    except ValidationError as error:
        errors.update(error.message_dict)
        return None


def _endpoint_state(endpoint: Endpoint) -> dict[str, Any]:
    return snapshot(endpoint, ENDPOINT_FIELDS)


def _audit_endpoint(
    actor: User | None, action: str, endpoint: Endpoint, before: dict[str, Any] | None, **extra: Any
) -> None:
    after = None if action == Action.DELETE else _endpoint_state(endpoint)
    changes: dict[str, Any] = dict(changes_between(before, after))
    changes.update(extra.pop("changes", {}))
    audit_record(action=action, actor=actor, target=endpoint, changes=changes, **extra)


def _locked(endpoint: Endpoint) -> Endpoint:
    return Endpoint.objects.select_for_update().select_related("organisation").get(pk=endpoint.pk)


# Endpoints -----------------------------------------------------------------------------------


@transaction.atomic
def endpoint_create(
    *,
    actor: User,
    organisation: Organisation,
    url: str,
    event_types: Iterable[str],
    description: str = "",
) -> tuple[Endpoint, str]:
    """Register an endpoint for the organisation; returns it with its secret, the only time
    the secret is shown. An endpoint whose host no consortium approves is kept (the chair
    may approve it next) but receives nothing until one does; the pages say so."""
    permissions.require_manage(actor, organisation)
    errors: dict[str, Any] = {}
    place = _checked(errors, lambda: parse_endpoint_url(url))
    types = _checked(errors, lambda: checked_event_types(event_types))
    text = _checked(errors, lambda: _checked_description(description))
    if errors:
        raise ValidationError(errors)
    assert place is not None
    assert types is not None
    assert text is not None
    secret = signing.generate_secret()
    endpoint = Endpoint(
        organisation=organisation,
        url=url.strip(),
        host=place[0],
        port=place[1],
        description=text,
        event_types=types,
        secret_encrypted=vault.encrypt(secret),
        created_by=actor,
    )
    endpoint.full_clean()
    endpoint.save()
    _audit_endpoint(actor, Action.CREATE, endpoint, None)
    return endpoint, secret


@transaction.atomic
def endpoint_update(*, actor: User, endpoint: Endpoint, **fields: Any) -> Endpoint:
    """Change the URL, the description or the event types."""
    permissions.require_manage(actor, endpoint.organisation, endpoint)
    unknown = set(fields) - {"url", "description", "event_types"}
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed here."))
    errors: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    if "url" in fields:
        place = _checked(errors, lambda: parse_endpoint_url(fields["url"]))
        if place is not None:
            cleaned["url"] = fields["url"].strip()
            cleaned["host"], cleaned["port"] = place
    if "event_types" in fields:
        cleaned["event_types"] = _checked(
            errors, lambda: checked_event_types(fields["event_types"])
        )
    if "description" in fields:
        cleaned["description"] = _checked(
            errors, lambda: _checked_description(fields["description"])
        )
    if errors:
        raise ValidationError(errors)
    endpoint = _locked(endpoint)
    before = _endpoint_state(endpoint)
    for name, value in cleaned.items():
        setattr(endpoint, name, value)
    if _endpoint_state(endpoint) == before:
        return endpoint
    endpoint.full_clean()
    endpoint.save()
    _audit_endpoint(actor, Action.UPDATE, endpoint, before)
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(
    *, actor: User, endpoint: Endpoint, overlap_hours: int | None = None
) -> tuple[Endpoint, str]:
    """Give the endpoint a new secret (returned, shown once). The previous one keeps
    signing beside it for ``overlap_hours`` (WEBHOOK_SECRET_ROTATION_OVERLAP_HOURS by
    default; 0 ends it at once, for a secret that leaked)."""
    permissions.require_manage(actor, endpoint.organisation, endpoint)
    if overlap_hours is None:
        overlap_hours = settings.WEBHOOK_SECRET_ROTATION_OVERLAP_HOURS
    if not 0 <= overlap_hours <= 24 * 7:
        raise ValidationError({"overlap_hours": "Between 0 and 168 hours."})
    endpoint = _locked(endpoint)
    now = timezone.now()
    secret = signing.generate_secret()
    previous_rotation = endpoint.secret_rotated_at
    if overlap_hours:
        endpoint.previous_secret_encrypted = endpoint.secret_encrypted
        endpoint.previous_secret_expires_at = now + datetime.timedelta(hours=overlap_hours)
    else:
        endpoint.previous_secret_encrypted = ""
        endpoint.previous_secret_expires_at = None
    endpoint.secret_encrypted = vault.encrypt(secret)
    endpoint.secret_rotated_at = now
    endpoint.save()
    # Change names without "secret" in them: the audit trail drops those (audit.services).
    _audit_endpoint(
        actor,
        Action.UPDATE,
        endpoint,
        None,
        changes={
            "rotated_at": {"before": previous_rotation, "after": now},
            "previous_key_valid_until": {
                "before": None,
                "after": endpoint.previous_secret_expires_at,
            },
        },
        reason="Signing secret rotated",
    )
    return endpoint, secret


@transaction.atomic
def endpoint_disable(*, actor: User | None, endpoint: Endpoint, reason: str) -> Endpoint:
    """Stop sending to the endpoint; messages wait until it is enabled again. The system
    disables an endpoint that answers 410 Gone (``actor`` None)."""
    if actor is not None:
        permissions.require_manage(actor, endpoint.organisation, endpoint)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the endpoint is disabled."})
    endpoint = _locked(endpoint)
    if not endpoint.is_active:
        return endpoint
    before = _endpoint_state(endpoint)
    endpoint.is_active = False
    endpoint.disabled_reason = reason[:300]
    endpoint.disabled_at = timezone.now()
    endpoint.save()
    _audit_endpoint(actor, Action.TRANSITION, endpoint, before, reason=reason[:1000])
    return endpoint


@transaction.atomic
def endpoint_enable(*, actor: User, endpoint: Endpoint) -> Endpoint:
    """Send to the endpoint again, starting with the messages that waited."""
    permissions.require_manage(actor, endpoint.organisation, endpoint)
    endpoint = _locked(endpoint)
    if endpoint.is_active:
        return endpoint
    before = _endpoint_state(endpoint)
    endpoint.is_active = True
    endpoint.disabled_reason = ""
    endpoint.disabled_at = None
    endpoint.save()
    _audit_endpoint(actor, Action.TRANSITION, endpoint, before)
    transaction.on_commit(partial(wake, [endpoint.pk]))
    return endpoint


@transaction.atomic
def endpoint_delete(*, actor: User, endpoint: Endpoint) -> None:
    """Remove the endpoint with its delivery log (the audit trail keeps that it existed)."""
    permissions.require_manage(actor, endpoint.organisation, endpoint)
    endpoint = _locked(endpoint)
    _audit_endpoint(actor, Action.DELETE, endpoint, _endpoint_state(endpoint))
    endpoint.delete()


# The consortium's allow-list -----------------------------------------------------------------


@transaction.atomic
def destination_approve(
    *, actor: User, consortium: Consortium, host: str, port: int | None = None, note: str = ""
) -> Destination:
    """Approve a host (and optionally one port) as a destination of the consortium's events."""
    consortium_permissions.require(actor, ConsortiumAction.CHANGE, consortium)
    errors: dict[str, str] = {}
    try:
        host = normalise_host(host)
    except ValueError as error:
        errors["host"] = str(error)
    if port is not None and not 1 <= port <= 65535:
        errors["port"] = "A port is between 1 and 65535; leave it empty for any port."
    note = note.strip()
    if len(note) > 300:
        errors["note"] = "At most 300 characters."
    if errors:
        raise ValidationError(errors)
    approved = Destination.objects.select_for_update().filter(consortium=consortium, host=host)
    if approved.filter(port=port).exists() or (
        port is None and approved.filter(port__isnull=True).exists()
    ):
        raise ValidationError({"host": "This destination is already approved."})
    destination = Destination(
        consortium=consortium, host=host, port=port, note=note, approved_by=actor
    )
    destination.full_clean()
    destination.save()
    audit_record(
        action=Action.CREATE,
        actor=actor,
        consortium_id=consortium.pk,
        target=destination,
        changes=changes_between(None, snapshot(destination, DESTINATION_FIELDS)),
    )
    return destination


@transaction.atomic
def destination_remove(*, actor: User, destination: Destination) -> None:
    """Withdraw an approval: messages not yet delivered there are not sent."""
    consortium_permissions.require(actor, ConsortiumAction.CHANGE, destination.consortium)
    audit_record(
        action=Action.DELETE,
        actor=actor,
        consortium_id=destination.consortium_id,
        target=destination,
        changes=changes_between(snapshot(destination, DESTINATION_FIELDS), None),
    )
    destination.delete()


# Fan-out: audit events become messages --------------------------------------------------------


def audit_recorded(records: Sequence[AuditEvent]) -> None:
    """Registered with audit (``on_recorded``): runs inside the recording transaction, so it
    only picks the events webhooks carry (no query) and fans them out once the transaction
    commits. Rolled back, they are forgotten with it."""
    matched = events.matched_in(records)
    if matched:
        transaction.on_commit(partial(events_fan_out, matched), robust=True)


def events_fan_out(matched: Sequence[tuple[AuditEvent, events.EventType, events.Changes]]) -> int:
    """Store each event once and a message for every endpoint that receives it; wake those
    endpoints' delivery. One query per consortium finds the receivers; nothing is written
    when no endpoint subscribes. Returns the messages created."""
    by_consortium: dict[int, list[tuple[AuditEvent, events.EventType, events.Changes]]] = {}
    for record, event_type, changes in matched:
        assert record.consortium_id is not None
        by_consortium.setdefault(record.consortium_id, []).append((record, event_type, changes))
    created = 0
    for consortium_id, items in by_consortium.items():
        receivers = selectors.subscribers(consortium_id)
        plan = []
        for record, event_type, changes in items:
            audience = event_type.audience(record, changes)
            endpoint_ids = [
                receiver.endpoint_id
                for receiver in receivers
                if event_type.name in receiver.event_types
                and (audience is None or receiver.organisation_id in audience)
            ]
            if endpoint_ids:
                plan.append((record, event_type, changes, endpoint_ids))
        if plan:
            created += _store(consortium_id, receivers[0].consortium_name, plan)
    return created


def _store(
    consortium_id: int,
    name: str,
    plan: list[tuple[AuditEvent, events.EventType, events.Changes, list[int]]],
) -> int:
    now = timezone.now()
    rows = [
        (
            event_type.name,
            record.pk,
            events.body(events.payload(record, event_type, changes, name)),
            record.occurred_at,
            endpoint_ids,
        )
        for record, event_type, changes, endpoint_ids in plan
    ]
    try:
        if connection.vendor == "postgresql":
            created = _insert_in_one_statement(consortium_id, rows, now)
        else:
            created = _insert_with_the_orm(consortium_id, rows, now)
    except IntegrityError:
        # Already fanned out (the unique audit event and type): nothing twice.
        logger.warning("webhook events of consortium %s were already stored", consortium_id)
        return 0
    woken = sorted({endpoint_id for *_, endpoint_ids in rows for endpoint_id in endpoint_ids})
    transaction.on_commit(partial(wake, woken))  # at once, unless a caller's transaction is open
    return created


StoredRow = tuple[str, int, str, datetime.datetime, list[int]]

# The fan-out runs in the process that committed, after the commit; a process that dies in
# between leaves audit events with no messages. The sweeper looks back this far for them,
# leaving the newest alone (their own process is fanning them out right now).
CATCH_UP_WINDOW = datetime.timedelta(minutes=15)
CATCH_UP_GRACE = datetime.timedelta(minutes=1)


def events_catch_up(now: datetime.datetime | None = None) -> int:
    """Fan out the recent audit events whose fan-out was lost with its process. Events stored
    already are skipped, so it may run any number of times. Returns the messages created."""
    now = now or timezone.now()
    stored = Event.objects.filter(occurred_at__gte=now - CATCH_UP_WINDOW).values("audit_event_id")
    candidates = (
        AuditEvent.objects.filter(
            occurred_at__gte=now - CATCH_UP_WINDOW,
            occurred_at__lt=now - CATCH_UP_GRACE,
            object_type__in=events.carried_object_types(),
            consortium_id__isnull=False,
        )
        .exclude(pk__in=stored)
        .order_by("pk")
    )
    matched = events.matched_in(list(candidates))
    return events_fan_out(matched) if matched else 0


@functools.cache
def _fan_out_sql() -> str:
    # One statement, so one round trip and its own transaction: the events, then a message
    # per (event, endpoint), with webhook ids made by PostgreSQL. An event stored already (the
    # catch-up and the live fan-out overlapped) is skipped with its messages, the rest go on. The ORM's bulk_create of
    # 50 messages per event costs several times more in Python than the insert itself.
    event, message = Event._meta.db_table, Message._meta.db_table
    # Only table names (from the models) enter the text; every value is a parameter.
    return f"""
        WITH stored AS (
            INSERT INTO {event} (type, consortium_id, audit_event_id, body, occurred_at, created_at)
            SELECT type, %(consortium)s, audit_event_id, body, occurred_at, %(now)s
            FROM unnest(%(types)s::varchar[], %(audit_ids)s::bigint[], %(bodies)s::text[],
                        %(times)s::timestamptz[]) AS e(type, audit_event_id, body, occurred_at)
            ON CONFLICT (audit_event_id, type) DO NOTHING
            RETURNING id, audit_event_id, type
        )
        INSERT INTO {message} (endpoint_id, event_id, webhook_id, status, attempts, failures,
                               next_attempt_at, last_error, created_at)
        SELECT plan.endpoint_id, stored.id,
               'msg_' || replace(gen_random_uuid()::text, '-', ''), 'pending', 0, 0,
               %(now)s, '', %(now)s
        FROM unnest(%(endpoints)s::bigint[], %(plan_audit_ids)s::bigint[],
                    %(plan_types)s::varchar[]) AS plan(endpoint_id, audit_event_id, type)
        JOIN stored USING (audit_event_id, type)
    """  # noqa: S608


def _insert_in_one_statement(
    consortium_id: int, rows: list[StoredRow], now: datetime.datetime
) -> int:
    pairs = [
        (endpoint_id, audit_id, type_name)
        for type_name, audit_id, _, _, endpoint_ids in rows
        for endpoint_id in endpoint_ids
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            _fan_out_sql(),
            {
                "consortium": consortium_id,
                "now": now,
                "types": [row[0] for row in rows],
                "audit_ids": [row[1] for row in rows],
                "bodies": [row[2] for row in rows],
                "times": [row[3] for row in rows],
                "endpoints": [pair[0] for pair in pairs],
                "plan_audit_ids": [pair[1] for pair in pairs],
                "plan_types": [pair[2] for pair in pairs],
            },
        )
        return int(cursor.rowcount)


def _insert_with_the_orm(consortium_id: int, rows: list[StoredRow], now: datetime.datetime) -> int:
    """The same for SQLite (the quick start)."""
    with transaction.atomic():
        stored_already = set(
            Event.objects.filter(audit_event_id__in=[row[1] for row in rows]).values_list(
                "audit_event_id", "type"
            )
        )
        rows = [row for row in rows if (row[1], row[0]) not in stored_already]
        stored = Event.objects.bulk_create(
            [
                Event(
                    type=type_name,
                    consortium_id=consortium_id,
                    audit_event_id=audit_id,
                    body=body,
                    occurred_at=occurred_at,
                )
                for type_name, audit_id, body, occurred_at, _ in rows
            ]
        )
        messages = [
            Message(
                endpoint_id=endpoint_id,
                event=event,
                webhook_id=new_webhook_id(),
                next_attempt_at=now,
            )
            for event, (*_, endpoint_ids) in zip(stored, rows, strict=True)
            for endpoint_id in endpoint_ids
        ]
        Message.objects.bulk_create(messages, batch_size=1000)
    return len(messages)


# Endpoints this process queued a run for, and when (monotonic clock). Until that run starts
# (``countdown`` later) its wake mark stands and the run will claim any message committed
# meanwhile, so further events need not ask the cache again: a fan-out wakes every endpoint
# of a consortium after each event. A margin of a fifth covers clock skew between hosts;
# were it exceeded, a message would wait for the sweeper (a minute), never be lost.
_queued_here: dict[int, float] = {}


def wake(endpoint_ids: Iterable[int], *, countdown: float = COALESCE_SECONDS) -> None:
    """Queue one delivery task per endpoint, to start after ``countdown``, unless one is
    already queued (a cache key marks it until the task starts)."""
    now = time.monotonic()
    trust_local = countdown > 0 and not webhooks_deliver_task.app.conf.task_always_eager
    ids = [
        endpoint_id
        for endpoint_id in endpoint_ids
        if not trust_local or now - _queued_here.get(endpoint_id, float("-inf")) >= countdown * 0.8
    ]
    for endpoint_id, marked in zip(ids, _mark_woken(ids), strict=True):
        if marked:
            webhooks_deliver_task.apply_async((endpoint_id,), countdown=countdown)
            _queued_here[endpoint_id] = now


def _mark_woken(endpoint_ids: list[int]) -> list[bool]:
    """Set each endpoint's wake mark unless it is set; True where this call set it. With
    Redis, all in one round trip (a pipeline of SET NX EX): a fan-out wakes every endpoint
    of a consortium after each event."""
    if not endpoint_ids:
        return []
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # Django's Redis backend offers no add_many; its client is redis-py's, and one
        # script sets every mark in one command.
        client = backend._cache.get_client(write=True)  # type: ignore[attr-defined]
        keys = [
            backend.make_and_validate_key(wake_key(endpoint_id)) for endpoint_id in endpoint_ids
        ]
        return [bool(result) for result in client.register_script(SET_MARKS)(keys, [WAKE_TTL])]
    return [cache.add(wake_key(endpoint_id), 1, timeout=WAKE_TTL) for endpoint_id in endpoint_ids]


# Delivery runs -------------------------------------------------------------------------------


@dataclass
class DeliveryRun:
    """What one delivery run of an endpoint did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    gave_up: int = 0
    disabled: bool = False

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed + self.gave_up


def signing_secrets(endpoint: Endpoint, now: datetime.datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during its overlap."""
    secrets = [vault.decrypt(endpoint.secret_encrypted)]
    if (
        endpoint.previous_secret_encrypted
        and endpoint.previous_secret_expires_at is not None
        and endpoint.previous_secret_expires_at > now
    ):
        secrets.append(vault.decrypt(endpoint.previous_secret_encrypted))
    return secrets


MESSAGE_COLUMNS = (
    "id",
    "webhook_id",
    "attempts",
    "failures",
    "event__body",
    "event__consortium_id",
)


def _claim(endpoint_id: int, now: datetime.datetime) -> list[dict[str, Any]]:
    """The endpoint's next due messages, oldest first, their rows locked until the caller's
    transaction ends: a second run (a task delivered twice, two workers) skips them and
    takes the next ones, or none."""
    return list(
        Message.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(endpoint_id=endpoint_id, status=Message.Status.PENDING, next_attempt_at__lte=now)
        .order_by("id")
        .values(*MESSAGE_COLUMNS)[:BATCH]
    )


def messages_deliver(
    *,
    endpoint_id: int,
    budget_seconds: float = RUN_BUDGET_SECONDS,
    rng: random.Random | None = None,
) -> DeliveryRun:
    """Send the endpoint's due messages in order over one keep-alive connection, and record
    each attempt. Safe to run twice or at once: a batch's rows are locked while it is sent
    and its outcome written in the same transaction, and a delivered message is never
    claimed again. A worker that dies mid-batch rolls its batch back: those messages are
    sent again later, with the same webhook-id, and receivers deduplicate.

    The lock is held while the batch's requests go out, which is why a batch stops taking
    new messages after BATCH_SECONDS (each request is itself bounded by the connect and read
    timeouts); what it did not reach stays pending for the next batch.

    A 2xx delivers; 410 fails the message and disables the endpoint; a refusal of the guard
    or a consortium that no longer approves the endpoint fails it for good; anything else is
    retried on the schedule (``delivery.retry_delay``). When the endpoint cannot be reached
    at all, the rest of the batch waits like the message that found out, and the run ends.
    """
    cache.delete(wake_key(endpoint_id))  # from now on, a new message queues a new run
    run = DeliveryRun()
    endpoint = Endpoint.objects.filter(pk=endpoint_id, is_active=True).first()
    if endpoint is None:
        return run
    receiving = selectors.receiving_consortium_ids(endpoint)
    secrets = signing_secrets(endpoint, timezone.now())
    deadline = time.monotonic() + budget_seconds
    stop = False
    with delivery.Sender(endpoint.url) as sender:
        while not stop and time.monotonic() < deadline:
            with transaction.atomic():
                batch = _claim(endpoint_id, timezone.now())
                if not batch:
                    break
                batch_deadline = time.monotonic() + BATCH_SECONDS
                results: list[tuple[dict[str, Any], datetime.datetime, Outcome]] = []
                for row in batch:
                    if time.monotonic() > batch_deadline:
                        break
                    started = timezone.now()
                    if row["event__consortium_id"] not in receiving:
                        outcome = Outcome(
                            delivered=False,
                            refused=True,
                            error="Not sent: the consortium no longer approves this "
                            "destination, or your organisation no longer sees it.",
                        )
                    else:
                        body = row["event__body"].encode()
                        headers = signing.headers(
                            secrets, row["webhook_id"], int(time.time()), body
                        )
                        outcome = sender.post(body, headers)
                    results.append((row, started, outcome))
                    if outcome.gone or outcome.unreachable:
                        stop = True
                        break
                unreachable = bool(results) and results[-1][2].unreachable
                _record(endpoint, results, batch[len(results) :] if unreachable else [], run, rng)
    if not run.disabled:
        _follow_up(endpoint_id)
    return run


def _record(
    endpoint: Endpoint,
    results: list[tuple[dict[str, Any], datetime.datetime, Outcome]],
    unsent: list[dict[str, Any]],
    run: DeliveryRun,
    rng: random.Random | None,
) -> None:
    """Write a batch's attempts and outcomes (in the claiming transaction). ``unsent``: the
    rest of a batch whose endpoint could not be reached; they fail with the same cause,
    without tying up the worker on a connection timeout each. Messages a batch did not get
    to (time was up, or a 410 disabled the endpoint) are left as they were: pending."""
    now = timezone.now()
    attempts: list[Attempt] = []
    delivered: dict[int, list[int]] = {}
    changed: list[Message] = []
    gone = False

    def fail(row: dict[str, Any], outcome: Outcome) -> None:
        failures = row["failures"] + 1
        final = outcome.refused or outcome.gone
        wait = None if final else delivery.retry_delay(failures, outcome.retry_after, rng=rng)
        if final:
            status, run.failed = Message.Status.FAILED, run.failed + 1
        elif wait is None:
            status, run.gave_up = Message.Status.GAVE_UP, run.gave_up + 1
        else:
            status, run.retrying = Message.Status.PENDING, run.retrying + 1
        changed.append(
            Message(
                pk=row["id"],
                status=status,
                attempts=row["attempts"] + 1,
                failures=failures,
                next_attempt_at=now + wait if wait is not None else now,
                last_status_code=outcome.status_code,
                last_error=outcome.error[:500],
            )
        )

    for row, started, outcome in results:
        attempts.append(
            Attempt(
                message_id=row["id"],
                number=row["attempts"] + 1,
                started_at=started,
                duration_ms=outcome.duration_ms,
                status_code=outcome.status_code,
                error=outcome.error[:500],
                response_excerpt=outcome.excerpt,
                delivered=outcome.delivered,
            )
        )
        if outcome.delivered:
            assert outcome.status_code is not None
            delivered.setdefault(outcome.status_code, []).append(row["id"])
            run.delivered += 1
        else:
            fail(row, outcome)
            gone = gone or outcome.gone
    if unsent:
        cause = results[-1][2]
        for row in unsent:
            skipped = Outcome(delivered=False, error=f"Not sent: {cause.error}"[:500])
            attempts.append(
                Attempt(
                    message_id=row["id"],
                    number=row["attempts"] + 1,
                    started_at=now,
                    error=skipped.error,
                )
            )
            fail(row, skipped)
    Attempt.objects.bulk_create(attempts)
    for status_code, ids in delivered.items():
        Message.objects.filter(pk__in=ids).update(
            status=Message.Status.DELIVERED,
            delivered_at=now,
            attempts=F("attempts") + 1,
            last_status_code=status_code,
            last_error="",
        )
    Message.objects.bulk_update(
        changed,
        ["status", "attempts", "failures", "next_attempt_at", "last_status_code", "last_error"],
    )
    if gone:
        endpoint_disable(
            actor=None,
            endpoint=endpoint,
            reason="It answered 410 Gone: the receiver asked for no more messages.",
        )
        run.disabled = True


def _follow_up(endpoint_id: int) -> None:
    """Queue the next run if messages are due soon: at once when the run stopped with some
    still due (its time was up), with a countdown for a retry within FOLLOW_UP_HORIZON.
    Later retries are the sweeper's. Not with in-process tasks (the quick start), where a
    countdown would run at once and loop."""
    if webhooks_deliver_task.app.conf.task_always_eager:
        return
    earliest = Message.objects.filter(
        endpoint_id=endpoint_id, status=Message.Status.PENDING, endpoint__is_active=True
    ).aggregate(earliest=Min("next_attempt_at"))["earliest"]
    if earliest is None:
        return
    wait = (earliest - timezone.now()).total_seconds()
    if wait <= 0:
        wake([endpoint_id], countdown=0)
    elif wait <= FOLLOW_UP_HORIZON.total_seconds():
        webhooks_deliver_task.apply_async((endpoint_id,), countdown=wait)


def messages_sweep() -> int:
    """Every minute: create the messages of events whose fan-out was lost, then queue a run
    for every active endpoint with messages due (retries that came due, or messages whose
    run was lost with a worker or a broker). Returns the endpoints woken."""
    events_catch_up()
    due = list(
        Message.objects.filter(
            status=Message.Status.PENDING,
            next_attempt_at__lte=timezone.now(),
            endpoint__is_active=True,
        )
        .order_by()
        .values_list("endpoint_id", flat=True)
        .distinct()
    )
    wake(due, countdown=0)
    return len(due)


# Replay --------------------------------------------------------------------------------------


@transaction.atomic
def message_replay(*, actor: User, message: Message) -> Message:
    """Send a message again, with the same webhook-id (a receiver that has it already
    deduplicates), whatever became of it: delivered, failed or given up."""
    endpoint = message.endpoint
    permissions.require_manage(actor, endpoint.organisation, message)
    try:
        # NOWAIT: a delivery run holding the row is sending it right now.
        message = (
            Message.objects.select_for_update(nowait=True)
            .select_related("endpoint")
            .get(pk=message.pk)
        )
    except OperationalError:
        raise ConflictError(
            "This message is being sent right now; look again in a moment.",
            code="message_sending",
        ) from None
    if not message.endpoint.is_active:
        raise ConflictError(
            "The endpoint is disabled: enable it first, then replay.", code="endpoint_disabled"
        )
    before = message.status
    message.status = Message.Status.PENDING
    message.failures = 0
    message.next_attempt_at = timezone.now()
    message.save(update_fields=["status", "failures", "next_attempt_at"])
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        target=message,
        related=message.endpoint,
        changes={"status": {"before": before, "after": Message.Status.PENDING}},
        reason="Replayed by hand",
    )
    transaction.on_commit(partial(wake, [message.endpoint_id]))
    return message
