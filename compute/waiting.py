"""Capacity requests and compliance findings waiting on a person, for the home page
(registered in ComputeConfig). One query each, however many wait."""

from __future__ import annotations

from itertools import chain

from django.db.models import Q
from django.urls import reverse

from compute import permissions
from compute.compliance.models import Finding
from compute.models import AllocationRequest
from compute.permissions import ComputeAction
from consortia import permissions as consortium_permissions
from consortia import waiting
from consortia.models import Role, User


def _roles_granting(*actions: ComputeAction) -> list[Role]:
    return [
        role
        for role, granted in permissions.ROLE_ACTIONS.items()
        if any(action in granted for action in actions)
    ]


def requests_to_decide(user: User) -> list[waiting.WaitingItem]:
    """Requests waiting for the board the person sits on, and the person's own requests the
    board sent back for changes; the one whose window starts soonest first (the deadline)."""
    for_board = Q(
        status=AllocationRequest.Status.SUBMITTED,
        consortium_id__in=consortium_permissions.consortium_ids_with_roles(
            user, _roles_granting(ComputeAction.DECIDE)
        ),
    )
    sent_back = Q(status=AllocationRequest.Status.CHANGES_REQUESTED, requested_by_id=user.pk)
    requests = (
        permissions.visible_requests(user)
        .filter(for_board | sent_back)
        .select_related("consortium", "pool", "organisation")
        .order_by("starts_at", "pk")[: waiting.PER_SOURCE_LIMIT]
    )
    return [
        waiting.WaitingItem(
            kind="Decide" if request.status == AllocationRequest.Status.SUBMITTED else "Revise",
            title=f"Request {request.number}: {request.gpus} GPUs in {request.pool.name}",
            consortium_id=request.consortium_id,
            consortium_name=request.consortium.name,
            url=reverse("compute:request", args=[request.pk]),
            since=request.created_at,
            due_at=request.starts_at,
            detail=f"from {request.organisation.name}"
            if request.status == AllocationRequest.Status.SUBMITTED
            else "changes requested",
        )
        for request in requests
    ]


def findings_to_handle(user: User) -> list[waiting.WaitingItem]:
    """Unresolved findings about the person's organisation's jobs, allocations or data, in
    consortia where their role handles findings (technical and legal people)."""
    findings = (
        permissions.visible_findings(user)
        .filter(
            owner_id=user.organisation_id or 0,
            consortium_id__in=consortium_permissions.consortium_ids_with_roles(
                user, _roles_granting(ComputeAction.REQUEST, ComputeAction.REPORT_USAGE)
            ),
        )
        .exclude(status=Finding.Status.RESOLVED)
        .select_related("consortium")
        .order_by("-opened_at", "-pk")[: waiting.PER_SOURCE_LIMIT]
    )
    return [
        waiting.WaitingItem(
            kind="Handle finding",
            title=finding.message,
            consortium_id=finding.consortium_id,
            consortium_name=finding.consortium.name,
            url=reverse("compute:compliance", args=[finding.consortium_id]) + "#findings",
            since=finding.opened_at,
            detail=f"{finding.get_severity_display().lower()}, {finding.get_status_display().lower()}",
        )
        for finding in findings
    ]


def for_person(user: User) -> list[waiting.WaitingItem]:
    return list(chain(requests_to_decide(user), findings_to_handle(user)))
