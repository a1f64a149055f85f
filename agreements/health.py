"""The agreements' part of the partnership health check (registered with consortia.health):
the legal framework must define IP ownership, liability and data-usage rights from the
outset, and no data set may be shared without terms in force."""

from __future__ import annotations

from django.urls import reverse

from agreements.models import Agreement, Clause, ClauseKind, Dataset
from agreements.terms import clauses_in_force
from consortia.health import Finding
from consortia.models import Consortium

# What an executed agreement must cover, by partnership model; infrastructure pools share
# hardware, not data, so their framework needs no data-usage clause.
REQUIRED_KINDS = {
    "joint_development": (ClauseKind.IP_OWNERSHIP, ClauseKind.LIABILITY, ClauseKind.DATA_USAGE),
    "federated_learning": (ClauseKind.IP_OWNERSHIP, ClauseKind.LIABILITY, ClauseKind.DATA_USAGE),
    "infrastructure_pool": (ClauseKind.IP_OWNERSHIP, ClauseKind.LIABILITY),
}


def legal_framework(consortium: Consortium) -> list[Finding]:
    required = REQUIRED_KINDS.get(consortium.partnership_model_id, ())
    covered = set(
        Clause.objects.filter(
            version__agreement__consortium=consortium,
            version__agreement__status=Agreement.Status.EXECUTED,
            version__status="executed",
        ).values_list("kind", flat=True)
    )
    missing = [ClauseKind(kind).label.lower() for kind in required if kind not in covered]
    if not missing:
        return []
    return [
        Finding(
            "legal_framework_incomplete",
            "high",
            "No executed agreement defines " + ", ".join(missing) + ".",
            "Draft an agreement from the clause library with those clauses and take it to "
            "signature.",
            reverse("agreements:list") + f"?consortium={consortium.pk}",
        )
    ]


def datasets_without_terms(consortium: Consortium) -> list[Finding]:
    # One read of the terms in force for the whole consortium, not one per data set.
    covered = {
        dataset_id
        for clause in clauses_in_force(consortium_id=consortium.pk)
        for dataset_id in (clause.terms or {}).get("datasets", [])
    }
    return [
        Finding(
            "dataset_without_terms",
            "medium",
            f"The data set {dataset.name} has no usage terms in force.",
            "Cover it in a data-usage clause of an executed data sharing agreement.",
            reverse("agreements:dataset", args=[dataset.pk]),
        )
        for dataset in Dataset.objects.filter(consortium=consortium).order_by("name")
        if dataset.pk not in covered
    ]
