"""Demo governance: an open motion in the EuroLLM consortium to admit the invited Aurora
Compute, with the chair's vote cast, so a newcomer signed in as a steering-committee member
(jonas or sanne) has a vote waiting. Running it again changes nothing."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from consortia.governance import services
from consortia.models import Consortium, Membership, Motion, User

TITLE = "Admit Aurora Compute Oy"


@transaction.atomic
def seed_governance() -> None:
    consortium = Consortium.objects.get(name__startswith="EuroLLM")
    if Motion.objects.filter(consortium=consortium, title=TITLE).exists():
        return
    invitation = Membership.objects.filter(
        consortium=consortium, organisation__name="Aurora Compute Oy", status="invited"
    ).first()
    if invitation is None:
        return
    amelie = User.objects.get(username="amelie")
    motion = services.motion_propose(
        actor=amelie,
        consortium=consortium,
        kind="admit_member",
        title=TITLE,
        text="Aurora brings 512 H100 GPUs hosted in Kajaani (Finland) to the pool.",
        subject_id=invitation.pk,
        closes_at=timezone.now() + datetime.timedelta(days=14),
        rule="double_majority",
        quorum_basis="weight",
    )
    services.vote_cast(actor=amelie, motion=motion, choice="for", reason="Capacity we need")
