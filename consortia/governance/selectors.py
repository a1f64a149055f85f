"""Reading motions under the access policy: everyone who sees a consortium sees its motions;
tallies of a motion that hides its results appear only once it has closed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from alliance.errors import NotVisibleError
from consortia import permissions
from consortia.governance import services
from consortia.governance.tally import Tally
from consortia.models import Motion, MotionVoter, Organisation, Proxy, Vote


def visible_motions(user: Any) -> QuerySet[Motion]:
    return Motion.objects.filter(
        consortium__in=permissions.visible_consortia(user).values("pk")
    ).select_related("consortium", "proposed_by")


def get_motion_for(user: Any, pk: Any) -> Motion:
    motion = visible_motions(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if motion is None:
        consortium_id = (
            Motion.objects.filter(pk=pk).values_list("consortium_id", flat=True).first()
            if str(pk).isdigit()
            else None
        )
        raise NotVisibleError(
            "No motion matches the given query.",
            consortium_id=consortium_id,
            object_type="consortia.motion",
            object_id=str(pk)[:64],
            action="view",
        )
    return motion


def live_proxies(consortium_id: int) -> QuerySet[Proxy]:
    now = timezone.now()
    return (
        Proxy.objects.filter(consortium_id=consortium_id, revoked_at__isnull=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .select_related("grantor", "grantee", "motion")
    )


@dataclass
class MotionView:
    motion: Motion
    tally: Tally | None  # None while the results are hidden
    voters: list[MotionVoter]
    votes: list[Vote]  # standing ballots, shown with the tally
    history: list[Vote]  # every ballot, changed ones included (hidden with the tally)
    can_vote_for: list[MotionVoter]  # organisations the viewer may vote for now
    can_recuse: bool
    is_open: bool
    # The standing ballot of each organisation the viewer may vote for: a voter always sees
    # the vote they may still change, even while the tally is hidden.
    standing_votes: list[Vote] = field(default_factory=list)


def motion_view(user: Any, motion: Motion) -> MotionView:
    is_open = motion.status == Motion.Status.OPEN and motion.closes_at > timezone.now()
    visible = not (motion.results_hidden and is_open)
    voters = list(motion.voters.select_related("organisation"))
    votes = list(
        motion.votes.select_related("organisation", "cast_by", "cast_by_organisation").order_by(
            "cast_at"
        )
    )
    can_vote_for: list[MotionVoter] = []
    own = getattr(user, "organisation_id", None)
    if is_open and services.represents(user, motion.consortium_id):
        lenders = set(
            live_proxies(motion.consortium_id)
            .filter(grantee_id=own)
            .filter(Q(motion=motion) | Q(motion__isnull=True))
            .values_list("grantor_id", flat=True)
        )
        can_vote_for = [
            voter
            for voter in voters
            if not voter.recused
            and (voter.organisation_id == own or voter.organisation_id in lenders)
        ]
    can_recuse = (
        is_open
        and any(voter.organisation_id == own and not voter.recused for voter in voters)
        and services.represents(user, motion.consortium_id)
    )
    mine = {voter.organisation_id for voter in can_vote_for}
    return MotionView(
        motion=motion,
        tally=services.current_tally(motion) if visible else None,
        voters=voters,
        votes=[vote for vote in votes if not vote.superseded] if visible else [],
        history=votes if visible else [],
        can_vote_for=can_vote_for,
        can_recuse=can_recuse,
        is_open=is_open,
        standing_votes=[
            vote for vote in votes if not vote.superseded and vote.organisation_id in mine
        ],
    )


@dataclass(frozen=True)
class OpenMotion:
    motion: Motion
    tally: Tally | None  # None while the motion's settings hide the results

    @property
    def not_yet_voted(self) -> int | None:
        if self.tally is None:
            return None
        cast = self.tally.members_for + self.tally.members_against + self.tally.members_abstain
        return self.tally.eligible_members - cast


def open_motions_with_tallies(user: Any, consortium_id: int, *, limit: int) -> list[OpenMotion]:
    """The consortium's open motions, soonest closing first, each with its live tally unless
    the motion hides its results until the close. Three queries however many motions."""
    motions = (
        visible_motions(user)
        .filter(consortium_id=consortium_id, status=Motion.Status.OPEN)
        .prefetch_related(
            Prefetch("voters", queryset=MotionVoter.objects.select_related("organisation")),
            Prefetch("votes", queryset=Vote.objects.filter(superseded=False), to_attr="standing"),
        )
        .order_by("closes_at", "pk")[:limit]
    )
    return [
        OpenMotion(
            motion,
            None
            if motion.results_hidden
            else services.tally_of(motion, motion.voters.all(), motion.standing),
        )
        for motion in motions
    ]


def motions_awaiting_vote(user: Any, *, limit: int) -> list[MotionVoter]:
    """Seats the person may vote in now and nobody has filled: their organisation's, or one
    lent to it by a live proxy, on open motions of consortia where they sit on the steering
    committee; soonest closing first. One query."""
    now = timezone.now()
    own = getattr(user, "organisation_id", None)
    if not getattr(user, "is_authenticated", False) or own is None:
        return []
    lent = Proxy.objects.filter(
        consortium_id=OuterRef("motion__consortium_id"),
        grantor_id=OuterRef("organisation_id"),
        grantee_id=own,
        revoked_at__isnull=True,
    ).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=now),
        Q(motion__isnull=True) | Q(motion_id=OuterRef("motion_id")),
    )
    cast = Vote.objects.filter(
        motion_id=OuterRef("motion_id"),
        organisation_id=OuterRef("organisation_id"),
        superseded=False,
    )
    return list(
        MotionVoter.objects.filter(
            motion__status=Motion.Status.OPEN,
            motion__closes_at__gt=now,
            motion__consortium_id__in=permissions.consortium_ids_with_roles(
                user, services.REPRESENTATIVES
            ),
            recused=False,
        )
        .filter(Q(organisation_id=own) | Exists(lent))
        .exclude(Exists(cast))
        .select_related("motion__consortium", "organisation")
        .order_by("motion__closes_at", "motion_id", "organisation__name")[:limit]
    )


def visible_proxies(user: Any) -> QuerySet[Proxy]:
    return Proxy.objects.filter(consortium__in=permissions.visible_consortia(user).values("pk"))


def get_proxy_for(user: Any, pk: Any) -> Proxy:
    proxy = visible_proxies(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if proxy is None:
        raise NotVisibleError(
            "No proxy matches the given query.", object_type="consortia.proxy", object_id=str(pk)
        )
    return proxy


def organisation_named(pk: Any) -> Organisation:
    """An organisation given by id as a vote's or proxy's party; the services check that it
    is a member where it matters. Which consortia it is in stays private."""
    organisation = Organisation.objects.filter(pk=pk).first() if str(pk).isdigit() else None
    if organisation is None:
        raise NotVisibleError(
            "No organisation matches the given query.",
            object_type="consortia.organisation",
            object_id=str(pk),
        )
    return organisation


def proxy_choices(
    user: Any, consortium_id: int
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(organisations one may lend a vote to, open motions) for the proxy form."""
    from consortia.models import Membership

    organisations = [
        (membership.organisation_id, membership.organisation.name)
        for membership in Membership.objects.filter(consortium_id=consortium_id, status="active")
        .exclude(organisation_id=getattr(user, "organisation_id", None) or 0)
        .select_related("organisation")
        .order_by("organisation__name")
    ]
    motions = [
        (motion.pk, f"{motion.number}. {motion.title}")
        for motion in Motion.objects.filter(consortium_id=consortium_id, status="open").order_by(
            "number"
        )
    ]
    return organisations, motions
