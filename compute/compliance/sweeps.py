"""Continuous compliance: re-evaluate every live job, granted allocation and data set
placement, and keep their findings in step.

A sweep evaluates each live item as of now (or as of its start, for one that has not
started) and reconciles the rules it breaks with the item's findings: a broken rule with no
unresolved finding opens one; one already open is marked seen (and cites the rule's current
clause); a finding whose rule no longer breaks is resolved with a note. Findings are keyed by
item, code and subject, and at most one per key is unresolved (a database constraint), so a
sweep run twice, or two at once, opens nothing twice.

Items go in batches of ``BATCH``: each batch locks its items' rows (two sweeps of the same
items take turns), loads the facts for all of them with one query per kind of row, decides
each in memory, and writes its findings and their audit events in bulk. One fact source
serves the whole sweep: a change committed while it runs queues a sweep of its own
(``triggers``), which sees it.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, F, Q, QuerySet, TextField, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat
from django.utils import timezone

from alliance.copy_insert import copy_insert, new_instance
from audit.models import Action
from audit.services import EventSpec, audit_record, audit_record_many
from compute import notifications
from compute.compliance.decide import decide
from compute.compliance.facts import JobSpec
from compute.compliance.models import Finding, Job, Movement, Placement
from compute.compliance.reasons import SEVERITY, Reason
from compute.compliance.sources import FactSource
from compute.models import AllocationRequest, Reservation
from consortia.models import Role

LIVE = (Job.Status.PROPOSED, Job.Status.RUNNING)
GRANTED = (AllocationRequest.Status.APPROVED, AllocationRequest.Status.PARTLY_APPROVED)
UNRESOLVED = (Finding.Status.OPEN, Finding.Status.ACKNOWLEDGED)
BATCH = 2_000
QUOTED = 20


@dataclass
class SweepResult:
    jobs: int = 0
    allocations: int = 0
    placements: int = 0
    opened: int = 0
    seen: int = 0
    resolved: int = 0
    # What the notification quotes: the first few new findings, and the items they are on.
    new_findings: list[Finding] = field(default_factory=list, repr=False)
    items_with_new_findings: set[str] = field(default_factory=set, repr=False)

    def note_opened(self, opened: list[Finding]) -> None:
        self.new_findings += opened[: max(0, QUOTED - len(self.new_findings))]
        self.items_with_new_findings |= {_item_label(finding) for finding in opened}

    def add(self, other: SweepResult) -> None:
        self.jobs += other.jobs
        self.allocations += other.allocations
        self.placements += other.placements
        self.opened += other.opened
        self.seen += other.seen
        self.resolved += other.resolved
        self.new_findings += other.new_findings[: max(0, QUOTED - len(self.new_findings))]
        self.items_with_new_findings |= other.items_with_new_findings


@dataclass(frozen=True)
class Item:
    """Something a sweep evaluates: its finding field ("job", "allocation" or "placement"),
    the organisation that must act, and how the engine sees it."""

    kind: str
    pk: int
    owner_id: int
    spec: JobSpec
    at: datetime.datetime

    def key(self, reason: Reason) -> str:
        return finding_key(self.kind, self.pk, reason)


def finding_key(kind: str, pk: int, reason: Reason) -> str:
    # Jobs keep the key they had before allocations and placements were swept.
    item = str(pk) if kind == "job" else f"{kind}:{pk}"
    text = f"{item}|{reason.code}|{reason.subject.type}|{reason.subject.id}"
    return hashlib.sha256(text.encode()).hexdigest()


# Each takes a consortium, or None for every consortium.


def _of(queryset: QuerySet[Any], consortium_id: int | None) -> QuerySet[Any]:
    return queryset if consortium_id is None else queryset.filter(consortium_id=consortium_id)


def live_jobs(consortium_id: int | None, now: datetime.datetime) -> QuerySet[Job]:
    return _of(Job.objects.filter(status__in=LIVE, ends_at__gt=now), consortium_id)


def live_allocations(
    consortium_id: int | None, now: datetime.datetime
) -> QuerySet[AllocationRequest]:
    granted = AllocationRequest.objects.filter(status__in=GRANTED, granted_ends_at__gt=now)
    return _of(granted, consortium_id)


def live_placements(consortium_id: int | None, now: datetime.datetime) -> QuerySet[Placement]:
    placed = Placement.objects.filter(Q(until__isnull=True) | Q(until__gt=now.date()))
    return _of(placed.select_related("dataset"), consortium_id)


def _links(through: Any, owner: str, target: str, pks: list[int]) -> dict[int, tuple[int, ...]]:
    links: dict[int, list[int]] = defaultdict(list)
    for owner_id, target_id in _link_rows(through, owner, target, pks):
        links[owner_id].append(target_id)
    return {pk: tuple(sorted(targets)) for pk, targets in links.items()}


def _link_rows(through: Any, owner: str, target: str, pks: list[int]) -> Iterable[tuple[int, int]]:
    if connection.vendor != "postgresql":
        linked: Iterable[tuple[int, int]] = through.objects.filter(
            **{f"{owner}__in": pks}
        ).values_list(owner, target)
        return linked
    # One array parameter, not 2,000: the ORM builds, and psycopg parses, a placeholder per id.
    meta = through._meta
    quote = connection.ops.quote_name
    owner_column, target_column = (quote(meta.get_field(name).column) for name in (owner, target))
    table = quote(meta.db_table)
    sql = f"SELECT {owner_column}, {target_column} FROM {table} WHERE {owner_column} = ANY(%s)"  # noqa: S608 - names from the model
    with connection.cursor() as cursor:
        cursor.execute(sql, [pks])
        rows: list[tuple[int, int]] = cursor.fetchall()
    return rows


# What a sweep reads of a job, as plain rows: building 100,000 Job instances cost a first
# sweep ~3 s.
JOB_COLUMNS = (
    "pk",
    "consortium_id",
    "organisation_id",
    "purpose",
    "action",
    "movement",
    "starts_at",
    "ends_at",
    "model_id",
    "output_jurisdiction_id",
    "output_site_id",
    "aggregation_site_id",
    "secure_aggregation",
    "dp_epsilon",
)


def _job_items(jobs: QuerySet[Job], now: datetime.datetime) -> list[Item]:
    rows = list(jobs.values_list(*JOB_COLUMNS))
    pks = [row[0] for row in rows]
    datasets = _links(Job.datasets.through, "job_id", "dataset_id", pks)
    sites = _links(Job.sites.through, "job_id", "site_id", pks)
    items = []
    for row in rows:
        job = SimpleNamespace(**dict(zip(JOB_COLUMNS, row, strict=True)))
        spec = JobSpec.from_job(job, datasets.get(job.pk, ()), sites.get(job.pk, ()))
        items.append(Item("job", job.pk, job.organisation_id, spec, max(now, job.starts_at)))
    return items


def _allocation_items(locked: Iterable[AllocationRequest], now: datetime.datetime) -> list[Item]:
    """A grant puts the request's data at the sites its GPUs were reserved at."""
    requests = list(locked)
    pks = [request.pk for request in requests]
    datasets = _links(AllocationRequest.datasets.through, "allocationrequest_id", "dataset_id", pks)
    reserved: dict[int, set[int]] = defaultdict(set)
    for request_id, site_id in Reservation.objects.filter(
        request_id__in=pks, status=Reservation.Status.ACTIVE
    ).values_list("request_id", "site_id"):
        reserved[request_id].add(site_id)
    items = []
    for request in requests:
        starts_at = request.granted_starts_at or request.starts_at
        ends_at = request.granted_ends_at or request.ends_at
        spec = JobSpec(
            consortium_id=request.consortium_id,
            organisation_id=request.organisation_id,
            dataset_ids=datasets.get(request.pk, ()),
            site_ids=tuple(sorted(reserved[request.pk])),
            purpose="",
            action="",
            movement=Movement.DATA_TO_COMPUTE,
            starts_at=starts_at,
            ends_at=ends_at,
            job_id=request.pk,
            scope="allocation",
        )
        items.append(
            Item("allocation", request.pk, request.organisation_id, spec, max(now, starts_at))
        )
    return items


