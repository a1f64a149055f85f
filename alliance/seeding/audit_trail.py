"""Each seeded consortium's audit chain: events that look like what the services record,
hashed in Python exactly as ``audit.services`` hashes them (``audit.canonical``), loaded by
COPY (the append-only triggers refuse only UPDATE, DELETE and TRUNCATE).

The chains start at #1 after the genesis hash, so ``audit_verify`` checks them like any
other, and the application appends to them afterwards as usual (it reads each chain's head).
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from hashlib import sha256
from itertools import zip_longest
from json.encoder import encode_basestring
from typing import Any

from alliance.seeding.agreements import SeededAgreement
from alliance.seeding.compute import SeededPool
from alliance.seeding.copying import Progress, copy_rows, indexes_deferred, next_id
from alliance.seeding.people import END, START, People, Person
from audit.canonical import HASHED_FIELDS
from audit.models import GENESIS_HASH, AuditEvent, consortium_chain

COLUMNS = ("id", *HASHED_FIELDS, "prev_hash", "hash")
_text = encode_basestring  # JSON string escaping, exactly as audit.canonical writes strings
AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) Safari/605.1.15",
    "alliance-usage-exporter/2.1",
)
STATUS_STEPS = (
    ("draft", "in_review"),
    ("in_review", "approved"),
    ("approved", "out_for_signature"),
)


def seed_audit(
    people: People,
    agreements: list[SeededAgreement],
    pools: list[SeededPool],
    rng: random.Random,
    progress: Progress,
) -> int:
    by_consortium: dict[int, list[SeededAgreement]] = defaultdict(list)
    for agreement in agreements:
        by_consortium[agreement.consortium_id].append(agreement)
    total, chains = people.size.audit_events, len(people.consortia)

    first_id = next_id(AuditEvent)

    def rows() -> Iterator[list[Any]]:
        # The chains take turns, as consortia act at the same time: ids follow time across
        # the whole table, so "latest first" by id finds a consortium's events as it would
        # in a deployment, not in one block per consortium.
        each = [
            _chain(
                consortium.id, consortium.name, pool, by_consortium[consortium.id],
                [consortium.chair, *consortium.technical],
                total // chains + (1 if index < total % chains else 0), index, rng,
            )
            for index, (consortium, pool) in enumerate(zip(people.consortia, pools, strict=True))
        ]  # fmt: skip
        event_id = first_id
        for turn in zip_longest(*each):
            for row in turn:
                if row is not None:
                    yield [event_id, *row]
                    event_id += 1

    big = total > people.size.rebuild_indexes_above
    with indexes_deferred(AuditEvent, progress) if big else nullcontext():
        return copy_rows(AuditEvent, COLUMNS, rows(), progress=progress, label="audit events")


@dataclass(frozen=True)
class _Actor:
    """A person's part of an event, escaped once: the canonical text between ``action`` and
    ``changes``, and between ``changes`` and ``object_display``, and the last field."""

    person: Person
    before_changes: str
    after_changes: str
    tail: str
    client_address: str
    user_agent: str


def _actor(person: Person, chain: str, consortium_id: int) -> _Actor:
    address = f"192.0.2.{1 + person.user_id % 250}"
    agent = AGENTS[person.user_id % len(AGENTS)]
    return _Actor(
        person,
        f',"actor_display":{_text(person.username)},"actor_id":"{person.user_id}"'
        f',"actor_kind":"user","actor_organisation_display":{_text(person.organisation_name)}'
        f',"actor_organisation_id":{person.organisation_id},"chain":{_text(chain)},"changes":',
        f',"client_address":"{address}","consortium_id":{consortium_id},"object_display":',
        f',"user_agent":{_text(agent)}}}',
        address,
        agent,
    )


def _chain(
    consortium_id: int,
    consortium_name: str,
    pool: SeededPool,
    agreements: list[SeededAgreement],
    people: list[Person | None],
    count: int,
    index: int,
    rng: random.Random,
) -> Iterator[list[Any]]:
    """One chain's rows. The canonical text is put together from pieces escaped once per
    person and per object, as ``audit.canonical.canonical_text`` would write it field by
    field (tests compare the two); that is what makes two million hashes quick."""
    chain = consortium_chain(consortium_id)
    actors = [_actor(person, chain, consortium_id) for person in people if person is not None]
    step = (END - START) / max(count, 1)
    # Naive UTC, so isoformat() writes the canonical form without a time zone to convert.
    start = START.replace(tzinfo=None) + datetime.timedelta(microseconds=index)
    previous = GENESIS_HASH
    for sequence in range(1, count + 1):
        actor = actors[rng.randrange(len(actors))]
        what = _describe(rng.random(), consortium_id, consortium_name, pool, agreements, rng)
        at = (start + step * sequence).isoformat(timespec="microseconds") + "Z"
        request_id = f"{rng.getrandbits(128):032x}"
        text = (
            f'{{"action":{_text(what.action)}{actor.before_changes}{what.changes}'
            f'{actor.after_changes}{_text(what.object_display)},"object_id":{_text(what.object_id)}'
            f',"object_type":{_text(what.object_type)},"occurred_at":"{at}"'
            f',"outcome":{_text(what.outcome)},"reason":{_text(what.reason)}'
            f',"related_object_display":{_text(what.related_display)}'
            f',"related_object_id":{_text(what.related_id)}'
            f',"related_object_type":{_text(what.related_type)}'
            f',"request_id":"{request_id}","sequence":{sequence}{actor.tail}'
        )
        digest = sha256((previous + text).encode()).hexdigest()
        person = actor.person
        yield [
            what.action, person.username, str(person.user_id), "user",
            person.organisation_name, person.organisation_id, chain, what.changes,
            actor.client_address, consortium_id, what.object_display, what.object_id,
            what.object_type, at, what.outcome, what.reason, what.related_display,
            what.related_id, what.related_type, request_id, sequence, actor.user_agent,
            previous, digest,
        ]  # fmt: skip
        previous = digest


@dataclass(slots=True)
class _What:
    action: str
    object_type: str = ""
    object_id: str = ""
    object_display: str = ""
    related_type: str = ""
    related_id: str = ""
    related_display: str = ""
    changes: str = "{}"
    outcome: str = "success"
    reason: str = ""


def _describe(
    draw: float,
    consortium_id: int,
    consortium_name: str,
    pool: SeededPool,
    agreements: list[SeededAgreement],
    rng: random.Random,
) -> _What:
    """What happened: mostly reads and usage reports, then agreement work, then the rest.
    ``changes`` is written as canonical JSON directly (sorted keys, no spaces)."""
    if draw < 0.35:
        return _What(
            "list",
            "agreements.agreement",
            object_display="agreements.agreement",
            changes=f'{{"count":{rng.randint(1, 50)},"filters":{{}}}}',
        )
    if draw < 0.6:
        return _What(
            "create",
            "compute.usagereport",
            str(pool.id),
            pool.name,
            "compute.pool",
            str(pool.id),
            pool.name,
            changes=f'{{"gpu_hours":"{rng.randrange(100_000) / 100:.2f}","rows":{rng.randint(1, 60)}}}',
        )
    if draw < 0.9 and agreements:
        agreement = agreements[rng.randrange(len(agreements))]
        number = 1 + rng.randrange(agreement.versions)
        before, after = STATUS_STEPS[rng.randrange(len(STATUS_STEPS))]
        return _What(
            "transition" if draw < 0.8 else "sign",
            "agreements.agreement",
            str(agreement.id),
            agreement.title,
            "agreements.agreementversion",
            str(agreement.first_version_id + number - 1),
            f"{agreement.title} v{number}",
            changes=f'{{"status":{{"after":"{after}","before":"{before}"}}}}',
        )
    if draw < 0.95:
        return _What("view", "consortia.consortium", str(consortium_id), consortium_name)
    return _What(
        "denied",
        "compute.pool",
        str(pool.id),
        f"/compute/pools/{pool.id}/settings/",
        changes='{"attempted":"change_pool"}',
        outcome="denied",
        reason="403: the capacity board sets the pool's rules",
    )
