"""The access policy for shared compute, built on the consortium's.

Everyone who can see a consortium sees its pools, requests, reservations, usage and fair
share: the numbers that settle "misaligned capacity needs" only settle them when all members
see them. What people may do follows their roles while their organisation is an active member:
the chair sets up pools, records contributions and approves providers and sites; the capacity
board decides requests and changes capacity; a member's people (any role but observer and
auditor) request capacity for their own organisation; technical people and the board report
usage; the chair and steering members lend their organisation's entitlement. A member's
statement is for its own people, the chair, the board and auditors. 404 outside, 403 inside.

The provider and site directory is shared by all consortia, like the organisation directory:
every signed-in user may read it; staff and people who run a consortium's compute (chair,
technical, capacity board) register entries.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models

from alliance.errors import AccessDeniedError, NotVisibleError
from compute.compliance.models import Placement
from compute.models import (
    AllocationRequest,
    Approval,
    Contribution,
    Decision,
    Finding,
    Job,
    Loan,
    Pool,
    Provider,
    Reservation,
    Site,
    UsageRecord,
)
from consortia import permissions as consortium_permissions
from consortia.models import Role, RoleAssignment


class ComputeAction(enum.StrEnum):
    VIEW = "view_compute"
    MANAGE_POOLS = "manage_pools"
    APPROVE_SITES = "approve_sites"
    RECORD_CONTRIBUTIONS = "record_contributions"
    CHANGE_CAPACITY = "change_capacity"
    REQUEST = "request_capacity"
    DECIDE = "decide_allocation"
    REPORT_USAGE = "report_usage"
    LEND = "lend_entitlement"
    VIEW_ALL_STATEMENTS = "view_all_statements"


ROLE_ACTIONS: Mapping[Role, frozenset[ComputeAction]] = {
    Role.CHAIR: frozenset(
        {
            ComputeAction.VIEW,
            ComputeAction.MANAGE_POOLS,
            ComputeAction.APPROVE_SITES,
            ComputeAction.RECORD_CONTRIBUTIONS,
            ComputeAction.CHANGE_CAPACITY,
            ComputeAction.REQUEST,
            ComputeAction.REPORT_USAGE,
            ComputeAction.LEND,
            ComputeAction.VIEW_ALL_STATEMENTS,
        }
    ),
    Role.CAPACITY_BOARD: frozenset(
        {
            ComputeAction.VIEW,
            ComputeAction.CHANGE_CAPACITY,
            ComputeAction.DECIDE,
            ComputeAction.REPORT_USAGE,
            ComputeAction.VIEW_ALL_STATEMENTS,
        }
    ),
    Role.STEERING_MEMBER: frozenset(
        {ComputeAction.VIEW, ComputeAction.REQUEST, ComputeAction.LEND}
    ),
    Role.TECHNICAL: frozenset(
        {ComputeAction.VIEW, ComputeAction.REQUEST, ComputeAction.REPORT_USAGE}
    ),
    Role.LEGAL: frozenset({ComputeAction.VIEW, ComputeAction.REQUEST}),
    Role.AUDITOR: frozenset({ComputeAction.VIEW, ComputeAction.VIEW_ALL_STATEMENTS}),
    Role.OBSERVER: frozenset({ComputeAction.VIEW}),
}

# Roles whose holders may add providers and sites to the shared directory.
DIRECTORY_ROLES = (Role.CHAIR, Role.TECHNICAL, Role.CAPACITY_BOARD)

ModelT = TypeVar("ModelT", bound=models.Model)


def _authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def rights(user: Any, consortium_id: int) -> frozenset[ComputeAction]:
    if not _authenticated(user):
        return frozenset()
    if user.is_superuser:
        return frozenset(ComputeAction)
    where = consortium_permissions.standing(user, consortium_id)
    granted: set[ComputeAction] = set()
    if where.membership_status in consortium_permissions.VISIBLE_MEMBERSHIP_STATUSES or (
        consortium_permissions.ConsortiumAction.VIEW.value in where.granted
    ):
        granted.add(ComputeAction.VIEW)
    for role in where.roles:
        granted |= ROLE_ACTIONS[role]
    return frozenset(granted)


def can(user: Any, action: ComputeAction, consortium_id: int) -> bool:
    return action in rights(user, consortium_id)


def require(user: Any, action: ComputeAction, consortium_id: int, obj: Any = None) -> None:
    if not can(user, action, consortium_id):
        raise AccessDeniedError(
            f"You may not {action.value.replace('_', ' ')} here.",
            consortium_id=consortium_id,
            object_type=obj._meta.label_lower if obj is not None else "consortia.consortium",
            object_id=str(obj.pk) if obj is not None else str(consortium_id),
            action=action.value,
        )


def can_read_statement(user: Any, consortium_id: int, organisation_id: int) -> bool:
    if not can(user, ComputeAction.VIEW, consortium_id):
        return False
    return user.organisation_id == organisation_id or can(
        user, ComputeAction.VIEW_ALL_STATEMENTS, consortium_id
    )


def can_edit_directory(user: Any) -> bool:
    if not _authenticated(user):
        return False
    if user.is_staff or user.is_superuser:
        return True
    return RoleAssignment.objects.filter(
        user_id=user.pk,
        role__in=DIRECTORY_ROLES,
        consortium__memberships__organisation_id=user.organisation_id,
        consortium__memberships__status="active",
    ).exists()


def require_directory_editor(user: Any) -> None:
    if not can_edit_directory(user):
        raise AccessDeniedError(
            "Only staff and people who run a consortium's compute (chair, technical, capacity "
            "board) register providers and sites.",
            object_type="compute.provider",
            action="edit_directory",
        )


def _in_visible_consortia(user: Any, queryset: models.QuerySet[ModelT], path: str) -> Any:
    if not _authenticated(user):
        return queryset.none()
    if user.is_superuser:
        return queryset
    return queryset.filter(**{f"{path}__in": consortium_permissions.visible_consortium_ids(user)})


def visible_pools(user: Any) -> models.QuerySet[Pool]:
    return _in_visible_consortia(user, Pool.objects.all(), "consortium_id")  # type: ignore[no-any-return]


def visible_requests(user: Any) -> models.QuerySet[AllocationRequest]:
    return _in_visible_consortia(user, AllocationRequest.objects.all(), "consortium_id")  # type: ignore[no-any-return]


def visible_reservations(user: Any) -> models.QuerySet[Reservation]:
    return _in_visible_consortia(user, Reservation.objects.all(), "pool__consortium_id")  # type: ignore[no-any-return]


def visible_usage(user: Any) -> models.QuerySet[UsageRecord]:
    return _in_visible_consortia(user, UsageRecord.objects.all(), "pool__consortium_id")  # type: ignore[no-any-return]


def visible_loans(user: Any) -> models.QuerySet[Loan]:
    return _in_visible_consortia(user, Loan.objects.all(), "pool__consortium_id")  # type: ignore[no-any-return]


def visible_approvals(user: Any) -> models.QuerySet[Approval]:
    return _in_visible_consortia(user, Approval.objects.all(), "consortium_id")  # type: ignore[no-any-return]


def visible_contributions(user: Any) -> models.QuerySet[Contribution]:
    return _in_visible_consortia(user, Contribution.objects.all(), "pool__consortium_id")  # type: ignore[no-any-return]


def visible_decisions(user: Any) -> models.QuerySet[Decision]:
    """Compliance decisions: every reader of a consortium reads its decision log."""
    return _in_visible_consortia(user, Decision.objects.all(), "consortium_id")  # type: ignore[no-any-return]


def visible_jobs(user: Any) -> models.QuerySet[Job]:
    return _in_visible_consortia(user, Job.objects.all(), "consortium_id")  # type: ignore[no-any-return]


def visible_placements(user: Any) -> models.QuerySet[Placement]:
    """Where a consortium's data sets are copied: every reader of the consortium sees it."""
    return _in_visible_consortia(user, Placement.objects.all(), "consortium_id")  # type: ignore[no-any-return]


