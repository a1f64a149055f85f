"""Reads of agreements through their access policy. Reading an agreement is an audit event."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from agreements import permissions as policy
from agreements import terms
from agreements.models import (
    Agreement,
    AgreementVersion,
    Clause,
    ClauseTemplate,
    Dataset,
    IPAsset,
    IPOwnership,
    Party,
    SignedDocument,
)
from agreements.redline import ClauseChange, redline
from audit.models import Action
from audit.services import audit_read, audit_record


def agreement_list(*, actor: Any) -> QuerySet[Agreement]:
    return policy.visible_agreements(actor).select_related("consortium", "governing_law")


def record_listing(
    *, actor: Any, agreements: Iterable[Agreement | Mapping[str, Any]], filters: Mapping[str, Any]
) -> None:
    """One ``list`` event per consortium whose agreements the page showed."""
    per_consortium = Counter(
        row["consortium"] if isinstance(row, Mapping) else row.consortium_id for row in agreements
    )
    for consortium_id, count in per_consortium.items():
        audit_read(
            actor=actor,
            consortium_id=consortium_id,
            action=Action.LIST,
            filters=filters,
            count=count,
            what="agreements.agreement",
        )


def agreement_detail(*, actor: Any, pk: Any) -> Agreement:
    """An agreement with its parties and versions, for its page; the read is recorded."""
    agreement = policy.get_agreement_for(actor, pk)
    agreement = (
        Agreement.objects.filter(pk=agreement.pk)
        .select_related("consortium__partnership_model", "governing_law")
        .prefetch_related(
            Prefetch("parties", queryset=Party.objects.select_related("organisation", "signatory")),
            Prefetch(
                "versions",
                queryset=AgreementVersion.objects.order_by("-number").prefetch_related(
                    "approvals__organisation"
                ),
            ),
        )
        .get()
    )
    audit_record(
        action=Action.VIEW, actor=actor, consortium_id=agreement.consortium_id, target=agreement
    )
    return agreement


def version_clauses(version: AgreementVersion) -> list[Clause]:
    return list(version.clauses.order_by("position"))


def version_locked(*, actor: Any, pk: Any) -> AgreementVersion | None:
    """The version if ``actor`` sees it, its row locked until the transaction ends (a
    conditional write compares against it, then writes); None when they do not. Not an
    audited read: nothing is shown."""
    if not str(pk).isdigit():
        return None
    try:
        version = policy.get_version_for(actor, pk)
    except (Http404, PermissionDenied):  # NotVisibleError and AccessDeniedError too
        return None
    list(AgreementVersion.objects.select_for_update().filter(pk=version.pk).values_list("pk"))
    return version


def version_detail(*, actor: Any, pk: Any) -> AgreementVersion:
    version = policy.get_version_for(actor, pk)
    audit_record(
        action=Action.VIEW,
        actor=actor,
        consortium_id=version.agreement.consortium_id,
        target=version,
        related=version.agreement,
    )
    return version


def version_redline(
    *, actor: Any, before_pk: Any, after_pk: Any
) -> tuple[AgreementVersion, AgreementVersion, list[ClauseChange]]:
    before = policy.get_version_for(actor, before_pk)
    after = policy.get_version_for(actor, after_pk)
    if before.agreement_id != after.agreement_id:
        raise ValidationError("A redline compares two versions of the same agreement.")
    changes = redline(version_clauses(before), version_clauses(after))
    audit_record(
        action=Action.VIEW,
        actor=actor,
        consortium_id=after.agreement.consortium_id,
        target=after,
        related=after.agreement,
        reason=f"redline against version {before.number}",
    )
    return before, after, changes


def clause_library(*, actor: Any, agreement: Agreement | None = None) -> QuerySet[ClauseTemplate]:
    """The library, the templates that fit ``agreement`` (its kind, its consortium's
    partnership model) first."""
    if not getattr(actor, "is_authenticated", False):
        return ClauseTemplate.objects.none()
    templates = ClauseTemplate.objects.select_related("partnership_model")
    if agreement is None:
        return templates
    model_code = agreement.consortium.partnership_model_id
    fit = Case(
        When(Q(agreement_kind=agreement.kind) & Q(partnership_model_id=model_code), then=Value(0)),
        When(Q(agreement_kind=agreement.kind) | Q(partnership_model_id=model_code), then=Value(1)),
        When(agreement_kind="", partnership_model__isnull=True, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    return templates.annotate(fit=fit).order_by("fit", "kind", "title")


def status_counts(*, actor: Any, consortium_id: int) -> list[tuple[str, str, int]]:
    """(status, its label, how many) for every status, in lifecycle order, of the
    consortium's agreements ``actor`` sees. One query."""
    counted = dict(
        agreement_list(actor=actor)
        .filter(consortium_id=consortium_id)
        .order_by()
        .values_list("status")
        .annotate(count=Count("pk"))
        .values_list("status", "count")
    )
    return [(value, str(label), counted.get(value, 0)) for value, label in Agreement.Status.choices]


def expiring(*, actor: Any, consortium_id: int, within_days: int) -> QuerySet[Agreement]:
    """Executed agreements of a consortium that expire within ``within_days``."""
    today = timezone.localdate()
    return (
        agreement_list(actor=actor)
        .filter(
            consortium_id=consortium_id,
            status=Agreement.Status.EXECUTED,
            expires_on__isnull=False,
            expires_on__lte=today + datetime.timedelta(days=within_days),
        )
        .order_by("expires_on")
    )


def dataset_list(*, actor: Any) -> QuerySet[Dataset]:
    return policy.visible_datasets(actor).select_related("owner", "residency", "consortium")


def dataset_detail(*, actor: Any, pk: Any) -> tuple[Dataset, list[Clause]]:
    """A dataset and the clauses in force that govern it; the read is recorded."""
    dataset = policy.get_dataset_for(actor, pk)
    audit_record(
        action=Action.VIEW, actor=actor, consortium_id=dataset.consortium_id, target=dataset
    )
    return dataset, terms.terms_for_dataset(dataset)


def ip_asset_list(*, actor: Any) -> QuerySet[IPAsset]:
    return (
        policy.visible_ip_assets(actor)
        .select_related("consortium", "governing_agreement", "dataset")
        .prefetch_related(
            Prefetch("ownerships", queryset=IPOwnership.objects.select_related("organisation")),
            "derived_from",
        )
    )


def ip_asset_detail(*, actor: Any, pk: Any) -> IPAsset:
    asset = policy.get_ip_asset_for(actor, pk)
    return ip_asset_list(actor=actor).get(pk=asset.pk)


def signed_document(version: AgreementVersion) -> SignedDocument | None:
    """The executed PDF's record for a version the caller has already been allowed to read."""
    return SignedDocument.objects.filter(version=version).first()
