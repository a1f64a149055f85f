"""The consortium services: what they change, what they refuse, and what they record."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from alliance.errors import ConflictError
from audit.models import AuditEvent
from consortia import services
from consortia.models import (
    Consortium,
    Jurisdiction,
    Membership,
    PartnershipModel,
    Role,
    RoleAssignment,
)
from tests.conftest import World
from tests.consortia.factories import OrganisationFactory, UserFactory


def events(consortium: Consortium) -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(consortium_id=consortium.pk)
        .order_by("sequence")
        .values_list("action", "object_type")
    )


def test_founding_makes_the_founder_chair_and_their_organisation_a_member(db: Any) -> None:
    founder = UserFactory.create()
    consortium = services.consortium_create(
        actor=founder,
        name="  Sovereign Health  ",
        partnership_model=PartnershipModel.objects.get(pk="federated_learning"),
        home_jurisdiction=Jurisdiction.objects.get(pk="GCC"),
    )
    assert consortium.name == "Sovereign Health"
    assert consortium.status == Consortium.Status.FORMING
    membership = consortium.memberships.get()
    assert (membership.organisation_id, membership.status, membership.is_founding) == (
        founder.organisation_id,
        "active",
        True,
    )
    assert RoleAssignment.objects.get(consortium=consortium).role == Role.CHAIR
    assert events(consortium) == [
        ("create", "consortia.consortium"),
        ("admit", "consortia.membership"),
        ("assign", "consortia.roleassignment"),
    ]


def test_founding_needs_an_organisation(db: Any) -> None:
    operator = UserFactory.create(organisation=None, is_staff=True)
    with pytest.raises(ValidationError, match="belongs to an organisation"):
        services.consortium_create(
            actor=operator,
            name="Orphan",
            partnership_model=PartnershipModel.objects.get(pk="joint_development"),
            home_jurisdiction=Jurisdiction.objects.get(pk="EU"),
        )
    assert not Consortium.objects.filter(name="Orphan").exists()


def test_duplicate_consortium_name_is_a_field_error_and_leaves_no_event(world: World) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.consortium_create(
            actor=world.candidate,
            name="Consortium A",
            partnership_model=PartnershipModel.objects.get(pk="joint_development"),
            home_jurisdiction=Jurisdiction.objects.get(pk="EU"),
        )
    assert "name" in caught.value.message_dict
    assert AuditEvent.objects.count() == before


def test_invite_then_admit(
    world: World, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.membership_invite(
            actor=world.chair,
            consortium=world.consortium_a,
            organisation=world.org_candidate,
            voting_weight=Decimal("2"),
        )
    assert membership.status == Membership.Status.INVITED
    assert [message.to for message in mailoutbox] == [[world.candidate.email]]
    assert "Consortium A" in mailoutbox[0].subject
    membership.refresh_from_db()
    assert membership.invitation_notified_at is not None

    services.membership_admit(
        actor=world.chair, membership=membership, joined_on=datetime.date(2026, 3, 1)
    )
    membership.refresh_from_db()
    assert (membership.status, membership.joined_on) == ("active", datetime.date(2026, 3, 1))
    assert [action for action, _ in events(world.consortium_a)][-3:] == [
        "invite",
        "notify",
        "admit",
    ]


def test_invite_refuses_a_current_member(world: World) -> None:
    with pytest.raises(ValidationError, match="already active"):
        services.membership_invite(
            actor=world.chair, consortium=world.consortium_a, organisation=world.org_member
        )


def test_observer_cannot_invite(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.membership_invite(
            actor=world.observer, consortium=world.consortium_a, organisation=world.org_candidate
        )
    assert not Membership.objects.filter(organisation=world.org_candidate).exists()


def test_suspension_keeps_sight_but_silences_roles(world: World) -> None:
    from consortia import permissions
    from consortia.permissions import ConsortiumAction

    world.member_role.role = Role.STEERING_MEMBER
    services.membership_suspend(
        actor=world.chair, membership=world.membership_member, reason="Unpaid"
    )
    permissions.forget_rights(world.member)
    assert permissions.consortium_rights(world.member, world.consortium_a.pk) == {
        ConsortiumAction.VIEW
    }
    services.membership_reinstate(actor=world.chair, membership=world.membership_member)
    world.membership_member.refresh_from_db()
    assert world.membership_member.status == "active"


def test_suspend_needs_a_reason(world: World, unchanged: Any) -> None:
    with unchanged(), pytest.raises(ValidationError, match="why"):
        services.membership_suspend(
            actor=world.chair, membership=world.membership_member, reason="  "
        )


def test_remove_revokes_the_organisations_roles_and_is_recorded(world: World) -> None:
    services.membership_remove(actor=world.chair, membership=world.membership_member, reason="Left")
    world.membership_member.refresh_from_db()
    assert world.membership_member.status == "removed"
    assert world.membership_member.left_on is not None
    assert not RoleAssignment.objects.filter(
        consortium=world.consortium_a, user__organisation=world.org_member
    ).exists()
    revoked = AuditEvent.objects.filter(consortium_id=world.consortium_a.pk, action="revoke")
    assert {event.reason for event in revoked} == {"Organisation removed"}
    assert revoked.count() == 3


def test_removed_organisation_can_be_invited_again(world: World) -> None:
    services.membership_remove(actor=world.chair, membership=world.membership_member, reason="Left")
    again = services.membership_invite(
        actor=world.chair, consortium=world.consortium_a, organisation=world.org_member
    )
    assert again.pk == world.membership_member.pk
    assert (again.status, again.joined_on, again.left_on) == ("invited", None, None)


def test_chairs_organisation_cannot_be_removed(world: World, unchanged: Any) -> None:
    with unchanged(), pytest.raises(ValidationError, match="hand the chair over"):
        services.membership_remove(actor=world.chair, membership=world.membership_chair, reason="x")


def test_last_active_member_cannot_leave(world: World) -> None:
    services.chair_hand_over(actor=world.chair, consortium=world.consortium_a, to_user=world.member)
    services.membership_remove(
        actor=world.member, membership=world.membership_chair, reason="Leaving"
    )
    with pytest.raises(ValidationError, match="last active member"):
        services.membership_suspend(
            actor=world.member, membership=world.membership_member, reason="x"
        )


def test_lifecycle_transitions(world: World) -> None:
    consortium = world.consortium_a
    with pytest.raises(ValidationError, match="cannot become forming"):
        services.consortium_transition(actor=world.chair, consortium=consortium, status="forming")
    services.consortium_transition(actor=world.chair, consortium=consortium, status="dissolving")
    services.consortium_transition(actor=world.chair, consortium=consortium, status="dissolved")
    with pytest.raises(ValidationError, match="allowed: none"):
        services.consortium_transition(
            actor=world.chair, consortium=consortium, status="operational"
        )
    with pytest.raises(ValidationError, match="dissolved"):
        services.membership_invite(
            actor=world.chair, consortium=consortium, organisation=world.org_candidate
        )


def test_founding_fields_are_fixed_after_forming(world: World, unchanged: Any) -> None:
    with unchanged(), pytest.raises(ValidationError) as caught:
        services.consortium_update(
            actor=world.chair,
            consortium=world.consortium_a,
            home_jurisdiction=Jurisdiction.objects.get(pk="DE"),
        )
    assert "home_jurisdiction" in caught.value.message_dict


def test_update_records_before_and_after(world: World) -> None:
    services.consortium_update(
        actor=world.chair, consortium=world.consortium_a, charter="New charter"
    )
    event = AuditEvent.objects.filter(action="update").latest("sequence")
    assert event.changes_data == {
        "charter": {"before": "Members co-develop models.", "after": "New charter"}
    }
    assert event.actor_display == "chair"
    assert event.actor_organisation_display == "Chair Org"


def test_role_assignment_rules(world: World) -> None:
    with pytest.raises(ValidationError, match="active member organisation"):
        services.role_assign(
            actor=world.chair, consortium=world.consortium_a, user=world.outsider, role="legal"
        )
    with pytest.raises(ValidationError, match="already holds"):
        services.role_assign(
            actor=world.chair, consortium=world.consortium_a, user=world.observer, role="observer"
        )
    with pytest.raises(ValidationError, match="already has a chair"):
        services.role_assign(
            actor=world.chair, consortium=world.consortium_a, user=world.member, role="chair"
        )
    assignment = services.role_assign(
        actor=world.chair, consortium=world.consortium_a, user=world.member, role="legal"
    )
    assert assignment.role == "legal"


def test_chair_cannot_be_revoked_only_handed_over(world: World) -> None:
    chair_role = RoleAssignment.objects.get(consortium=world.consortium_a, role="chair")
    with pytest.raises(ValidationError, match="hand the chair over"):
        services.role_revoke(actor=world.chair, assignment=chair_role)
    services.chair_hand_over(actor=world.chair, consortium=world.consortium_a, to_user=world.member)
    assert (
        RoleAssignment.objects.get(consortium=world.consortium_a, role="chair").user == world.member
    )
    with pytest.raises(PermissionDenied):
        services.role_assign(
            actor=world.chair, consortium=world.consortium_a, user=world.chair, role="legal"
        )


def test_consortium_with_members_cannot_be_deleted(world: World, unchanged: Any) -> None:
    with unchanged(), pytest.raises(ConflictError, match="dissolve it instead"):
        services.consortium_delete(actor=world.chair, consortium=world.consortium_a)


def test_organisation_with_memberships_cannot_be_deleted(world: World, unchanged: Any) -> None:
    operator = UserFactory.create(organisation=None, is_staff=True)
    with unchanged(), pytest.raises(ConflictError, match="memberships"):
        services.organisation_delete(actor=operator, organisation=world.org_member)
    lonely = OrganisationFactory.create()
    services.organisation_delete(actor=operator, organisation=lonely)
    assert AuditEvent.objects.filter(action="delete", object_display=lonely.name).exists()


def test_organisation_home_must_be_a_country(world: World) -> None:
    operator = UserFactory.create(organisation=None, is_staff=True)
    with pytest.raises(ValidationError) as caught:
        services.organisation_create(
            actor=operator,
            name="Bloc Org",
            kind="company",
            home_jurisdiction=Jurisdiction.objects.get(pk="EU"),
            registration_id="1",
        )
    assert "home_jurisdiction" in caught.value.message_dict


def test_a_failing_service_leaves_no_event(world: World) -> None:
    before = list(AuditEvent.objects.values_list("pk", flat=True))

    def update_then_fail() -> None:
        with transaction.atomic():
            services.consortium_update(
                actor=world.chair, consortium=world.consortium_a, charter="Changed"
            )
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        update_then_fail()
    world.consortium_a.refresh_from_db()
    assert world.consortium_a.charter == "Members co-develop models."
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("voting_weight", Decimal(-1)), ("status", "bogus"), ("joined_on", None)],
)
def test_database_keeps_membership_invariants(world: World, field: str, value: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=world.membership_member.pk).update(**{field: value})


def test_database_allows_one_chair(world: World) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(
            consortium=world.consortium_a, user=world.member, role="chair"
        )


def test_a_broker_outage_does_not_fail_the_invitation_and_the_sweep_resends(
    world: World,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time_machine

    from consortia import tasks

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("broker unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(tasks.membership_invitation_notify, "delay", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            membership = services.membership_invite(
                actor=world.chair, consortium=world.consortium_a, organisation=world.org_candidate
            )
    assert Membership.objects.get(pk=membership.pk).status == "invited"
    assert mailoutbox == []
    assert tasks.membership_invitation_sweep() == 0, "too recent to be called lost"
    with time_machine.travel(
        datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(minutes=6), tick=False
    ):
        assert tasks.membership_invitation_sweep() == 1
        assert tasks.membership_invitation_sweep() == 0, "claimed once, never again"
    assert [message.to for message in mailoutbox] == [[world.candidate.email]]
