"""Who hears about an allocation request, by e-mail once the change commits: the capacity
board when one arrives or is revised, the requester and their organisation's representatives
when the board (or the committee) decides."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from compute.models import AllocationRequest
from consortia.models import Membership, Role, User


def people_with_roles(
    consortium_id: int, roles: list[str], organisation_id: int | None = None
) -> list[str]:
    people = User.objects.filter(
        is_active=True,
        role_assignments__consortium_id=consortium_id,
        role_assignments__role__in=roles,
        organisation__memberships__consortium_id=consortium_id,
        organisation__memberships__status=Membership.Status.ACTIVE,
    )
    if organisation_id is not None:
        people = people.filter(organisation_id=organisation_id)
    return sorted({address for address in people.values_list("email", flat=True) if address})


def send(subject: str, body: str, recipients: list[str], path: str) -> None:
    if not recipients:
        return
    from consortia.tasks import send_notice

    text = f"{body}\n\n{settings.PUBLIC_BASE_URL}{path}\n"
    transaction.on_commit(lambda: send_notice.delay(subject, text, recipients), robust=True)


def _path(request: AllocationRequest) -> str:
    return reverse("compute:request", args=[request.pk])


def submitted(request: AllocationRequest) -> None:
    send(
        f"Capacity request {request.number} of {request.organisation}",
        f"{request.organisation} asks for {request.gpus} {request.pool.gpu_type} GPUs "
        f"({request.gpu_hours} GPU-hours) from {request.starts_at:%d %b %Y} to "
        f"{request.ends_at:%d %b %Y}.\n\n{request.purpose}",
        people_with_roles(request.consortium_id, [Role.CAPACITY_BOARD]),
        _path(request),
    )


def decided(request: AllocationRequest) -> None:
    recipients = set(
        people_with_roles(
            request.consortium_id,
            [Role.CHAIR, Role.STEERING_MEMBER, Role.TECHNICAL],
            organisation_id=request.organisation_id,
        )
    )
    if request.requested_by.email:
        recipients.add(request.requested_by.email)
    status = request.get_status_display().lower()
    reason = f"\n\n{request.decision_reason}" if request.decision_reason else ""
    send(
        f"Capacity request {request.number}: {status}",
        f"Your request for {request.gpus} {request.pool.gpu_type} GPUs is {status}.{reason}",
        sorted(recipients),
        _path(request),
    )
