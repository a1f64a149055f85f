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
from django.db.models import QuerySet

from agreements import permissions as agreement_permissions
from agreements.models import Dataset, IPAsset
from alliance.errors import AccessDeniedError, NotVisibleError
from compute import permissions
from compute.compliance.models import Decision, Finding, Job
from compute.models import Site
from consortia import permissions as consortium_permissions
from consortia.models import Jurisdiction

# Rights that let a member propose jobs and ask the engine (what the services enforce).
CHECK_RIGHTS = frozenset(
    {permissions.ComputeAction.REQUEST, permissions.ComputeAction.REPORT_USAGE}
)
LOG_LENGTH = 100


def _authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def visible_decisions(user: Any) -> QuerySet[Decision]:
    """Decisions of the consortia ``user`` sees (every reader of a consortium reads its log)."""
    if not _authenticated(user):
        return Decision.objects.none()
    if user.is_superuser:
        return Decision.objects.all()
    return Decision.objects.filter(
        consortium_id__in=consortium_permissions.visible_consortium_ids(user)
    )


def visible_jobs(user: Any) -> QuerySet[Job]:
    if not _authenticated(user):
        return Job.objects.none()
    if user.is_superuser:
        return Job.objects.all()
    return Job.objects.filter(consortium_id__in=consortium_permissions.visible_consortium_ids(user))


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


def _not_visible(model: type[Decision] | type[Job], pk: Any) -> NotVisibleError:
    consortium_id = (
        model._default_manager.filter(pk=pk).values_list("consortium_id", flat=True).first()
        if str(pk).isdigit()
        else None
    )
    return NotVisibleError(
        f"No {model._meta.verbose_name} matches the given query.",
        consortium_id=consortium_id,
        object_type=model._meta.label_lower,
        object_id=str(pk)[:64],
        action="view_compliance",
    )


def get_decision_for(user: Any, pk: Any) -> Decision:
    """The decision if ``user`` sees its consortium, else 404."""
    found = (
        visible_decisions(user)
        .select_related("consortium", "job", "decided_by")
        .filter(pk=pk)
        .first()
        if str(pk).isdigit()
        else None
    )
    if found is None:
        raise _not_visible(Decision, pk)
    return found


def get_job_for(user: Any, pk: Any) -> Job:
    """The job if ``user`` sees its consortium, else 404."""
    found = (
        visible_jobs(user)
        .select_related("consortium", "organisation", "proposed_by")
        .filter(pk=pk)
        .first()
        if str(pk).isdigit()
        else None
    )
    if found is None:
        raise _not_visible(Job, pk)
    return found


class DecisionFilter(django_filters.FilterSet):  # type: ignore[misc]  # untyped django-filter
    """The decision log's filters, for the API list and the page alike."""

    consortium = django_filters.NumberFilter(field_name="consortium_id")
    outcome = django_filters.ChoiceFilter(choices=Decision.Outcome.choices)
    job = django_filters.NumberFilter(field_name="job_id")

    class Meta:
        model = Decision
        fields = ["consortium", "outcome", "job"]


class JobFilter(django_filters.FilterSet):  # type: ignore[misc]  # untyped django-filter
    consortium = django_filters.NumberFilter(field_name="consortium_id")
    status = django_filters.ChoiceFilter(choices=Job.Status.choices)
    organisation = django_filters.NumberFilter(field_name="organisation_id")

    class Meta:
        model = Job
        fields = ["consortium", "status", "organisation"]


def decision_list(*, actor: Any, consortium_id: int, limit: int = LOG_LENGTH) -> list[Decision]:
    """The consortium's latest decisions, newest first."""
    return list(
        visible_decisions(actor)
        .filter(consortium_id=consortium_id)
        .select_related("job", "decided_by")
        .order_by("-decided_at", "-pk")[:limit]
    )


def decision_count(*, actor: Any, consortium_id: int) -> int:
    return visible_decisions(actor).filter(consortium_id=consortium_id).count()


def job_extras(job: Job) -> dict[str, list[int]]:
    """What a job's detail adds to its row: the ids of its datasets and sites."""
    return {
        "datasets": sorted(job.datasets.values_list("pk", flat=True)),
        "sites": sorted(job.sites.values_list("pk", flat=True)),
    }


# Look-ups of ids in a request body: a wrong id is bad input (400 on its field).


def visible_job_by_id(user: Any, pk: int, field: str = "job") -> Job:
    job = visible_jobs(user).select_related("consortium").filter(pk=pk).first()
    if job is None:
        raise ValidationError({field: f"No job you can see has id {pk}."})
    return job


def visible_model_by_id(user: Any, pk: int, field: str = "model") -> IPAsset:
    model = agreement_permissions.visible_ip_assets(user).filter(pk=pk).first()
    if model is None:
        raise ValidationError({field: f"No model you can see has id {pk}."})
    return model


# Choices of the what-if form.


def consortium_datasets(*, actor: Any, consortium_id: int) -> QuerySet[Dataset]:
    return (
        agreement_permissions.visible_datasets(actor)
        .filter(consortium_id=consortium_id)
        .select_related("residency")
        .order_by("name")
    )


def consortium_models(*, actor: Any, consortium_id: int) -> QuerySet[IPAsset]:
    return (
        agreement_permissions.visible_ip_assets(actor)
        .filter(consortium_id=consortium_id)
        .order_by("name")
    )


def directory_sites(*, actor: Any) -> QuerySet[Site]:
    """Every site of the shared directory: a what-if may name a site the consortium has not
    approved, and the engine says so (SITE_NOT_APPROVED)."""
    return permissions.visible_sites(actor).select_related("provider").order_by("name", "pk")


def jurisdictions() -> QuerySet[Jurisdiction]:
    return Jurisdiction.objects.order_by("code")


def open_findings(*, actor: Any, consortium_id: int) -> list[Finding]:
    """The consortium's findings not yet resolved, newest first, if ``actor`` sees it."""
    if not permissions.can(actor, permissions.ComputeAction.VIEW, consortium_id):
        return []
    return list(
        Finding.objects.filter(consortium_id=consortium_id)
        .exclude(status=Finding.Status.RESOLVED)
        .select_related("job", "owner")
        .order_by("-opened_at", "-pk")
    )


def get_finding_for(actor: Any, pk: Any) -> Finding:
    """A finding of a consortium ``actor`` sees, else 404."""
    finding = (
        Finding.objects.filter(
            pk=pk, consortium_id__in=consortium_permissions.visible_consortium_ids(actor)
        ).first()
        if str(pk).isdigit() and getattr(actor, "is_authenticated", False)
        else None
    )
    if finding is None:
        raise NotVisibleError(
            "No finding matches the given query.",
            object_type="compute.finding",
            object_id=str(pk)[:64],
            action="view_finding",
        )
    return finding
