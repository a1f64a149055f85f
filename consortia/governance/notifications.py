"""Who hears about a motion, in the inbox and by e-mail once the change commits: the steering
committee when it opens, those who have not voted when it is about to close, and everyone on
the committee with the outcome when it closes."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from consortia.inbox import Notification, deliver
from consortia.models import Membership, Motion, Role, User


def _committee(motion: Motion, *, not_voted_only: bool = False) -> QuerySet[User]:
    people = User.objects.filter(
        is_active=True,
        role_assignments__consortium_id=motion.consortium_id,
        role_assignments__role__in=[Role.CHAIR, Role.STEERING_MEMBER],
        organisation__memberships__consortium_id=motion.consortium_id,
        organisation__memberships__status=Membership.Status.ACTIVE,
        organisation_id__in=motion.voters.filter(recused=False).values("organisation_id"),
    )
    if not_voted_only:
        people = people.exclude(
            organisation_id__in=motion.votes.filter(superseded=False).values("organisation_id")
        )
    return people


def _send(
    motion: Motion,
    kind: str,
    subject: str,
    body: str,
    people: QuerySet[User],
    details: str = "",
) -> None:
    path = reverse("consortia:motion", args=[motion.pk])
    deliver(
        people,
        kind=kind,
        subject=subject,
        body=body,
        url=path,
        consortium=motion.consortium_id,
        email_body=f"{body}{details}\n\n{settings.PUBLIC_BASE_URL}{path}\n",
    )


def opened(motion: Motion) -> None:
    _send(
        motion,
        Notification.Kind.MOTION_OPENED,
        f"Vote: motion {motion.number} of {motion.consortium.name}",
        f"{motion.title}\n\nVoting is open until {motion.closes_at:%d %b %Y %H:%M} UTC.",
        _committee(motion),
    )


def closing_soon(motion: Motion) -> None:
    _send(
        motion,
        Notification.Kind.MOTION_CLOSING,
        f"Closing soon: motion {motion.number} of {motion.consortium.name}",
        f"{motion.title}\n\nYour organisation has not voted; voting closes at "
        f"{motion.closes_at:%d %b %Y %H:%M} UTC.",
        _committee(motion, not_voted_only=True),
    )


def closed(motion: Motion) -> None:
    outcome = motion.get_status_display().lower()
    reason = motion.outcome_reason.replace("_", " ")
    _send(
        motion,
        Notification.Kind.MOTION_CLOSED,
        f"Motion {motion.number} {outcome}: {motion.title}",
        f"Motion {motion.number} of {motion.consortium.name} has {outcome}"
        + (f" ({reason})" if motion.status == Motion.Status.FAILED else "")
        + ".",
        _committee(motion),
        # The tally goes by e-mail; the inbox links to the motion's page, which shows it.
        details="\n\n" + "\n".join(motion.tally_steps),
    )
