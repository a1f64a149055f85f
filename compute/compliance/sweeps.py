"""Continuous compliance: re-evaluate every live job and keep its findings in step.

A sweep evaluates each live job (proposed or running, not yet ended) as of now — or as of its
start, for a job that has not started — and reconciles the rules it breaks with the job's
findings: a broken rule with no unresolved finding opens one; one already open is marked seen
(and cites the rule's current clause); a finding whose rule no longer breaks is resolved with a
note. Findings are keyed by job, code and subject, and at most one per key is unresolved (a
database constraint), so a sweep run twice — or two at once — opens nothing twice.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import Action
from audit.services import audit_record
from compute import notifications
from compute.compliance import services
from compute.compliance.models import Finding, Job
from compute.compliance.reasons import Reason
from consortia.models import Consortium, Role

LIVE = (Job.Status.PROPOSED, Job.Status.RUNNING)


@dataclass
class SweepResult:
    jobs: int = 0
    opened: int = 0
    seen: int = 0
    resolved: int = 0

    def add(self, other: SweepResult) -> None:
        self.jobs += other.jobs
        self.opened += other.opened
        self.seen += other.seen
        self.resolved += other.resolved


def finding_key(job_id: int, reason: Reason) -> str:
    text = f"{job_id}|{reason.code}|{reason.subject.type}|{reason.subject.id}"
    return hashlib.sha256(text.encode()).hexdigest()


def live_jobs(consortium_id: int, now: datetime.datetime) -> Any:
    return Job.objects.filter(consortium_id=consortium_id, status__in=LIVE, ends_at__gt=now)


def sweep_consortium(consortium_id: int, now: datetime.datetime | None = None) -> SweepResult:
    """Reconcile the findings of every live job of one consortium, and resolve the findings
    of jobs that have ended or finished."""
    now = now or timezone.now()
    result = SweepResult()
    for job in live_jobs(consortium_id, now).order_by("pk"):
        result.add(sweep_job(job, now))
    ended = Finding.objects.filter(consortium_id=consortium_id).exclude(
        status=Finding.Status.RESOLVED
    )
    ended = ended.filter(Q(job__status=Job.Status.FINISHED) | Q(job__ends_at__lte=now))
    for finding in ended:
        with transaction.atomic():
            _resolve(finding, now, "The job has ended.")
            result.resolved += 1
    return result


@transaction.atomic
def sweep_job(job: Job, now: datetime.datetime) -> SweepResult:
    # Two sweeps of the same job (the hourly one and one queued by a change) take turns, so
    # both cannot open the same finding.
    job = Job.objects.select_for_update().get(pk=job.pk)
    verdict = services.evaluate(job, max(now, job.starts_at))
    result = SweepResult(jobs=1)
    found = {finding_key(job.pk, reason): reason for reason in verdict.reasons}
    unresolved = {
        finding.key: finding
        for finding in Finding.objects.select_for_update()
        .filter(job=job)
        .exclude(status=Finding.Status.RESOLVED)
    }
    opened: list[Finding] = []
    for key, reason in found.items():
        finding = unresolved.get(key)
        if finding is None:
            opened.append(_open(job, key, reason, now))
            continue
        finding.last_seen_at = now
        finding.source = reason.source.as_json() if reason.source else None
        finding.message = reason.message
        finding.save(update_fields=["last_seen_at", "source", "message"])
        result.seen += 1
    for key, finding in unresolved.items():
        if key not in found:
            _resolve(finding, now, "No longer found by the sweep: the rule is now met.")
            result.resolved += 1
    result.opened = len(opened)
    if opened:
        _notify(job, opened)
    return result


def _open(job: Job, key: str, reason: Reason, now: datetime.datetime) -> Finding:
    finding = Finding.objects.create(
        consortium_id=job.consortium_id,
        job=job,
        owner_id=job.organisation_id,
        key=key,
        code=str(reason.code),
        subject=reason.subject.as_json(),
        message=reason.message,
        expected=reason.expected,
        actual=reason.actual,
        source=reason.source.as_json() if reason.source else None,
        opened_at=now,
        last_seen_at=now,
    )
    audit_record(
        action=Action.CREATE,
        actor=None,
        consortium_id=job.consortium_id,
        target=finding,
        related=job,
        changes={
            "code": {"before": None, "after": finding.code},
            "subject": {"before": None, "after": reason.subject.display},
            "clause": {
                "before": None,
                "after": reason.source.as_json() if reason.source else None,
            },
        },
    )
    return finding


def _resolve(finding: Finding, now: datetime.datetime, note: str) -> None:
    before = finding.status
    finding.status = Finding.Status.RESOLVED
    finding.resolved_at = now
    finding.note = (finding.note + "\n" + note).strip()
    finding.save(update_fields=["status", "resolved_at", "note"])
    audit_record(
        action=Action.TRANSITION,
        actor=None,
        consortium_id=finding.consortium_id,
        target=finding,
        changes={"status": {"before": before, "after": Finding.Status.RESOLVED}},
        reason=note,
    )


def _notify(job: Job, opened: list[Finding]) -> None:
    """The consortium's technical and legal people hear of new findings, once per sweep, in
    the inbox and by e-mail."""
    from django.urls import reverse

    from consortia.inbox import Notification, deliver

    lines = [f"- {finding.code}: {finding.message}" for finding in opened]
    deliver(
        notifications.people_in_roles(job.consortium_id, [Role.TECHNICAL, Role.LEGAL]),
        kind=Notification.Kind.COMPLIANCE_FINDING,
        subject=f"Compliance: {len(opened)} new finding{'s' if len(opened) > 1 else ''} on {job}",
        body="A sweep found the job breaking these rules:\n" + "\n".join(lines),
        url=reverse("compute:compliance", args=[job.consortium_id]),
        consortium=job.consortium_id,
    )


def sweep_all(now: datetime.datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    consortia = (
        Consortium.objects.filter(
            Q(jobs__status__in=LIVE, jobs__ends_at__gt=now)
            | Q(compliance_findings__status__in=[Finding.Status.OPEN, Finding.Status.ACKNOWLEDGED])
        )
        .distinct()
        .values_list("pk", flat=True)
    )
    for consortium_id in consortia:
        result.add(sweep_consortium(consortium_id, now))
    return result


@transaction.atomic
def finding_acknowledge(*, actor: Any, finding: Finding, note: str = "") -> Finding:
    return _handle(actor, finding, Finding.Status.ACKNOWLEDGED, note)


@transaction.atomic
def finding_resolve(*, actor: Any, finding: Finding, note: str) -> Finding:
    from django.core.exceptions import ValidationError

    if not note.strip():
        raise ValidationError({"note": "Say how the finding was resolved."})
    return _handle(actor, finding, Finding.Status.RESOLVED, note)


def _handle(actor: Any, finding: Finding, status: str, note: str) -> Finding:
    from alliance.errors import AccessDeniedError, ConflictError
    from compute import permissions
    from compute.permissions import ComputeAction

    # The people who run jobs (technical) and who read the terms (legal) handle findings.
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
