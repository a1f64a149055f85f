"""Agreement versions waiting on a person's approval or signature, for the home page
(registered in AgreementsConfig). Each kind costs a fixed number of queries, however many
versions wait."""

from __future__ import annotations

from collections import defaultdict
from itertools import chain

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from agreements import permissions as policy
from agreements.models import Agreement, AgreementVersion, Approval, Party, Signature
from agreements.signing import due_among
from consortia import permissions as consortium_permissions
from consortia import waiting
from consortia.models import Role, User


def _roles_granting(action: policy.AgreementAction) -> list[Role]:
    return [role for role, actions in policy.ROLE_ACTIONS.items() if action in actions]


def versions_to_approve(user: User) -> list[waiting.WaitingItem]:
    """Versions in review that the person's party organisation (they are its legal person),
    or the steering committee they sit on, has not approved yet. One query."""
    own = user.organisation_id or 0
    as_party = Q(
        agreement__consortium_id__in=consortium_permissions.consortium_ids_with_roles(
            user, _roles_granting(policy.AgreementAction.APPROVE)
        ),
        agreement__parties__organisation_id=own,
    ) & ~Q(Exists(Approval.objects.filter(version_id=OuterRef("pk"), organisation_id=own)))
    as_steering = Q(
        agreement__consortium_id__in=consortium_permissions.consortium_ids_with_roles(
            user, _roles_granting(policy.AgreementAction.APPROVE_FOR_STEERING)
        ),
        agreement__requires_steering_approval=True,
    ) & ~Q(Exists(Approval.objects.filter(version_id=OuterRef("pk"), is_steering=True)))
    versions = (
        AgreementVersion.objects.filter(
            status=AgreementVersion.Status.IN_REVIEW,
            agreement__in=policy.visible_agreements(user).values("pk"),
        )
        .filter(as_party | as_steering)
        .distinct()
        .select_related("agreement__consortium")
        .order_by("-frozen_at", "-pk")[: waiting.PER_SOURCE_LIMIT]
    )
    return [
        waiting.WaitingItem(
            kind="Approve",
            title=f"{version.agreement.title}, version {version.number}",
            consortium_id=version.agreement.consortium_id,
            consortium_name=version.agreement.consortium.name,
            url=reverse("agreements:detail", args=[version.agreement_id]),
            since=version.frozen_at or version.created_at,
            detail="in review",
        )
        for version in versions
    ]


def signatures_requested(user: User) -> list[waiting.WaitingItem]:
    """Versions out for signature where the person signs for a party whose turn it is and
    which has not signed. Three queries: the versions, their parties, their signatures."""
    versions = list(
        AgreementVersion.objects.filter(
            status=AgreementVersion.Status.OUT_FOR_SIGNATURE,
            agreement__in=policy.visible_agreements(user).values("pk"),
            agreement__status=Agreement.Status.OUT_FOR_SIGNATURE,
            agreement__parties__signatory_id=user.pk,
        )
        .distinct()
        .select_related("agreement__consortium")
        .order_by("-frozen_at", "-pk")[: waiting.PER_SOURCE_LIMIT]
    )
    if not versions:
        return []
    parties: dict[int, list[Party]] = defaultdict(list)
    for party in Party.objects.filter(
        agreement_id__in=[version.agreement_id for version in versions]
    ).select_related("organisation"):
        parties[party.agreement_id].append(party)
    signed: dict[int, set[int]] = defaultdict(set)
    for version_id, party_id in Signature.objects.filter(
        version__in=versions, decision=Signature.Decision.SIGNED, voided=False
    ).values_list("version_id", "party_id"):
        signed[version_id].add(party_id)
    items: list[waiting.WaitingItem] = []
    for version in versions:
        mine = [
            party
            for party in due_among(parties[version.agreement_id], signed[version.pk])
            if party.signatory_id == user.pk
        ]
        items.extend(
            waiting.WaitingItem(
                kind="Sign",
                title=f"{version.agreement.title}, version {version.number}",
                consortium_id=version.agreement.consortium_id,
                consortium_name=version.agreement.consortium.name,
                url=reverse("agreements:sign", args=[version.pk]),
                since=version.frozen_at or version.created_at,
                detail=f"for {party.organisation.name}",
            )
            for party in mine
        )
    return items


def for_person(user: User) -> list[waiting.WaitingItem]:
    return list(chain(versions_to_approve(user), signatures_requested(user)))
