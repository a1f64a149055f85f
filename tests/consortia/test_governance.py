"""Motions end to end: proposing, voting (also by proxy), recusal, early and timed closing,
and effects that happen in the closing transaction — or not at all."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from alliance.errors import AccessDeniedError
from consortia import services as consortium_services
from consortia.governance import services
from consortia.models import Membership, Motion, Organisation, Proxy, Role, User, Vote
from tests.conftest import World
from tests.consortia.factories import (
    MembershipFactory,
    OrganisationFactory,
    RoleAssignmentFactory,
    UserFactory,
)


@dataclass
class Committee:
    world: World
    third: Organisation
    third_rep: User
    invitation: Membership


@pytest.fixture
def committee(world: World) -> Committee:
    """Three active members (chair's, member's, a third) and an invited candidate."""
    third = OrganisationFactory.create(name="Third Org", home_jurisdiction_id="IT")
    MembershipFactory.create(consortium=world.consortium_a, organisation=third)
    third_rep = UserFactory.create(username="third", organisation=third)
    RoleAssignmentFactory.create(
        consortium=world.consortium_a, user=third_rep, role=Role.STEERING_MEMBER
    )
    invitation = consortium_services.membership_invite(
        actor=world.chair, consortium=world.consortium_a, organisation=world.org_candidate
    )
    return Committee(world, third, third_rep, invitation)


def in_days(days: int) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=days)


def admission(committee: Committee, **rule: Any) -> Motion:
    return services.motion_propose(
        actor=committee.world.chair,
        consortium=committee.world.consortium_a,
        kind="admit_member",
        title="Admit Candidate Org",
        subject_id=committee.invitation.pk,
        closes_at=in_days(7),
        **rule,
    )


def test_a_passed_admission_admits_the_organisation(committee: Committee) -> None:
    world = committee.world
    motion = admission(committee)
    assert motion.voters.count() == 3
    services.vote_cast(actor=world.chair, motion=motion, choice="for")
    motion.refresh_from_db()
    assert motion.status == Motion.Status.OPEN
    services.vote_cast(actor=world.member, motion=motion, choice="for")
    motion.refresh_from_db()
    # 2 of 3 for: no remaining ballot can change a simple majority, so it closes early.
    assert motion.status == Motion.Status.PASSED
    assert motion.tally_steps[-1].startswith("Outcome: passed")
    committee.invitation.refresh_from_db()
    assert committee.invitation.status == Membership.Status.ACTIVE
    with pytest.raises(ValidationError, match="closed"):
        services.vote_cast(actor=committee.third_rep, motion=motion, choice="against")


def test_a_failing_effect_rolls_the_outcome_back(committee: Committee) -> None:
    world = committee.world
    motion = admission(committee, rule="unanimity")
    services.vote_cast(actor=world.chair, motion=motion, choice="for")
    services.vote_cast(actor=world.member, motion=motion, choice="for")
    # Meanwhile the chair admitted the organisation directly: the motion's effect will fail.
    consortium_services.membership_admit(actor=world.chair, membership=committee.invitation)
    services.vote_cast(actor=committee.third_rep, motion=motion, choice="for")
    motion.refresh_from_db()
    assert motion.status == Motion.Status.OPEN
    assert motion.closed_at is None
    assert "cannot become active" in motion.effect_error
    assert Vote.objects.filter(motion=motion, superseded=False).count() == 3


def test_closing_on_time_by_the_sweep(committee: Committee) -> None:
    world = committee.world
    motion = admission(committee, quorum=Decimal("0.9"))
    services.vote_cast(actor=world.chair, motion=motion, choice="for")
    assert services.motions_close_due() == 0
    with time_machine.travel(in_days(8)):
        assert services.motions_close_due() == 1
        assert services.motions_close_due() == 0
    motion.refresh_from_db()
    assert (motion.status, motion.outcome_reason) == (Motion.Status.FAILED, "no_quorum")
    committee.invitation.refresh_from_db()
    assert committee.invitation.status == Membership.Status.INVITED


def test_changing_a_vote_keeps_the_history(committee: Committee) -> None:
    world = committee.world
    # Under two-thirds, one against of three can still be outvoted: the motion stays open.
    motion = admission(committee, rule="two_thirds")
    services.vote_cast(actor=world.chair, motion=motion, choice="against")
    services.vote_cast(actor=world.chair, motion=motion, choice="for", reason="Convinced")
    ballots = list(motion.votes.order_by("cast_at").values_list("choice", "superseded"))
    assert ballots == [("against", True), ("for", False)]


def test_the_subject_of_a_motion_is_recused_and_others_can_recuse(committee: Committee) -> None:
    world = committee.world
    suspension = services.motion_propose(
        actor=world.chair,
        consortium=world.consortium_a,
        kind="suspend_member",
        title="Suspend Third Org",
        subject_id=Membership.objects.get(organisation=committee.third).pk,
        closes_at=in_days(7),
    )
    third_voter = suspension.voters.get(organisation=committee.third)
    assert third_voter.recused
    with pytest.raises(ValidationError, match="recused"):
        services.vote_cast(actor=committee.third_rep, motion=suspension, choice="against")
    services.recuse(actor=world.member, motion=suspension, reason="Sister company")
    with pytest.raises(ValidationError, match="recused"):
        services.vote_cast(actor=world.member, motion=suspension, choice="for")
    services.vote_cast(actor=world.chair, motion=suspension, choice="for")
    suspension.refresh_from_db()
    # Only the chair's organisation is left eligible: its vote decides.
    assert suspension.status == Motion.Status.PASSED
    assert Membership.objects.get(organisation=committee.third).status == "suspended"


def test_voting_by_proxy_records_both_organisations(committee: Committee) -> None:
    world = committee.world
    motion = admission(committee, rule="unanimity")
    with pytest.raises(AccessDeniedError):
        services.vote_cast(
            actor=world.member, motion=motion, choice="for", for_organisation=committee.third
        )
    proxy = services.proxy_give(
        actor=committee.third_rep,
        consortium=world.consortium_a,
        grantee=world.org_member,
        motion=motion,
    )
    vote = services.vote_cast(
        actor=world.member, motion=motion, choice="for", for_organisation=committee.third
    )
    assert (vote.organisation, vote.cast_by_organisation) == (committee.third, world.org_member)
    services.proxy_revoke(actor=committee.third_rep, proxy=proxy)
    with pytest.raises(AccessDeniedError):
        services.vote_cast(
            actor=world.member, motion=motion, choice="against", for_organisation=committee.third
        )


@pytest.mark.parametrize("case", ["to oneself", "chain onwards", "chain backwards"])
def test_proxies_do_not_chain(committee: Committee, unchanged: Any, case: str) -> None:
    world = committee.world
    services.proxy_give(
        actor=committee.third_rep, consortium=world.consortium_a, grantee=world.org_member
    )
    actor, grantee = {
        "to oneself": (world.chair, world.org_chair),
        # member's organisation holds third's proxy, so it cannot lend its own vote on.
        "chain onwards": (world.member, world.org_chair),
        # third lent its vote, so nobody can lend a vote to third.
        "chain backwards": (world.chair, committee.third),
    }[case]
    with unchanged(), pytest.raises(ValidationError):
        services.proxy_give(actor=actor, consortium=world.consortium_a, grantee=grantee)
    assert Proxy.objects.count() == 1


def test_only_representatives_propose_and_vote(committee: Committee, unchanged: Any) -> None:
    world = committee.world
    with unchanged(), pytest.raises(AccessDeniedError):
        services.motion_propose(
            actor=world.observer,
            consortium=world.consortium_a,
            kind="general",
            title="Hello",
            closes_at=in_days(1),
        )
    motion = admission(committee)
    with unchanged(), pytest.raises(AccessDeniedError):
        services.vote_cast(actor=world.observer, motion=motion, choice="for")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "declare_war"}, "kind"),
        ({"closes_at": "past"}, "closes_at"),
        ({"quorum": Decimal("1.5")}, "quorum"),
        ({"rule": "loudest_wins"}, "rule"),
        ({"subject_id": "999999"}, "subject"),
        ({"title": " "}, "title"),
    ],
)
def test_bad_motions_are_refused_field_by_field(
    committee: Committee, unchanged: Any, fields: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {
        "actor": committee.world.chair,
        "consortium": committee.world.consortium_a,
        "kind": "admit_member",
        "title": "Admit",
        "subject_id": committee.invitation.pk,
        "closes_at": in_days(3),
        **fields,
    }
    if arguments["closes_at"] == "past":
        arguments["closes_at"] = in_days(-1)
    with unchanged(), pytest.raises(ValidationError) as raised:
        services.motion_propose(**arguments)
    assert field in raised.value.message_dict


def test_a_veto_needs_the_right_and_a_reason(committee: Committee) -> None:
    world = committee.world
    amendment = services.motion_propose(
        actor=world.chair,
        consortium=world.consortium_a,
        kind="amend_charter",
        title="Move the seat to Lisbon",
        closes_at=in_days(7),
    )
    with pytest.raises(ValidationError, match="no veto"):
        services.vote_cast(
            actor=world.member, motion=amendment, choice="against", veto=True, reason="No"
        )
    with pytest.raises(ValidationError, match="with its reason"):
        services.vote_cast(actor=world.chair, motion=amendment, choice="against", veto=True)
    services.vote_cast(actor=world.member, motion=amendment, choice="for")
    services.vote_cast(
        actor=world.chair,
        motion=amendment,
        choice="against",
        veto=True,
        reason="The founders agreed the seat stays in Paris",
    )
    amendment.refresh_from_db()
    assert (amendment.status, amendment.outcome_reason) == (Motion.Status.FAILED, "vetoed")


def test_a_passed_motion_approves_an_agreement_for_the_steering_committee(world: World) -> None:
    from agreements import services as agreement_services
    from tests.agreements.conftest import make_deal

    deal = make_deal(world)
    agreement_services.agreement_update(
        actor=deal.legal_chair_org, agreement=deal.agreement, requires_steering_approval=True
    )
    agreement_services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    agreement_services.approval_give(actor=deal.legal_chair_org, version=deal.version)
    agreement_services.approval_give(actor=deal.legal_member_org, version=deal.version)
    motion = services.motion_propose(
        actor=world.chair,
        consortium=world.consortium_a,
        kind="approve_agreement",
        title="Approve the co-development agreement",
        subject_id=deal.version.pk,
        closes_at=in_days(2),
    )
    services.vote_cast(actor=world.chair, motion=motion, choice="for")
    services.vote_cast(actor=world.member, motion=motion, choice="for")
    deal.version.refresh_from_db()
    assert deal.version.approvals.filter(is_steering=True).exists()
    assert deal.version.status == "approved"


def test_the_committee_hears_when_a_motion_opens_and_closes(
    committee: Committee, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core import mail

    world = committee.world
    with django_capture_on_commit_callbacks(execute=True):
        motion = admission(committee)
    opened = {message.to[0] for message in mail.outbox if message.subject.startswith("Vote:")}
    assert opened == {world.chair.email, world.member.email, committee.third_rep.email}
    with django_capture_on_commit_callbacks(execute=True):
        services.vote_cast(actor=world.chair, motion=motion, choice="for")
        services.vote_cast(actor=world.member, motion=motion, choice="for")
    (closed, *_) = [message for message in mail.outbox if "passed" in message.subject]
    assert "Outcome: passed" in closed.body


def test_organisations_that_have_not_voted_are_reminded_once(
    committee: Committee, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core import mail

    world = committee.world
    motion = admission(committee, rule="unanimity")
    services.vote_cast(actor=world.chair, motion=motion, choice="for")
    assert services.motions_remind_closing() == 0
    with time_machine.travel(in_days(6) + datetime.timedelta(hours=12)):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.motions_remind_closing() == 1
        assert services.motions_remind_closing() == 0
    reminded = {m.to[0] for m in mail.outbox if m.subject.startswith("Closing soon")}
    assert reminded == {world.member.email, committee.third_rep.email}


def test_a_passed_removal_removes_the_member_and_its_roles(committee: Committee) -> None:
    world = committee.world
    membership = Membership.objects.get(organisation=committee.third)
    motion = services.motion_propose(
        actor=world.chair,
        consortium=world.consortium_a,
        kind="remove_member",
        title="Remove Third Org",
        subject_id=membership.pk,
        closes_at=in_days(7),
    )
    services.vote_cast(actor=world.chair, motion=motion, choice="for")
    services.vote_cast(actor=world.member, motion=motion, choice="for")
    membership.refresh_from_db()
    assert membership.status == Membership.Status.REMOVED
    assert not committee.third_rep.role_assignments.exists()
