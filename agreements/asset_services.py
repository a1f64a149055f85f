"""State changes of the data and IP registers: datasets, usage terms, IP assets and owners."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from agreements import permissions as policy
from agreements import terms as usage_terms
from agreements.models import Agreement, Clause, Dataset, IPAsset, IPOwnership
from agreements.permissions import AgreementAction
from agreements.services import _audit, _locked_version, _require_draft
from alliance.errors import AccessDeniedError
from audit.models import Action
from audit.services import audit_record, changes_between, snapshot
from consortia import permissions as consortium_permissions
from consortia.models import Consortium, Jurisdiction, Membership, Organisation, Role, User

DATASET_FIELDS = (
    "name",
    "description",
    "sensitivity",
    "contains_personal_data",
    "residency",
    "owner",
)
REGISTRARS = frozenset({Role.CHAIR, Role.LEGAL, Role.TECHNICAL})


def _require_registrar(actor: User, consortium_id: int, organisation_id: int | None = None) -> None:
    """Legal, technical people and the chair keep the registers; a dataset is registered by
    people of the organisation that owns it."""
    if actor.is_superuser:
        return
    roles = consortium_permissions.standing(actor, consortium_id).roles
    if not roles & REGISTRARS or (
        organisation_id is not None and actor.organisation_id != organisation_id
    ):
        raise AccessDeniedError(
            "Only the legal or technical people of the owning organisation, or the chair, keep this register.",
            consortium_id=consortium_id,
            object_type="consortia.consortium",
            object_id=str(consortium_id),
            action="register",
        )


# Datasets -----------------------------------------------------------------------------------


@transaction.atomic
def dataset_create(
    *,
    actor: User,
    consortium: Consortium,
    owner: Organisation,
    name: str,
    sensitivity: str,
    residency: Jurisdiction,
    description: str = "",
    contains_personal_data: bool = False,
) -> Dataset:
    _require_registrar(actor, consortium.pk, owner.pk)
    if not Membership.objects.filter(
        consortium=consortium, organisation=owner, status=Membership.Status.ACTIVE
    ).exists():
        raise ValidationError({"owner": f"{owner} is not an active member of this consortium."})
    dataset = Dataset(
        consortium=consortium,
        owner=owner,
        name=name.strip(),
        description=description,
        sensitivity=sensitivity,
        contains_personal_data=contains_personal_data,
        residency=residency,
    )
    dataset.full_clean()
    dataset.save()
    audit_record(
        action=Action.CREATE,
        actor=actor,
        consortium_id=consortium.pk,
        target=dataset,
        changes=changes_between(None, snapshot(dataset, DATASET_FIELDS)),
    )
    return dataset


@transaction.atomic
def dataset_update(*, actor: User, dataset: Dataset, **fields: Any) -> Dataset:
    _require_registrar(actor, dataset.consortium_id, dataset.owner_id)
    unknown = set(fields) - {
        "name",
        "description",
        "sensitivity",
        "contains_personal_data",
        "residency",
    }
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    before = snapshot(dataset, DATASET_FIELDS)
    for name, value in fields.items():
        setattr(dataset, name, value)
    changes = changes_between(before, snapshot(dataset, DATASET_FIELDS))
    if changes:
        dataset.full_clean()
        dataset.save()
        audit_record(
            action=Action.UPDATE,
            actor=actor,
            consortium_id=dataset.consortium_id,
            target=dataset,
            changes=changes,
        )
    return dataset


# Usage terms --------------------------------------------------------------------------------


@transaction.atomic
def clause_set_terms(*, actor: User, clause: Clause, terms: dict[str, Any] | None) -> Clause:
    """Attach (or remove, with None) structured usage terms to a data usage clause of a draft."""
    policy.require(actor, AgreementAction.DRAFT, clause)
    version = _locked_version(clause.version)
    _require_draft(version)
    clause = Clause.objects.select_related("version__agreement").get(pk=clause.pk)
    normalised = None if terms is None else usage_terms.validate_terms(terms, clause=clause)
    if normalised == clause.terms:
        return clause
    before = clause.terms
    clause.terms = normalised
    clause.save(update_fields=["terms"])
    _audit(
        actor,
        Action.UPDATE,
        version.agreement,
        clause,
        changes={"terms": {"before": before, "after": normalised}},
    )
    return clause


# IP assets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    organisation: Organisation
    share: Decimal
    revenue_share: Decimal


def _validate_shares(consortium_id: int, shares: Sequence[Share]) -> None:
    if not shares:
        raise ValidationError({"ownerships": "An asset needs at least one owner."})
    organisations = [item.organisation.pk for item in shares]
    if len(set(organisations)) != len(organisations):
        raise ValidationError({"ownerships": "Each organisation appears once."})
    for name, total in (
        ("share", sum(item.share for item in shares)),
        ("revenue_share", sum(item.revenue_share for item in shares)),
    ):
        if total != Decimal(100):
            raise ValidationError(
                {
                    "ownerships": f"Ownership {name.replace('_', ' ')}s total {total}%, not exactly 100%."
                }
            )
    members = set(
        Membership.objects.filter(consortium_id=consortium_id).values_list(
            "organisation_id", flat=True
        )
    )
    if outside := [
        str(item.organisation) for item in shares if item.organisation.pk not in members
    ]:
        raise ValidationError(
            {"ownerships": f"Not members of this consortium: {', '.join(outside)}."}
        )


def _replace_owners(asset: IPAsset, shares: Sequence[Share]) -> None:
    asset.ownerships.all().delete()
    IPOwnership.objects.bulk_create(
        [
            IPOwnership(
                asset=asset,
                organisation=item.organisation,
                share=item.share,
                revenue_share=item.revenue_share,
            )
            for item in shares
        ]
    )


def _shares_audit(shares: Iterable[Share]) -> dict[str, Any]:
    return {
        item.organisation.name: {"share": str(item.share), "revenue_share": str(item.revenue_share)}
        for item in shares
    }


@transaction.atomic
def ip_asset_create(
    *,
    actor: User,
    consortium: Consortium,
    name: str,
    kind: str,
    shares: Sequence[Share],
    description: str = "",
    governing_agreement: Agreement | None = None,
    dataset: Dataset | None = None,
    derived_from: Sequence[IPAsset] = (),
) -> IPAsset:
    """Register an asset with its owners (shares and revenue shares each total 100%)."""
    _require_registrar(actor, consortium.pk)
    if governing_agreement is not None and governing_agreement.consortium_id != consortium.pk:
        raise ValidationError(
            {"governing_agreement": "The governing agreement belongs to another consortium."}
        )
    if dataset is not None and dataset.consortium_id != consortium.pk:
        raise ValidationError({"dataset": "The dataset belongs to another consortium."})
    if any(parent.consortium_id != consortium.pk for parent in derived_from):
        raise ValidationError(
            {"derived_from": "An asset derives only from assets of its own consortium."}
        )
    _validate_shares(consortium.pk, shares)
    asset = IPAsset(
        consortium=consortium,
        name=name.strip(),
        kind=kind,
        description=description,
        governing_agreement=governing_agreement,
        dataset=dataset,
    )
    asset.full_clean()
    asset.save()
    asset.derived_from.set(derived_from)
    _replace_owners(asset, shares)
    audit_record(
        action=Action.CREATE,
        actor=actor,
        consortium_id=consortium.pk,
        target=asset,
        changes={
            "owners": {"before": None, "after": _shares_audit(shares)},
            "derived_from": {"before": None, "after": [parent.pk for parent in derived_from]},
        },
    )
    return asset


@transaction.atomic
def ip_asset_set_owners(*, actor: User, asset: IPAsset, shares: Sequence[Share]) -> IPAsset:
    _require_registrar(actor, asset.consortium_id)
    asset = IPAsset.objects.select_for_update().get(pk=asset.pk)
    _validate_shares(asset.consortium_id, shares)
    before = {
        ownership.organisation.name: {
            "share": str(ownership.share),
            "revenue_share": str(ownership.revenue_share),
        }
        for ownership in asset.ownerships.select_related("organisation")
    }
    _replace_owners(asset, shares)
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        consortium_id=asset.consortium_id,
        target=asset,
        changes={"owners": {"before": before, "after": _shares_audit(shares)}},
    )
    return asset


@dataclass(frozen=True)
class Restriction:
    """A usage term an asset is bound by, and the ancestor it comes from."""

    source: IPAsset
    clause: Clause


def inherited_restrictions(asset: IPAsset) -> list[Restriction]:
    """The usage terms in force on the data sets this asset derives from, at any depth, that
    say derived models inherit them."""
    seen: set[int] = set()
    frontier = list(asset.derived_from.all())
    found: list[Restriction] = []
    while frontier:
        parent = frontier.pop()
        if parent.pk in seen:
            continue
        seen.add(parent.pk)
        if parent.dataset_id is not None:
            dataset = Dataset.objects.get(pk=parent.dataset_id)
            found += [
                Restriction(parent, clause)
                for clause in usage_terms.terms_for_dataset(dataset)
                if clause.terms is not None and clause.terms["derived_models_inherit"]
            ]
        frontier += list(parent.derived_from.all())
    return found
