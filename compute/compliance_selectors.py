"""Reads of the compliance engine for the pages and the API: the decision log and jobs of the
consortia a user sees, the one gate per object (404 outside the consortium), who may check
jobs, and the choices a what-if form offers.

Deciding and proposing are the services' (``compute.compliance.services``), which check the
right again and audit. Here only reads.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Case, Count, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from agreements import permissions as agreement_permissions
from agreements.models import IPAsset
from alliance.api.filters import IdFilter
from alliance.errors import AccessDeniedError
from compute import permissions
from compute.compliance.models import Decision, Finding, Job
from compute.compliance.reasons import Code, Severity

# Rights that let a member propose jobs and ask the engine (what the services enforce).
CHECK_RIGHTS = frozenset(
    {permissions.ComputeAction.REQUEST, permissions.ComputeAction.REPORT_USAGE}
)
LOG_LENGTH = 100
LOG_PAGE = 50


def may_check_jobs(user: Any, consortium_id: int) -> bool:
    """Whether ``user`` may propose jobs and ask the engine in this consortium."""
    return bool(permissions.rights(user, consortium_id) & CHECK_RIGHTS)


def require_check_jobs(user: Any, consortium_id: int) -> None:
    """403 for a reader without the right (before any of the body is looked up, so a
    read-only role is refused whatever it sent)."""
    if not may_check_jobs(user, consortium_id):
        raise AccessDeniedError(
            "Only members who request capacity or report usage may propose or check jobs.",
            consortium_id=consortium_id,
            object_type="consortia.consortium",
            object_id=str(consortium_id),
            action="propose_job",
        )


class DecisionFilter(django_filters.FilterSet):  # type: ignore[misc]  # untyped django-filter
    """The decision log's filters, for the API list and the page alike."""

    consortium = IdFilter(field_name="consortium_id")
    outcome = django_filters.ChoiceFilter(
        choices=Decision.Outcome.choices, label=_("Outcome"), empty_label=_("Any")
    )
    job = IdFilter(field_name="job_id")

    class Meta:
        model = Decision
        fields = ["consortium", "outcome", "job"]


class JobFilter(django_filters.FilterSet):  # type: ignore[misc]  # untyped django-filter
    consortium = IdFilter(field_name="consortium_id")
    status = django_filters.ChoiceFilter(choices=Job.Status.choices)
    organisation = IdFilter(field_name="organisation_id")

    class Meta:
        model = Job
        fields = ["consortium", "status", "organisation"]


def consortium_decisions(*, actor: Any, consortium_id: int) -> QuerySet[Decision]:
    """The consortium's decisions ``actor`` sees, newest first, with their job and asker."""
    return (
        permissions.visible_decisions(actor)
        .filter(consortium_id=consortium_id)
        .select_related("job", "decided_by")
        .order_by("-decided_at", "-pk")
    )


def decision_list(*, actor: Any, consortium_id: int, limit: int = LOG_LENGTH) -> list[Decision]:
    """The consortium's latest decisions, newest first."""
    return list(consortium_decisions(actor=actor, consortium_id=consortium_id)[:limit])


def decision_count(*, actor: Any, consortium_id: int) -> int:
    return permissions.visible_decisions(actor).filter(consortium_id=consortium_id).count()


def job_extras(job: Job) -> dict[str, list[int]]:
    """What a job's detail adds to its row: the ids of its datasets and sites."""
    return {
        "datasets": sorted(job.datasets.values_list("pk", flat=True)),
        "sites": sorted(job.sites.values_list("pk", flat=True)),
    }


# Look-ups of ids in a request body: a wrong id is bad input (400 on its field).


def visible_job_by_id(user: Any, pk: int, field: str = "job") -> Job:
    job = permissions.visible_jobs(user).select_related("consortium").filter(pk=pk).first()
    if job is None:
        raise ValidationError({field: f"No job you can see has id {pk}."})
    return job


