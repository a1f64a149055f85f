"""The access policy: who sees which consortium and may do what, in one place."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import Http404
from guardian.shortcuts import assign_perm

from consortia import permissions
from consortia.models import Membership
from consortia.permissions import ConsortiumAction
from tests.conftest import World
from tests.consortia.factories import UserFactory


def visible_names(user: Any) -> set[str]:
    return set(permissions.visible_consortia(user).values_list("name", flat=True))


def test_visibility_follows_membership(world: World) -> None:
    assert visible_names(world.chair) == {"Consortium A"}
    assert visible_names(world.observer) == {"Consortium A"}
    assert visible_names(world.outsider) == {"Consortium B"}
    assert visible_names(world.candidate) == set()


def test_invited_and_suspended_organisations_see_removed_do_not(world: World) -> None:
    membership = Membership.objects.create(
        consortium=world.consortium_a, organisation=world.org_candidate
    )
    assert visible_names(world.candidate) == {"Consortium A"}
    Membership.objects.filter(pk=membership.pk).update(status="removed", left_on="2026-06-01")
    assert visible_names(world.candidate) == set()


def test_explicit_guardian_grant_reveals_one_consortium(world: World) -> None:
    assign_perm("view_consortium", world.outsider, world.consortium_a)
    assert visible_names(world.outsider) == {"Consortium A", "Consortium B"}
    assert permissions.consortium_rights(world.outsider, world.consortium_a.pk) == {
        ConsortiumAction.VIEW
    }


def test_group_grant_of_an_action_implies_sight(world: World) -> None:
    auditors = Group.objects.create(name="external auditors")
    world.candidate.groups.add(auditors)
    assign_perm("manage_membership", auditors, world.consortium_a)
    assert visible_names(world.candidate) == {"Consortium A"}
    assert permissions.consortium_rights(world.candidate, world.consortium_a.pk) == {
        ConsortiumAction.VIEW,
        ConsortiumAction.MANAGE_MEMBERSHIP,
    }


def test_superuser_sees_everything(world: World) -> None:
    root = UserFactory.create(organisation=None, is_superuser=True, is_staff=True)
    assert visible_names(root) >= {"Consortium A", "Consortium B"}


@pytest.mark.parametrize(
    ("persona", "rights"),
    [
        ("chair", set(ConsortiumAction)),
        ("member", {ConsortiumAction.VIEW}),
        ("observer", {ConsortiumAction.VIEW}),
        ("outsider", set()),
        ("candidate", set()),
    ],
)
def test_rights_by_role(world: World, persona: str, rights: set[ConsortiumAction]) -> None:
    assert permissions.consortium_rights(world.persona(persona), world.consortium_a.pk) == rights


def test_get_for_answers_404_outside_and_403_inside(world: World) -> None:
    with pytest.raises(Http404):
        permissions.get_consortium_for(world.outsider, world.consortium_a.pk)
    with pytest.raises(PermissionDenied):
        permissions.get_consortium_for(
            world.observer, world.consortium_a.pk, ConsortiumAction.CHANGE
        )
    with pytest.raises(Http404):
        permissions.get_consortium_for(world.chair, "not-a-number")
    assert (
        permissions.get_consortium_for(world.chair, world.consortium_a.pk, ConsortiumAction.CHANGE)
        == world.consortium_a
    )


def test_rights_are_computed_once_per_request(world: World, django_assert_num_queries: Any) -> None:
    permissions.consortium_rights(world.chair, world.consortium_a.pk)
    with django_assert_num_queries(0):
        permissions.consortium_rights(world.chair, world.consortium_a.pk)
        permissions.can(world.chair, ConsortiumAction.CHANGE, world.membership_member)


def test_visible_list_is_one_query_whatever_the_grants(
    world: World, django_assert_num_queries: Any
) -> None:
    assign_perm("view_consortium", world.outsider, world.consortium_a)
    with django_assert_num_queries(1):
        assert len(list(permissions.visible_memberships(world.outsider))) == 3
