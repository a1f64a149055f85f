"""The partnership health check: the mistakes the founding guide says alliances make, spotted
from Alliance's own data, each with how to fix it and where.

Each app contributes the checks about what it owns (agreements registers its own in its
AppConfig.ready), so the imports keep pointing downwards. A check returns findings; the score
starts at 100 and loses each finding's weight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from consortia.models import Consortium, Motion, Role, RoleAssignment


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # "high", "medium", "low"
    title: str
    fix: str
    url: str

    @property
    def weight(self) -> int:
        return {"high": 25, "medium": 10, "low": 5}[self.severity]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Check = Callable[[Consortium], list[Finding]]
_checks: dict[str, Check] = {}


def register(name: str, check: Check) -> None:
    _checks[name] = check


def run(consortium: Consortium) -> tuple[int, list[Finding]]:
    findings = [finding for check in _checks.values() for finding in check(consortium)]
    findings.sort(key=lambda finding: -finding.weight)
    return max(0, 100 - sum(finding.weight for finding in findings)), findings


def _committee(consortium: Consortium) -> list[Finding]:
    roles = set(
        RoleAssignment.objects.filter(
            consortium=consortium,
            role__in=[Role.CHAIR, Role.STEERING_MEMBER],
            user__organisation__memberships__consortium=consortium,
            user__organisation__memberships__status="active",
        ).values_list("role", flat=True)
    )
    page = reverse("consortia:detail", args=[consortium.pk])
    findings = []
    if Role.CHAIR not in roles:
        findings.append(
            Finding(
                "no_chair",
                "high",
                "The consortium has no chair.",
                "Hand the chair to a person of an active member.",
                page,
            )
        )
    if Role.STEERING_MEMBER not in roles:
        findings.append(
            Finding(
                "empty_steering_committee",
                "high",
                "The steering committee is empty: no member organisation can vote.",
                "Assign a steering-committee member for each member organisation.",
                page,
            )
        )
    return findings


def _stalled_motions(consortium: Consortium) -> list[Finding]:
    """Motions past their deadline and still undecided (their effect keeps failing): the
    slow decision-making the guide warns about."""
    stalled = Motion.objects.filter(
        consortium=consortium,
        status=Motion.Status.OPEN,
        # The sweep closes motions every minute; an hour past the deadline, something blocks it.
        closes_at__lt=timezone.now() - timedelta(hours=1),
    )
    return [
        Finding(
            "stalled_motion",
            "medium",
            f"Motion {motion.number} ({motion.title}) is past its deadline and undecided"
            + (f": {motion.effect_error}" if motion.effect_error else "."),
            "Fix what blocks its effect; the next sweep then closes it with its effect.",
            reverse("consortia:motion", args=[motion.pk]),
        )
        for motion in stalled
    ]


def _slipping_milestones(consortium: Consortium) -> list[Finding]:
    from consortia.planning import Milestone

    today = timezone.localdate()
    return [
        Finding(
            "milestone_slipping",
            "low",
            f"The milestone {milestone.title} is {milestone.days_late(today)} days late.",
            "Mark it done with its evidence, or take the delay to the committee.",
            reverse("consortia:plan", args=[consortium.pk]),
        )
        for milestone in Milestone.objects.filter(
            consortium=consortium, done_on__isnull=True, due_on__lt=today
        ).order_by("due_on")
    ]


register("committee", _committee)
register("stalled_motions", _stalled_motions)
register("slipping_milestones", _slipping_milestones)


def consortium_panel(request: Any, consortium: Consortium) -> dict[str, Any]:
    score, findings = run(consortium)
    return {
        "consortium": consortium,
        "score": score,
        "findings": findings[:3],
        "count": len(findings),
    }


def record(consortium: Consortium) -> Any:
    """Run the check and keep its result; the previous report is returned with it so the
    caller can tell whether things got worse."""
    from consortia.models import HealthReport

    previous = HealthReport.objects.filter(consortium=consortium).order_by("-ran_at").first()
    score, findings = run(consortium)
    report = HealthReport.objects.create(
        consortium=consortium, score=score, findings=[finding.as_dict() for finding in findings]
    )
    return report, previous


def history(consortium: Consortium) -> list[Any]:
    from consortia.models import HealthReport

    return list(HealthReport.objects.filter(consortium=consortium).order_by("-ran_at")[:10])


def record_on_demand(*, actor: Any, consortium: Consortium) -> Any:
    """The chair or a steering-committee member runs the check now; the run is audited."""
    from alliance.errors import AccessDeniedError
    from audit.models import Action
    from audit.services import audit_record
    from consortia.governance.services import represents

    if not represents(actor, consortium.pk):
        raise AccessDeniedError(
            "Only the chair and steering-committee members record a health check.",
            consortium_id=consortium.pk,
            object_type="consortia.consortium",
            object_id=str(consortium.pk),
            action="record_health_check",
        )
    report, _ = record(consortium)
    audit_record(
        action=Action.CREATE,
        actor=actor,
        consortium_id=consortium.pk,
        target=report,
        changes={"score": {"before": None, "after": report.score}},
    )
    return report
