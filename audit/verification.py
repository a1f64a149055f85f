"""Checking the audit trail: every hash recomputed, every sequence gapless, every checkpoint
signed by this deployment and still matching its chain.

On PostgreSQL each chain is checked by one SQL query that re-hashes every event with the
same recipe as audit.canonical (``canonical_sql``); elsewhere, or with
``method="python"``, in Python.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import connection
from django.db.models import Min

from audit.canonical import HASHED_FIELDS, canonical_sql, event_hash
from audit.models import GENESIS_HASH, AuditCheckpoint, AuditEvent

Method = Literal["auto", "sql", "python"]


@dataclass(frozen=True)
class Break:
    chain: str
    sequence: int
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        event = f"event {self.event_id}" if self.event_id is not None else "no event"
        return f"{self.chain} #{self.sequence} ({event}): {self.reason}"


@dataclass
class Report:
    method: str
    events: int = 0
    chains: int = 0
    checkpoints: int = 0
    seconds: float = 0.0
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def verify(*, chains: Iterable[str] | None = None, method: Method = "auto") -> Report:
    """Verify the named chains (all when None); one Break per broken chain, the first one."""
    chosen = chains if chains is None else sorted(set(chains))
    if method == "auto":
        method = "sql" if connection.vendor == "postgresql" else "python"
    started = time.perf_counter()
    report = _verify_sql(chosen) if method == "sql" else _verify_python(chosen)
    _verify_checkpoints(chosen, report)
    report.seconds = time.perf_counter() - started
    return report


# Each event is checked on its own, which PostgreSQL can spread over parallel workers: its
# hash re-computed (inside a sub-query kept apart by OFFSET 0, so the workers compute it),
# and its link to the event before it (found by the unique (chain, sequence) key). A chain
# starts at #1 after the genesis hash or, once an operator has archived an old segment (see
# the README), right after a checkpoint that sealed it. Only failing events come back.
_SQL = """
SELECT e.chain, e.sequence, e.id, p.id IS NULL AS no_previous,
       p.id IS NOT NULL AND e.prev_hash <> p.hash AS bad_link,
       NOT e.hash_ok AS bad_hash
FROM (
    SELECT e.id, e.chain, e.sequence, e.prev_hash,
           e.hash = encode(sha256(convert_to(e.prev_hash || {canonical}, 'UTF8')), 'hex') AS hash_ok
    FROM audit_auditevent e {where} OFFSET 0
) e
LEFT JOIN audit_auditevent p ON p.chain = e.chain AND p.sequence = e.sequence - 1
WHERE (p.id IS NULL
       AND NOT (e.sequence = 1 AND e.prev_hash = %s)
       AND NOT EXISTS (SELECT 1 FROM audit_auditcheckpoint c
                       WHERE c.chain = e.chain AND c.size = e.sequence - 1 AND c.head_hash = e.prev_hash))
   OR (p.id IS NOT NULL AND e.prev_hash <> p.hash)
   OR NOT e.hash_ok