def visible_findings(user: Any) -> models.QuerySet[Finding]:
    return _in_visible_consortia(user, Finding.objects.all(), "consortium_id")  # type: ignore[no-any-return]


def visible_providers(user: Any) -> models.QuerySet[Provider]:
    return Provider.objects.all() if _authenticated(user) else Provider.objects.none()


def visible_sites(user: Any) -> models.QuerySet[Site]:
    return Site.objects.all() if _authenticated(user) else Site.objects.none()


# How to reach an object's consortium, for the audit record of a refused request.
CONSORTIUM_PATHS = {
    "pool": "consortium_id",
    "allocationrequest": "consortium_id",
    "reservation": "pool__consortium_id",
    "usagerecord": "pool__consortium_id",
    "loan": "pool__consortium_id",
    "approval": "consortium_id",
    "decision": "consortium_id",
    "job": "consortium_id",
    "placement": "consortium_id",
    "finding": "consortium_id",
}


def _get(queryset: models.QuerySet[ModelT], pk: Any, action: ComputeAction) -> ModelT:
    try:
        return queryset.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError):
        model = queryset.model
        path = CONSORTIUM_PATHS.get(str(model._meta.model_name))
        consortium_id = None
        if path and str(pk).isdigit():
            consortium_id = (
                model._default_manager.filter(pk=pk).values_list(path, flat=True).first()
            )
        raise NotVisibleError(
            f"No {model._meta.verbose_name} matches the given query.",
            consortium_id=consortium_id,
            object_type=model._meta.label_lower,
            object_id=str(pk)[:64],
            action=action.value,
        ) from None