def _placement_items(placements: Iterable[Placement], now: datetime.datetime) -> list[Item]:
    items = []
    for placement in placements:
        since = datetime.datetime.combine(placement.since, datetime.time.min, tzinfo=datetime.UTC)
        at = max(now, since)
        until = (
            datetime.datetime.combine(placement.until, datetime.time.min, tzinfo=datetime.UTC)
            if placement.until
            else None
        )
        spec = JobSpec(
            consortium_id=placement.consortium_id,
            organisation_id=placement.dataset.owner_id,
            dataset_ids=(placement.dataset_id,),
            site_ids=(placement.site_id,),
            purpose="",
            action="",
            movement=Movement.DATA_TO_COMPUTE,
            starts_at=since,
            # An open-ended copy answers to the terms in force today, not to their end.
            ends_at=until or at,
            job_id=placement.pk,
            scope="placement",
        )
        items.append(Item("placement", placement.pk, placement.dataset.owner_id, spec, at))
    return items


def _among(pks: list[int]) -> Any:
    """For an ``__in`` filter on ids: on PostgreSQL one array parameter, not a placeholder per
    id, which the ORM builds and psycopg parses in Python (2,000 to 3,500 ids a batch)."""
    if connection.vendor != "postgresql":
        return pks
    return RawSQL("SELECT unnest(%s::bigint[])", (pks,))


