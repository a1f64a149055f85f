"""Motions waiting on a person's vote, for the home page (registered in ConsortiaConfig)."""

from __future__ import annotations

from django.urls import reverse

from consortia import waiting
from consortia.governance import selectors
from consortia.models import User


def motions_to_vote_on(user: User) -> list[waiting.WaitingItem]:
    items: list[waiting.WaitingItem] = []
    for seat in selectors.motions_awaiting_vote(user, limit=waiting.PER_SOURCE_LIMIT):
        motion = seat.motion
        lent = seat.organisation_id != user.organisation_id
        items.append(
            waiting.WaitingItem(
                kind="Vote",
                title=f"Motion {motion.number}: {motion.title}",
                consortium_id=motion.consortium_id,
                consortium_name=motion.consortium.name,
                url=reverse("consortia:motion", args=[motion.pk]),
                since=motion.opens_at,
                due_at=motion.closes_at,
                detail=f"by proxy for {seat.organisation.name}" if lent else "",
            )
        )
    return items
