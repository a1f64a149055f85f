"""The access policy for agreements, built on the consortium's: who sees an agreement, who
drafts it, who approves it for which party, who sends it for signature.

Everyone who can see the consortium sees its agreements (the steering committee governs
them all), and explicit guardian grants let, say, outside counsel see one. Legal people and
the chair draft; a party's legal people approve for that party; the chair or a steering
member approves for the steering committee; the chair sends for signature and records
execution. 404 outside, 403 inside.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models

from agreements.models import (
    Agreement,
    AgreementGroupObjectPermission,
    AgreementUserObjectPermission,
    AgreementVersion,
    Clause,
    Dataset,
    IPAsset,
    Party,
)
from alliance.errors import AccessDeniedError, NotVisibleError
from consortia import permissions as consortium_permissions
from consortia.models import Role


class AgreementAction(enum.StrEnum):
    VIEW = "view_agreement"
    DRAFT = "draft_agreement"
    APPROVE = "approve_agreement"
    APPROVE_FOR_STEERING = "approve_agreement_for_steering"
    MANAGE = "manage_agreement"


ROLE_ACTIONS: Mapping[Role, frozenset[AgreementAction]] = {
    Role.CHAIR: frozenset(
        {
            AgreementAction.VIEW,
            AgreementAction.DRAFT,
            AgreementAction.APPROVE_FOR_STEERING,
            AgreementAction.MANAGE,
        }
    ),
    Role.LEGAL: frozenset({AgreementAction.VIEW, AgreementAction.DRAFT, AgreementAction.APPROVE}),
    Role.STEERING_MEMBER: frozenset({AgreementAction.VIEW, AgreementAction.APPROVE_FOR_STEERING}),
    Role.TECHNICAL: frozenset({AgreementAction.VIEW}),
    Role.CAPACITY_BOARD: frozenset({AgreementAction.VIEW}),
    Role.AUDITOR: frozenset({AgreementAction.VIEW}),
    Role.OBSERVER: frozenset({AgreementAction.VIEW}),
}

ModelT = TypeVar("ModelT", bound=models.Model)
# How to reach an object's consortium, for the audit record of a refused request.
CONSORTIUM_PATHS = {
    "agreement": "consortium_id",
    "agreementversion": "agreement__consortium_id",
    "clause": "version__agreement__consortium_id",
    "party": "agreement__consortium_id",
}


def _granted_ids(user: Any) -> Any:
    by_user = (
        AgreementUserObjectPermission.objects.filter(user_id=user.pk)
        .order_by()
        .values("content_object_id")
    )
    by_group = (
        AgreementGroupObjectPermission.objects.filter(group__user=user.pk)
        .order_by()
        .values("content_object_id")
    )
    return by_user.union(by_group)


def visible_agreements(user: Any) -> models.QuerySet[Agreement]:
    if not getattr(user, "is_authenticated", False):
        return Agreement.objects.none()
    if user.is_superuser:
        return Agreement.objects.all()
    in_consortia = (
        Agreement.objects.filter(
            consortium_id__in=consortium_permissions.visible_consortium_ids(user)
        )
        .order_by()
        .values("pk")
    )
    return Agreement.objects.filter(pk__in=in_consortia.union(_granted_ids(user)))


def visible_versions(user: Any) -> models.QuerySet[AgreementVersion]:
    return AgreementVersion.objects.filter(agreement__in=visible_agreements(user).values("pk"))


def visible_clauses(user: Any) -> models.QuerySet[Clause]:
    return Clause.objects.filter(version__agreement__in=visible_agreements(user).values("pk"))


def agreement_rights(user: Any, agreement: Agreement) -> frozenset[AgreementAction]:
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if user.is_superuser:
        return frozenset(AgreementAction)
    where = consortium_permissions.standing(user, agreement.consortium_id)
    rights: set[AgreementAction] = set()
    if (
        where.membership_status in consortium_permissions.VISIBLE_MEMBERSHIP_STATUSES
        or where.granted
    ):
        rights.add(AgreementAction.VIEW)
    for role in where.roles:
        rights |= ROLE_ACTIONS[role]
    if AgreementAction.VIEW not in rights and _explicitly_granted(user, agreement):
        rights.add(AgreementAction.VIEW)
    return frozenset(rights)


def _explicitly_granted(user: Any, agreement: Agreement) -> bool:
    return bool(
        AgreementUserObjectPermission.objects.filter(
            user_id=user.pk, content_object_id=agreement.pk
        ).exists()
        or AgreementGroupObjectPermission.objects.filter(
            group__user=user.pk, content_object_id=agreement.pk
        ).exists()
    )


def _agreement_of(obj: Agreement | AgreementVersion | Clause | Party) -> Agreement:
    if isinstance(obj, Agreement):
        return obj
    if isinstance(obj, Clause):
        return obj.version.agreement
    return obj.agreement


def can(
    user: Any, action: AgreementAction, obj: Agreement | AgreementVersion | Clause | Party
) -> bool:
    return action in agreement_rights(user, _agreement_of(obj))


def require(
    user: Any, action: AgreementAction, obj: Agreement | AgreementVersion | Clause | Party
) -> None:
    agreement = _agreement_of(obj)
    if not can(user, action, agreement):
        raise AccessDeniedError(
            f"You may not {action.value.replace('_', ' ')} here.",
            consortium_id=agreement.consortium_id,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            action=action.value,
        )


def can_approve_for(user: Any, agreement: Agreement, organisation_id: int) -> bool:
    """Legal people approve for their own organisation only, and only if it is a party."""
    return (
        can(user, AgreementAction.APPROVE, agreement)
        and user.organisation_id == organisation_id
        and agreement.parties.filter(organisation_id=organisation_id).exists()
    )


def _get(queryset: models.QuerySet[ModelT], pk: Any, user: Any, action: AgreementAction) -> ModelT:
    try:
        obj = queryset.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError):
        model = queryset.model
        consortium_id = None
        if str(pk).isdigit():
            path = CONSORTIUM_PATHS[str(model._meta.model_name)]
            consortium_id = (
                model._default_manager.filter(pk=pk).values_list(path, flat=True).first()
            )
        raise NotVisibleError(
            f"No {model._meta.verbose_name} matches the given query.",
            consortium_id=consortium_id,
            object_type=model._meta.label_lower,
            object_id=str(pk)[:64],
            action=action.value,
        ) from None
    require(user, action, obj)  # type: ignore[arg-type]
    return obj


def get_agreement_for(
    user: Any, pk: Any, action: AgreementAction = AgreementAction.VIEW
) -> Agreement:
    return _get(
        visible_agreements(user).select_related("consortium", "governing_law"), pk, user, action
    )


def get_version_for(
    user: Any, pk: Any, action: AgreementAction = AgreementAction.VIEW
) -> AgreementVersion:
    return _get(visible_versions(user).select_related("agreement__consortium"), pk, user, action)


def get_clause_for(user: Any, pk: Any, action: AgreementAction = AgreementAction.VIEW) -> Clause:
    return _get(visible_clauses(user).select_related("version__agreement"), pk, user, action)


def get_party_for(user: Any, pk: Any, action: AgreementAction = AgreementAction.VIEW) -> Party:
    queryset = Party.objects.filter(
        agreement__in=visible_agreements(user).values("pk")
    ).select_related("agreement")
    return _get(queryset, pk, user, action)


def can_draft_in(user: Any, consortium_id: int) -> bool:
    """May ``user`` start an agreement in this consortium (legal people and the chair)?"""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    roles = consortium_permissions.standing(user, consortium_id).roles
    return any(AgreementAction.DRAFT in ROLE_ACTIONS[role] for role in roles)


def visible_datasets(user: Any) -> models.QuerySet[Dataset]:
    if not getattr(user, "is_authenticated", False):
        return Dataset.objects.none()
    if user.is_superuser:
        return Dataset.objects.all()
    return Dataset.objects.filter(
        consortium_id__in=consortium_permissions.visible_consortium_ids(user)
    )


def visible_ip_assets(user: Any) -> models.QuerySet[IPAsset]:
    if not getattr(user, "is_authenticated", False):
        return IPAsset.objects.none()
    if user.is_superuser:
        return IPAsset.objects.all()
    return IPAsset.objects.filter(
        consortium_id__in=consortium_permissions.visible_consortium_ids(user)
    )


def _register_get(queryset: models.QuerySet[ModelT], pk: Any, action: str) -> ModelT:
    obj = queryset.filter(pk=pk).first() if str(pk).isdigit() else None
    if obj is None:
        model = queryset.model
        consortium_id = (
            model._default_manager.filter(pk=pk).values_list("consortium_id", flat=True).first()
            if str(pk).isdigit()
            else None
        )
        raise NotVisibleError(
            f"No {model._meta.verbose_name} matches the given query.",
            consortium_id=consortium_id,
            object_type=model._meta.label_lower,
            object_id=str(pk)[:64],
            action=action,
        )
    return obj


def get_dataset_for(user: Any, pk: Any) -> Dataset:
    return _register_get(
        visible_datasets(user).select_related("owner", "residency", "consortium"),
        pk,
        "view_dataset",
    )


def get_ip_asset_for(user: Any, pk: Any) -> IPAsset:
    return _register_get(
        visible_ip_assets(user).select_related("consortium", "governing_agreement", "dataset"),
        pk,
        "view_ip_asset",
    )