def visible_model_by_id(user: Any, pk: int, field: str = "model") -> IPAsset:
    model = agreement_permissions.visible_ip_assets(user).filter(pk=pk).first()
    if model is None:
        raise ValidationError({field: f"No model you can see has id {pk}."})
    return model


# Choices of the what-if form.


def consortium_models(*, actor: Any, consortium_id: int) -> QuerySet[IPAsset]:
    return (
        agreement_permissions.visible_ip_assets(actor)
        .filter(consortium_id=consortium_id)
        .order_by("name")
    )


FINDINGS_SHOWN = 200
FINDINGS_PAGE = 50
# What a finding's row on the pages names: the item it is on and the organisation that owns it.
FINDING_ROW = (
    "job",
    "allocation__pool",
    "allocation__organisation",
    "placement__dataset",
    "placement__site",
    "owner",
)


class FindingFilter(django_filters.FilterSet):  # type: ignore[misc]  # untyped django-filter
    """The findings' filters, for the API list and the findings page alike."""

    consortium = IdFilter(field_name="consortium_id")
    status = django_filters.ChoiceFilter(
        choices=Finding.Status.choices, label=_("Status"), empty_label=_("Any")
    )
    severity = django_filters.ChoiceFilter(
        choices=[(level.value, level.value.capitalize()) for level in Severity],
        label=_("Severity"),
        empty_label=_("Any"),
    )
    code = django_filters.ChoiceFilter(
        choices=[(code.value, code.value) for code in Code], label=_("Rule"), empty_label=_("Any")
    )
    job = IdFilter(field_name="job_id")
    owner = IdFilter(field_name="owner_id")

    class Meta:
        model = Finding
        fields = ["consortium", "status", "severity", "code", "job", "owner"]


def consortium_findings(*, actor: Any, consortium_id: int) -> QuerySet[Finding]:
    """Every finding of the consortium ``actor`` sees, resolved ones too, newest first, with
    what a row of the findings page shows."""
    return (
        permissions.visible_findings(actor)
        .filter(consortium_id=consortium_id)
        .select_related(*FINDING_ROW, "handled_by")
        .order_by("-opened_at", "-pk")
    )


def open_findings(*, actor: Any, consortium_id: int) -> tuple[list[Finding], dict[str, int]]:
    """The consortium's findings not yet resolved, most severe and then newest first (at
    most FINDINGS_SHOWN: a rule change can open thousands at once), and how many there are of
    each severity, if ``actor`` sees it."""
    unresolved = (
        permissions.visible_findings(actor)
        .filter(consortium_id=consortium_id)
        .exclude(status=Finding.Status.RESOLVED)
    )
    rank = Case(
        *(When(severity=severity, then=Value(n)) for n, severity in enumerate(Severity)),
        default=Value(len(Severity)),
    )
    shown = (
        unresolved.select_related(*FINDING_ROW)
        .alias(rank=rank)
        .order_by("rank", "-opened_at", "-pk")[:FINDINGS_SHOWN]
    )
    return list(shown), _by_severity(unresolved)


def findings_by_severity(*, actor: Any, consortium_id: int) -> dict[str, dict[str, int]]:
    """How many of the consortium's findings ``actor`` sees are open, acknowledged and
    resolved, per severity, most severe first. One query."""
    counts: dict[tuple[str, str], int] = {
        (severity, status): n
        for severity, status, n in permissions.visible_findings(actor)
        .filter(consortium_id=consortium_id)
        .order_by()
        .values_list("severity", "status")
        .annotate(n=Count("pk"))
        .values_list("severity", "status", "n")
    }
    return {
        str(severity): {
            str(status): counts.get((str(severity), str(status)), 0) for status in Finding.Status
        }
        for severity in Severity
    }


def _by_severity(unresolved: QuerySet[Finding]) -> dict[str, int]:
    counts = dict(
        unresolved.order_by()
        .values_list("severity")
        .annotate(n=Count("pk"))
        .values_list("severity", "n")
    )
    return {str(severity): counts.get(str(severity), 0) for severity in Severity}