def _batches(pks: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(pks), BATCH):
        yield pks[start : start + BATCH]


def sweep_consortium(consortium_id: int, now: datetime.datetime | None = None) -> SweepResult:
    """Reconcile the findings of every live job, granted allocation and placement of one
    consortium, resolve the findings of items that have ended, and tell people of the new
    ones once."""
    now = now or timezone.now()
    source = FactSource(consortium_id)
    result = SweepResult()
    kinds: list[tuple[QuerySet[Any], Any]] = [
        (live_jobs(consortium_id, now), _job_items),
        (live_allocations(consortium_id, now), _allocation_items),
        (live_placements(consortium_id, now), _placement_items),
    ]
    for live, items_of in kinds:
        pks = list(live.order_by("pk").values_list("pk", flat=True))
        for batch in _batches(pks):
            with transaction.atomic():
                # Locked, and still live once locked: items that ended meanwhile drop out.
                locked = (
                    live.filter(pk__in=_among(batch)).order_by("pk").select_for_update(of=("self",))
                )
                result.add(_reconcile(source, items_of(locked, now), now))
    result.resolved += _resolve_ended(consortium_id, now)
    if result.opened:
        _notify(consortium_id, result)
    return result


def _reconcile(source: FactSource, items: list[Item], now: datetime.datetime) -> SweepResult:
    """Decide each item and bring its findings in step, in bulk. Runs in the caller's
    transaction, with the items' rows locked."""
    result = SweepResult()
    if not items:
        return result
    source.preload(item.spec for item in items)
    kind = items[0].kind
    setattr(result, f"{kind}s", len(items))
    # Plain rows, not model instances: a sweep reads every unresolved finding of every item.
    unresolved: dict[str, Any] = {
        row["key"]: row
        for row in Finding.objects.select_for_update()
        .filter(**{f"{kind}_id__in": _among([item.pk for item in items])}, status__in=UNRESOLVED)
        .order_by("pk")
        .values("pk", "key", "source", "message")
    }
    found: dict[str, tuple[Item, Reason]] = {}
    for item in items:
        verdict = decide(source.facts(item.spec, item.at), digest=False, explain=False)
        for reason in verdict.reasons:
            found.setdefault(item.key(reason), (item, reason))

    opened = [
        _new_finding(item, key, reason, now)
        for key, (item, reason) in found.items()
        if key not in unresolved
    ]
    changed, unchanged = [], []
    for key, row in unresolved.items():
        if key not in found:
            continue
        reason = found[key][1]
        source_json = reason.source.as_json() if reason.source else None
        if row["source"] != source_json or row["message"] != reason.message:
            changed.append(
                Finding(pk=row["pk"], source=source_json, message=reason.message, last_seen_at=now)
            )
        else:
            unchanged.append(row["pk"])
    Finding.objects.filter(pk__in=_among(unchanged)).update(last_seen_at=now)
    Finding.objects.bulk_update(changed, ["source", "message", "last_seen_at"], batch_size=500)
    result.seen = len(changed) + len(unchanged)

    copy_insert(opened)
    audit_record_many(_opened_event(finding) for finding in opened)
    result.opened = len(opened)
    result.note_opened(opened)

    gone = [row["pk"] for key, row in unresolved.items() if key not in found]
    _resolve_all(
        Finding.objects.filter(pk__in=_among(gone)).order_by("pk"),
        now,
        "No longer found by the sweep: the rule is now met.",
    )
    result.resolved = len(gone)
    return result


