"""Who hears about a motion, by e-mail once the change commits: the steering committee when
it opens, and everyone on the committee with the outcome when it closes."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from consortia.models import Membership, Motion, Role, User


def _committee(motion: Motion, *, not_voted_only: bool = False) -> list[str]:
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
    return sorted({address for address in people.values_list("email", flat=True) if address})


def _send(motion: Motion, subject: str, body: str, recipients: list[str]) -> None:
    if not recipients:
        return
    from consortia.tasks import send_notice

    link = settings.PUBLIC_BASE_URL + reverse("consortia:motion", args=[motion.pk])
    text = f"{body}\n\n{link}\n"
    transaction.on_commit(lambda: send_notice.delay(subject, text, recipients), robust=True)


def opened(motion: Motion) -> None:
    _send(
        motion,
        f"Vote: motion {motion.number} of {motion.consortium.name}",
        f"{motion.title}\n\nVoting is open until {motion.closes_at:%d %b %Y %H:%M} UTC.",
        _committee(motion),
    )


def closing_soon(motion: Motion) -> None:
    _send(
        motion,
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
        f"Motion {motion.number} {outcome}: {motion.title}",
        f"Motion {motion.number} of {motion.consortium.name} has {outcome}"
        + (f" ({reason})" if motion.status == Motion.Status.FAILED else "")
        + ".\n\n"
        + "\n".join(motion.tally_steps),
        _committee(motion),
    )
