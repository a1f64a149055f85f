"""Who hears about an allocation request, in the inbox and by e-mail once the change commits:
the capacity board when one arrives or is revised, the requester and their organisation's
representatives when the board (or the committee) decides."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.urls import reverse

from compute.models import AllocationRequest
from consortia.inbox import Notification, deliver
from consortia.models import Membership, Role, User


def people_in_roles(
    consortium_id: int, roles: list[str], organisation_id: int | None = None
) -> QuerySet[User]:
    """Active people holding one of ``roles`` in the consortium, through an active membership."""
    people = User.objects.filter(
        is_active=True,
        role_assignments__consortium_id=consortium_id,
        role_assignments__role__in=roles,
        organisation__memberships__consortium_id=consortium_id,
        organisation__memberships__status=Membership.Status.ACTIVE,
    )
    if organisation_id is not None:
        people = people.filter(organisation_id=organisation_id)
    return people


def _path(request: AllocationRequest) -> str:
    return reverse("compute:request", args=[request.pk])


def submitted(request: AllocationRequest) -> None:
    deliver(
        people_in_roles(request.consortium_id, [Role.CAPACITY_BOARD]),
        kind=Notification.Kind.ALLOCATION_SUBMITTED,
        subject=f"Capacity request {request.number} of {request.organisation}",
        body=f"{request.organisation} asks for {request.gpus} {request.pool.gpu_type} GPUs "
        f"({request.gpu_hours} GPU-hours) from {request.starts_at:%d %b %Y} to "
        f"{request.ends_at:%d %b %Y}.\n\n{request.purpose}",
        url=_path(request),
        consortium=request.consortium_id,
    )


def decided(request: AllocationRequest) -> None:
    representatives = people_in_roles(
        request.consortium_id,
        [Role.CHAIR, Role.STEERING_MEMBER, Role.TECHNICAL],
        organisation_id=request.organisation_id,
    )
    status = request.get_status_display().lower()
    reason = f"\n\n{request.decision_reason}" if request.decision_reason else ""
    deliver(
        User.objects.filter(Q(pk__in=representatives.values("pk")) | Q(pk=request.requested_by_id)),
        kind=Notification.Kind.ALLOCATION_DECIDED,
        subject=f"Capacity request {request.number}: {status}",
        body=f"Your request for {request.gpus} {request.pool.gpu_type} GPUs is {status}.{reason}",
        url=_path(request),
        consortium=request.consortium_id,
    )