def _new_finding(item: Item, key: str, reason: Reason, now: datetime.datetime) -> Finding:
    return new_instance(
        Finding,
        {
            "consortium_id": item.spec.consortium_id,
            f"{item.kind}_id": item.pk,
            "owner_id": item.owner_id,
            "key": key,
            "code": str(reason.code),
            "severity": str(SEVERITY[reason.code]),
            "subject": reason.subject.as_json(),
            "message": reason.message,
            "expected": reason.expected,
            "actual": reason.actual,
            "source": reason.source.as_json() if reason.source else None,
            "opened_at": now,
            "last_seen_at": now,
        },
    )


def _opened_event(finding: Finding) -> EventSpec:
    return {
        "action": Action.CREATE,
        "actor": None,
        "consortium_id": finding.consortium_id,
        "target": finding,
        "changes": {
            "code": {"before": None, "after": finding.code},
            "subject": {"before": None, "after": finding.subject.get("display", "")},
            "clause": {"before": None, "after": finding.source},
            "item": {"before": None, "after": _item_label(finding)},
        },
    }


def _item_label(finding: Finding) -> str:
    for kind in ("job", "allocation", "placement"):
        if (pk := getattr(finding, f"{kind}_id")) is not None:
            return f"{kind} {pk}"
    return ""


def _resolve_all(findings: Iterable[Finding], now: datetime.datetime, note: str) -> None:
    findings = list(findings)
    events: list[EventSpec] = []
    for finding in findings:
        events.append(
            {
                "action": Action.TRANSITION,
                "actor": None,
                "consortium_id": finding.consortium_id,
                "target": finding,
                "changes": {"status": {"before": finding.status, "after": Finding.Status.RESOLVED}},
                "reason": note,
            }
        )
    # One UPDATE however many: a sweep after a rule change may resolve thousands at once.
    Finding.objects.filter(pk__in=_among([finding.pk for finding in findings])).update(
        status=Finding.Status.RESOLVED,
        resolved_at=now,
        note=Case(
            When(note="", then=Value(note)),
            default=Concat(F("note"), Value("\n" + note)),
            output_field=TextField(),
        ),
    )
    audit_record_many(events)


def _resolve_ended(consortium_id: int, now: datetime.datetime) -> int:
    """Findings whose item ended (a finished job, a lapsed grant, a removed copy) are
    resolved: nothing is left to put right."""
    ended = (
        Q(job__status=Job.Status.FINISHED)
        | Q(job__ends_at__lte=now)
        | Q(allocation__isnull=False) & ~Q(allocation__status__in=GRANTED)
        | Q(allocation__granted_ends_at__lte=now)
        | Q(placement__until__lte=now.date())
    )
    resolved = 0
    while True:
        with transaction.atomic():
            findings = list(
                Finding.objects.select_for_update(of=("self",))
                .filter(consortium_id=consortium_id, status__in=UNRESOLVED)
                .filter(ended)
                .order_by("pk")[:BATCH]
            )
            _resolve_all(findings, now, "The job, allocation or placement has ended.")
        resolved += len(findings)
        if len(findings) < BATCH:
            return resolved


