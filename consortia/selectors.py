"""Reads of the consortium domain, always through the access policy."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, Prefetch, QuerySet
from django.utils import timezone

from consortia import permissions
from consortia.models import (
    Consortium,
    Jurisdiction,
    JurisdictionMembership,
    Membership,
    Organisation,
    RoleAssignment,
    User,
)
from consortia.querysets import ConsortiumQuerySet


def jurisdiction_list(*, actor: Any) -> QuerySet[Jurisdiction]:
    """Reference data: every signed-in user may read it."""
    if not getattr(actor, "is_authenticated", False):
        return Jurisdiction.objects.none()
    return Jurisdiction.objects.all()


def jurisdiction_detail(*, actor: Any, code: str) -> dict[str, Any] | None:
    """A jurisdiction with its bloc links, oldest first: a bloc's members or a country's blocs."""
    found = (
        jurisdiction_list(actor=actor)
        .filter(pk=code.upper())
        .values("code", "name", "kind")
        .first()
    )
    if found is None:
        return None
    row: dict[str, Any] = dict(found)
    links = JurisdictionMembership.objects.order_by("joined_on")
    row["members"] = list(
        links.filter(bloc_id=row["code"])
        .order_by("member_id", "joined_on")
        .values("joined_on", "left_on", code=F("member_id"), name=F("member__name"))
    )
    row["blocs"] = list(
        links.filter(member_id=row["code"]).values(
            "joined_on", "left_on", code=F("bloc_id"), name=F("bloc__name")
        )
    )
    return row


def organisation_list(*, actor: Any) -> QuerySet[Organisation]:
    return permissions.visible_organisations(actor)


def consortium_list(*, actor: Any) -> ConsortiumQuerySet:
    return permissions.visible_consortia(actor).with_member_count()


def membership_list(*, actor: Any) -> QuerySet[Membership]:
    return permissions.visible_memberships(actor)


def role_assignment_list(*, actor: Any) -> QuerySet[RoleAssignment]:
    return permissions.visible_role_assignments(actor)


def consortium_detail(*, actor: Any, pk: Any) -> Consortium:
    """A consortium with its members and role holders, for its page."""
    consortium = permissions.get_consortium_for(actor, pk)
    return (
        Consortium.objects.filter(pk=consortium.pk)
        .select_related("partnership_model", "home_jurisdiction")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.select_related(
                    "organisation__home_jurisdiction"
                ).order_by("status", "organisation__name"),
            ),
            Prefetch(
                "role_assignments",
                queryset=RoleAssignment.objects.select_related("user__organisation").order_by(
                    "role", "user__username"
                ),
            ),
        )
        .get()
    )


def assignable_user(*, consortium: Consortium, username: str) -> User:
    """The person ``username`` if they may hold a role in ``consortium``.

    The error is the same whether the account does not exist or is not in a member
    organisation, so the answer reveals nothing about other organisations' people.
    """
    user = permissions.assignable_users(consortium).filter(username=username).first()
    if user is None:
        raise ValidationError(
            {
                "user": f"No one called {username!r} belongs to an active member organisation of this consortium."
            }
        )
    return user


def membership_invitations_unsent(
    *, older_than: datetime.timedelta = datetime.timedelta(minutes=5)
) -> list[int]:
    """Invitations whose notice was never claimed, issued more than ``older_than`` ago."""
    return list(
        Membership.objects.filter(
            status=Membership.Status.INVITED,
            invitation_notified_at__isnull=True,
            invited_at__lt=timezone.now() - older_than,
        ).values_list("pk", flat=True)
    )


def jurisdiction_by_code(*, code: str, field: str = "governing_law") -> Jurisdiction:
    """The jurisdiction with this code, or an error on ``field`` that names the bad code."""
    jurisdiction = Jurisdiction.objects.filter(pk=code.upper()).first()
    if jurisdiction is None:
        raise ValidationError({field: f"{code!r} is not a known jurisdiction code."})
    return jurisdiction


def member_organisation(*, consortium_id: int, pk: Any) -> Organisation:
    """An active member organisation of the consortium, or a field error that says so."""
    organisation = (
        Organisation.objects.filter(
            pk=pk,
            memberships__consortium_id=consortium_id,
            memberships__status=Membership.Status.ACTIVE,
        ).first()
        if str(pk).isdigit()
        else None
    )
    if organisation is None:
        raise ValidationError(
            {"organisation": "No active member organisation of this consortium has this id."}
        )
    return organisation


def person_of(*, organisation: Organisation, username: str) -> User:
    person = User.objects.filter(
        organisation=organisation, username=username, is_active=True
    ).first()
    if person is None:
        raise ValidationError(
            {"signatory": f"No one called {username!r} works for {organisation}."}
        )
    return person
