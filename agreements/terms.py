"""Data-usage terms as data: the vocabulary, validation, and which terms are in force.

A term sits on one data-usage clause of a data sharing agreement (``Clause.terms``), so it is
frozen, hashed and executed with the clause's version. It is in force only while that
version is executed and not superseded, and its agreement is executed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from agreements.models import (
    Agreement,
    AgreementKind,
    AgreementVersion,
    Clause,
    ClauseKind,
    Dataset,
)
from consortia.models import Jurisdiction, Membership


class Movement(enum.StrEnum):
    FEDERATED_ONLY = "federated_only"  # models move to the data
    WITHIN_RESIDENCY = "within_residency"  # data may move, inside its residency jurisdiction
    TO_APPROVED_SITES = "to_approved_sites"  # data may move to sites the consortium approved


class OnwardTransfer(enum.StrEnum):
    PROHIBITED = "prohibited"
    NAMED_PARTIES = "named_parties"
    REQUIRES_STEERING_APPROVAL = "requires_steering_approval"


# What may be done with the data; each maps to a term of Alliance's ODRL profile.
ACTIONS = (
    "train",
    "fine_tune",
    "evaluate",
    "infer",
    "aggregate_stats",
    "export_weights",
    "copy_raw",
)

# Permitted purposes, as W3C Data Privacy Vocabulary (DPV) purposes.
PURPOSES: Mapping[str, str] = {
    "research_and_development": "ResearchAndDevelopment",
    "academic_research": "AcademicResearch",
    "commercial_research": "CommercialResearch",
    "non_commercial_research": "NonCommercialResearch",
    "service_optimisation": "ServiceOptimisation",
    "service_provision": "ServiceProvision",
    "fraud_prevention": "FraudPreventionAndDetection",
}

FIELDS = (
    "datasets",
    "purposes",
    "actions_allowed",
    "actions_prohibited",
    "jurisdictions",
    "movement",
    "retention_days",
    "onward_transfer",
    "onward_parties",
    "derived_models_inherit",
)


def _list(raw: Mapping[str, Any], name: str, errors: dict[str, list[str]]) -> list[Any]:
    value = raw.get(name, [])
    if not isinstance(value, list):
        errors.setdefault(name, []).append("Give a list.")
        return []
    return value


def validate_terms(raw: Mapping[str, Any], *, clause: Clause) -> dict[str, Any]:
    """The terms in their one valid shape, or a ValidationError naming every bad field."""
    errors: dict[str, list[str]] = {}
    agreement = clause.version.agreement
    if agreement.kind != AgreementKind.DATA_SHARING or clause.kind != ClauseKind.DATA_USAGE:
        raise ValidationError(
            "Usage terms belong to a data usage clause of a data sharing agreement."
        )
    unknown = set(raw) - set(FIELDS)
    if unknown:
        errors["terms"] = [f"Unknown fields: {', '.join(sorted(unknown))}."]

    dataset_ids = _list(raw, "datasets", errors)
    if not dataset_ids:
        errors.setdefault("datasets", []).append("Name at least one dataset.")
    known = set(
        Dataset.objects.filter(
            consortium_id=agreement.consortium_id,
            pk__in=[i for i in dataset_ids if isinstance(i, int)],
        ).values_list("pk", flat=True)
    )
    outside = [str(item) for item in dataset_ids if item not in known]
    if outside:
        errors.setdefault("datasets", []).append(
            f"Not datasets of this consortium: {', '.join(outside)}."
        )

    purposes = _list(raw, "purposes", errors)
    if not purposes:
        errors.setdefault("purposes", []).append("Name at least one permitted purpose.")
    if bad := [str(p) for p in purposes if p not in PURPOSES]:
        errors.setdefault("purposes", []).append(
            f"Unknown purposes: {', '.join(bad)}; choose from {', '.join(PURPOSES)}."
        )

    allowed, prohibited = (
        _list(raw, "actions_allowed", errors),
        _list(raw, "actions_prohibited", errors),
    )
    for name, actions in (("actions_allowed", allowed), ("actions_prohibited", prohibited)):
        if bad := [str(a) for a in actions if a not in ACTIONS]:
            errors.setdefault(name, []).append(
                f"Unknown actions: {', '.join(bad)}; choose from {', '.join(ACTIONS)}."
            )
    if not allowed:
        errors.setdefault("actions_allowed", []).append("Name at least one permitted action.")
    if both := sorted(set(allowed) & set(prohibited)):
        errors.setdefault("actions_prohibited", []).append(
            f"Both permitted and prohibited: {', '.join(both)}."
        )

    codes = [str(code).upper() for code in _list(raw, "jurisdictions", errors)]
    if not codes:
        errors.setdefault("jurisdictions", []).append("Name where the data may be processed.")
    if bad := sorted(
        set(codes) - set(Jurisdiction.objects.filter(pk__in=codes).values_list("pk", flat=True))
    ):
        errors.setdefault("jurisdictions", []).append(f"Unknown jurisdictions: {', '.join(bad)}.")

    movement = raw.get("movement")
    if movement not in Movement.__members__.values():
        errors["movement"] = [f"Choose one of {', '.join(Movement)}."]

    retention = raw.get("retention_days")
    if retention is not None and (
        not isinstance(retention, int) or isinstance(retention, bool) or retention < 1
    ):
        errors["retention_days"] = ["A whole number of days, at least 1, or null for no limit."]

    onward = raw.get("onward_transfer", OnwardTransfer.PROHIBITED)
    if onward not in OnwardTransfer.__members__.values():
        errors["onward_transfer"] = [f"Choose one of {', '.join(OnwardTransfer)}."]
    onward_parties = _list(raw, "onward_parties", errors)
    if onward == OnwardTransfer.NAMED_PARTIES:
        members = set(
            Membership.objects.filter(
                consortium_id=agreement.consortium_id, status=Membership.Status.ACTIVE
            ).values_list("organisation_id", flat=True)
        )
        if not onward_parties:
            errors.setdefault("onward_parties", []).append(
                "Name the organisations data may go on to."
            )
        if bad := [str(item) for item in onward_parties if item not in members]:
            errors.setdefault("onward_parties", []).append(
                f"Not active members of this consortium: {', '.join(bad)}."
            )
    elif onward_parties:
        errors.setdefault("onward_parties", []).append("Only named-party transfers name parties.")

    inherit = raw.get("derived_models_inherit", True)
    if not isinstance(inherit, bool):
        errors["derived_models_inherit"] = ["true or false."]
    if errors:
        raise ValidationError(errors)
    return {
        "datasets": sorted(dataset_ids),
        "purposes": sorted(set(purposes)),
        "actions_allowed": sorted(set(allowed)),
        "actions_prohibited": sorted(set(prohibited)),
        "jurisdictions": sorted(set(codes)),
        "movement": str(movement),
        "retention_days": retention,
        "onward_transfer": str(onward),
        "onward_parties": sorted(onward_parties),
        "derived_models_inherit": inherit,
    }


def clauses_in_force(*, consortium_id: int | None = None) -> QuerySet[Clause]:
    """Clauses whose usage terms are in force: executed version of an executed agreement."""
    clauses = Clause.objects.filter(
        terms__isnull=False,
        version__status=AgreementVersion.Status.EXECUTED,
        version__agreement__status=Agreement.Status.EXECUTED,
    ).select_related("version__agreement")
    if consortium_id is not None:
        clauses = clauses.filter(version__agreement__consortium_id=consortium_id)
    return clauses


def terms_for_dataset(dataset: Dataset) -> list[Clause]:
    """The clauses in force whose terms cover ``dataset`` (JSON membership checked in Python,
    which works on every database)."""
    return [
        clause
        for clause in clauses_in_force(consortium_id=dataset.consortium_id)
        if clause.terms is not None and dataset.pk in clause.terms["datasets"]
    ]


def readable(clauses: list[Clause]) -> dict[int, dict[str, Any]]:
    """Each clause's terms with names in place of ids and words in place of codes, keyed by
    clause id, for people to read (two queries for any number of clauses)."""
    from consortia.models import Organisation

    with_terms: dict[int, dict[str, Any]] = {
        clause.pk: clause.terms for clause in clauses if clause.terms
    }
    dataset_ids = {pk for raw in with_terms.values() for pk in raw["datasets"]}
    party_ids = {pk for raw in with_terms.values() for pk in raw.get("onward_parties", [])}
    datasets = dict(Dataset.objects.filter(pk__in=dataset_ids).values_list("pk", "name"))
    parties = dict(Organisation.objects.filter(pk__in=party_ids).values_list("pk", "name"))

    def words(codes: list[str]) -> list[str]:
        return [code.replace("_", " ") for code in codes]

    return {
        pk: {
            "datasets": [datasets.get(dataset, f"#{dataset}") for dataset in raw["datasets"]],
            "purposes": words(raw["purposes"]),
            "actions_allowed": words(raw["actions_allowed"]),
            "actions_prohibited": words(raw["actions_prohibited"]),
            "jurisdictions": raw["jurisdictions"],
            "movement": raw["movement"].replace("_", " "),
            "retention_days": raw["retention_days"],
            "onward_transfer": raw["onward_transfer"].replace("_", " "),
            "onward_parties": [
                parties.get(party, f"#{party}") for party in raw.get("onward_parties", [])
            ],
            "derived_models_inherit": raw.get("derived_models_inherit", True),
        }
        for pk, raw in with_terms.items()
    }