def _notify(consortium_id: int, result: SweepResult) -> None:
    """The consortium's technical and legal people hear of a sweep's new findings once, in
    the inbox and by e-mail, however many items they are on."""
    from django.urls import reverse

    from consortia.inbox import Notification, deliver

    lines = [f"- {_item_label(f)}: {f.code}: {f.message}" for f in result.new_findings]
    if result.opened > len(lines):
        lines.append(f"… and {result.opened - len(lines)} more on the compliance page.")
    items = result.items_with_new_findings
    plural = "s" if result.opened > 1 else ""
    where = next(iter(items)) if len(items) == 1 else f"{len(items)} items"
    deliver(
        notifications.people_in_roles(consortium_id, [Role.TECHNICAL, Role.LEGAL]),
        kind=Notification.Kind.COMPLIANCE_FINDING,
        subject=f"Compliance: {result.opened} new finding{plural} on {where}",
        body="A sweep found these rules broken:\n" + "\n".join(lines),
        url=reverse("compute:compliance", args=[consortium_id]),
        consortium=consortium_id,
    )


def sweep_all(now: datetime.datetime | None = None) -> SweepResult:
    """Every consortium with a live item or an unresolved finding (the hourly beat)."""
    now = now or timezone.now()
    consortia: set[int] = set()
    for live in (live_jobs, live_allocations, live_placements):
        consortia |= set(live(None, now).values_list("consortium_id", flat=True).distinct())
    unresolved = Finding.objects.filter(status__in=UNRESOLVED)
    consortia |= set(unresolved.values_list("consortium_id", flat=True).distinct())
    result = SweepResult()
    for consortium_id in sorted(consortia):
        result.add(sweep_consortium(consortium_id, now))
    return result


FINDING_NOTE_LENGTH = 1000


@transaction.atomic
def finding_acknowledge(*, actor: Any, finding: Finding, note: str = "") -> Finding:
    return _handle(actor, finding, Finding.Status.ACKNOWLEDGED, note)


@transaction.atomic
def finding_resolve(*, actor: Any, finding: Finding, note: str) -> Finding:
    from django.core.exceptions import ValidationError

    if not note.strip():
        raise ValidationError({"note": "Say how the finding was resolved."})
    return _handle(actor, finding, Finding.Status.RESOLVED, note)


def require_may_handle(actor: Any, finding: Finding) -> None:
    """403 unless ``actor`` may acknowledge and resolve the finding: the people who run jobs
    (technical) and who read the terms (legal). Asked before a request's note is read, so a
    read-only role is refused whatever it sent."""
    from alliance.errors import AccessDeniedError
    from compute import permissions
    from compute.permissions import ComputeAction

    if not permissions.rights(actor, finding.consortium_id) & {
        ComputeAction.REQUEST,
        ComputeAction.REPORT_USAGE,
    }:
        raise AccessDeniedError(
            "Technical and legal people of the consortium handle compliance findings.",
            consortium_id=finding.consortium_id,
            object_type="compute.finding",
            object_id=str(finding.pk),
            action="handle_finding",
        )


def _handle(actor: Any, finding: Finding, status: str, note: str) -> Finding:
    from alliance.errors import ConflictError

    require_may_handle(actor, finding)
    if len(note) > FINDING_NOTE_LENGTH:
        from django.core.exceptions import ValidationError

        raise ValidationError(
            {"note": f"Keep the note within {FINDING_NOTE_LENGTH} characters ({len(note)} sent)."}
        )
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    if finding.status == Finding.Status.RESOLVED or finding.status == status:
        raise ConflictError(
            f"This finding is already {finding.get_status_display().lower()}.",
            code="finding_handled",
        )
    before = finding.status
    now = timezone.now()
    finding.status = status
    finding.handled_by = actor
    if status == Finding.Status.ACKNOWLEDGED:
        finding.acknowledged_at = now
    else:
        finding.resolved_at = now
    if note.strip():
        finding.note = (finding.note + "\n" + note.strip()).strip()
    finding.save()
    audit_record(
        action=Action.TRANSITION,
        actor=actor,
        consortium_id=finding.consortium_id,
        target=finding,
        changes={"status": {"before": before, "after": status}},
        reason=note.strip(),
    )
    return finding