def get_pool_for(user: Any, pk: Any, action: ComputeAction = ComputeAction.VIEW) -> Pool:
    pool = _get(visible_pools(user).select_related("consortium"), pk, action)
    require(user, action, pool.consortium_id, pool)
    return pool


def get_request_for(
    user: Any, pk: Any, action: ComputeAction = ComputeAction.VIEW
) -> AllocationRequest:
    request = _get(
        visible_requests(user).select_related(
            "consortium", "pool", "organisation", "requested_by", "decided_by"
        ),
        pk,
        action,
    )
    require(user, action, request.consortium_id, request)
    return request


def get_loan_for(user: Any, pk: Any, action: ComputeAction = ComputeAction.VIEW) -> Loan:
    loan = _get(visible_loans(user).select_related("pool", "lender", "borrower"), pk, action)
    require(user, action, loan.pool.consortium_id, loan)
    return loan


def get_approval_for(user: Any, pk: Any, action: ComputeAction = ComputeAction.VIEW) -> Approval:
    approval = _get(
        visible_approvals(user).select_related("consortium", "provider", "site"), pk, action
    )
    require(user, action, approval.consortium_id, approval)
    return approval


def get_reservation_for(user: Any, pk: Any) -> Reservation:
    """The reservation if ``user`` sees its pool's consortium, else 404. Who may release it
    (the board, or the holder's people) is the service's to decide."""
    return _get(
        visible_reservations(user).select_related("pool", "site", "request", "organisation"),
        pk,
        ComputeAction.VIEW,
    )


def get_decision_for(user: Any, pk: Any) -> Decision:
    return _get(
        visible_decisions(user).select_related("consortium", "job", "decided_by"),
        pk,
        ComputeAction.VIEW,
    )


def get_job_for(user: Any, pk: Any) -> Job:
    return _get(
        visible_jobs(user).select_related("consortium", "organisation", "proposed_by"),
        pk,
        ComputeAction.VIEW,
    )


def get_placement_for(user: Any, pk: Any) -> Placement:
    """A placement if ``user`` sees its consortium, else 404; who may record or end one is
    the placement service's to decide."""
    return _get(
        visible_placements(user).select_related("consortium", "dataset", "site", "recorded_by"),
        pk,
        ComputeAction.VIEW,
    )


def get_finding_for(user: Any, pk: Any) -> Finding:
    """A finding if ``user`` sees its consortium, else 404; who may handle it is the sweep
    service's to decide."""
    return _get(visible_findings(user).select_related("job", "owner"), pk, ComputeAction.VIEW)


def get_provider_for(user: Any, pk: Any) -> Provider:
    return _get(visible_providers(user), pk, ComputeAction.VIEW)


def get_site_for(user: Any, pk: Any) -> Site:
    return _get(
        visible_sites(user).select_related("provider", "jurisdiction"), pk, ComputeAction.VIEW
    )