"""
# For this one query: let PostgreSQL use its parallel workers however cheap it thinks the
# rows are, and hash the whole table in memory.
_SESSION = {
    "parallel_setup_cost": "0",
    "parallel_tuple_cost": "0",
    "min_parallel_table_scan_size": "0",
    "work_mem": "'256MB'",
}


def _reason(
    *, missing_before: bool, chain_starts_here: bool, bad_link: bool, bad_hash: bool
) -> str:
    if missing_before and chain_starts_here:
        return "the chain does not start at #1, nor right after a checkpoint: events are missing before this one"
    if missing_before:
        return "sequence gap: an event is missing before this one"
    if bad_link:
        return "prev_hash does not match the previous event's hash"
    return "hash does not match the event's content: the event was altered"


def _verify_sql(chains: list[str] | None) -> Report:
    report = Report(method="sql")
    where, params = "", list[Any]()
    if chains is not None:
        where, params = "WHERE e.chain = ANY(%s)", [chains]
    with connection.cursor() as cursor:
        counting = f"SELECT count(*), count(DISTINCT e.chain) FROM audit_auditevent e {where}"  # noqa: S608
        cursor.execute(counting, params)
        report.events, report.chains = cursor.fetchone() or (0, 0)
        for name, value in _SESSION.items():
            cursor.execute(f"SET {name} = {value}")
        try:
            cursor.execute(
                _SQL.format(where=where, canonical=canonical_sql("e")), [*params, GENESIS_HASH]
            )
            failing = cursor.fetchall()
        finally:
            for name in _SESSION:
                cursor.execute(f"RESET {name}")
    first_failure: dict[str, tuple[Any, ...]] = {}
    for row in sorted(failing, key=lambda row: (row[0], row[1])):
        first_failure.setdefault(row[0], row)
    first_kept = dict(
        AuditEvent.objects.filter(chain__in=list(first_failure))
        .values("chain")
        .annotate(first=Min("sequence"))
        .values_list("chain", "first")
    )
    for chain, (_, sequence, event_id, no_previous, bad_link, bad_hash) in sorted(
        first_failure.items()
    ):
        reason = _reason(
            missing_before=no_previous,
            chain_starts_here=first_kept.get(chain) == sequence,
            bad_link=bad_link,
            bad_hash=bad_hash,
        )
        report.breaks.append(Break(chain, sequence, event_id, reason))
    return report


def _rows(chains: list[str] | None) -> Iterator[dict[str, Any]]:
    events = AuditEvent.objects.order_by("chain", "sequence")
    if chains is not None:
        events = events.filter(chain__in=chains)
    columns = ("id", *HASHED_FIELDS, "prev_hash", "hash")
    for values in events.values_list(*columns).iterator(chunk_size=5000):
        yield dict(zip(columns, values, strict=True))


def _verify_python(chains: list[str] | None) -> Report:
    report = Report(method="python")
    sealed = set(AuditCheckpoint.objects.values_list("chain", "size", "head_hash"))
    current, previous_hash, expected_sequence, broken = None, GENESIS_HASH, 1, False
    for event in _rows(chains):
        bad_start = bad_link = bad_sequence = False
        if event["chain"] != current:
            current, broken = event["chain"], False
            report.chains += 1
            first = event["sequence"], event["prev_hash"]
            bad_start = (
                first != (1, GENESIS_HASH) and (current, first[0] - 1, first[1]) not in sealed
            )
        else:
            bad_link = event["prev_hash"] != previous_hash
            bad_sequence = event["sequence"] != expected_sequence
        report.events += 1
        if broken:
            continue
        bad_hash = event_hash(event["prev_hash"], event) != event["hash"]
        if bad_start or bad_link or bad_sequence or bad_hash:
            reason = _reason(
                missing_before=bad_start or bad_sequence,
                chain_starts_here=bad_start,
                bad_link=bad_link,
                bad_hash=bad_hash,
            )
            report.breaks.append(Break(event["chain"], event["sequence"], event["id"], reason))
            broken = True
        previous_hash, expected_sequence = event["hash"], event["sequence"] + 1
    return report


def _verify_checkpoints(chains: list[str] | None, report: Report) -> None:
    from audit.signing import key_id, verify

    current_key = key_id()
    checkpoints = AuditCheckpoint.objects.order_by("chain", "size")
    if chains is not None:
        checkpoints = checkpoints.filter(chain__in=chains)
    heads = {
        (chain, sequence): event_hash_value
        for chain, sequence, event_hash_value in AuditEvent.objects.filter(
            chain__in=checkpoints.values("chain"), sequence__in=checkpoints.values("size")
        ).values_list("chain", "sequence", "hash")
    }
    # Checkpoints below a chain's first remaining event sealed a segment that was archived;
    # their signatures still verify, their heads are in the archive.
    first_kept = dict(
        AuditEvent.objects.filter(chain__in=checkpoints.values("chain"))
        .values("chain")
        .annotate(first=Min("sequence"))
        .values_list("chain", "first")
    )
    for checkpoint in checkpoints:
        report.checkpoints += 1
        archived = checkpoint.size < first_kept.get(checkpoint.chain, 1)
        if checkpoint.key_id != current_key:
            reason = f"checkpoint signed by a key this deployment does not hold ({checkpoint.key_id[:16]})"
        elif not verify(checkpoint.note, checkpoint.signature):
            reason = "checkpoint signature does not verify: the checkpoint was altered"
        elif (
            not archived and heads.get((checkpoint.chain, checkpoint.size)) != checkpoint.head_hash
        ):
            reason = (
                "the chain no longer leads to this checkpoint's head: history was rewritten or cut"
            )
        else:
            continue
        report.breaks.append(Break(checkpoint.chain, checkpoint.size, None, reason))
