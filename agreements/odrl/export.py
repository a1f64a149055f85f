"""The usage terms of an executed version as an ODRL 2.2 JSON-LD Agreement.

For each data usage clause with terms: one permission per permitted action and one
prohibition per prohibited action, each identified by the clause's URL followed by the action
(``.../versions/3#clause-7.2/train``), so a partner's connector cites the clause. Constraints:
where (``spatial``: country IRIs; blocs expanded to their members as of the version's
execution date), why (``purpose``: DPV purposes), when (``dateTime``: the agreement's term)
and how data moves (``alliance:movement``). A retention period becomes a delete duty; onward
transfer becomes a ``distribute`` rule. The conflict strategy is explicit: prohibitions win.
Only ODRL 2.2 terms and those of Alliance's profile (profile.ttl) are used.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from agreements.content import numbered
from agreements.models import AgreementVersion, PartyRole
from agreements.terms import PURPOSES, Movement, OnwardTransfer
from consortia.models import Jurisdiction

HERE = Path(__file__).resolve().parent
ODRL_CONTEXT_URL = "http://www.w3.org/ns/odrl.jsonld"
PROFILE = "https://w3id.org/alliance/odrl/1"
ALLIANCE = "https://w3id.org/alliance/odrl#"
CONTEXT: list[Any] = [
    ODRL_CONTEXT_URL,
    {"alliance": ALLIANCE, "dpv": "https://w3id.org/dpv#", "loc": "https://w3id.org/dpv/loc#"},
]
ACTION_TERMS = {
    "train": "alliance:train",
    "fine_tune": "alliance:fineTune",
    "evaluate": "alliance:evaluate",
    "infer": "alliance:infer",
    "aggregate_stats": "alliance:aggregateStatistics",
    "export_weights": "alliance:exportWeights",
    "copy_raw": "alliance:copyRawData",
}
MOVEMENT_TERMS = {
    Movement.FEDERATED_ONLY: "alliance:ModelToData",
    Movement.WITHIN_RESIDENCY: "alliance:WithinResidency",
    Movement.TO_APPROVED_SITES: "alliance:ToApprovedSites",
}


class NotExecutedError(Exception):
    """Only an executed version's terms bind anyone."""


def _url(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def organisation_iri(organisation_id: int) -> str:
    return _url(f"/organisations/{organisation_id}/")


def dataset_iri(dataset_id: int) -> str:
    return _url(f"/datasets/{dataset_id}/")


def version_iri(version: AgreementVersion) -> str:
    return _url(f"/agreements/{version.agreement_id}/versions/{version.number}")


def _countries(codes: list[str], on: datetime.date) -> list[dict[str, str]]:
    """Country IRIs for the codes, each bloc replaced by its members on ``on``."""
    countries: set[str] = set()
    for jurisdiction in Jurisdiction.objects.filter(pk__in=codes):
        if jurisdiction.kind == Jurisdiction.Kind.BLOC:
            countries |= set(
                Jurisdiction.objects.members_of(jurisdiction, on=on).values_list("code", flat=True)
            )
        else:
            countries.add(jurisdiction.code)
    return [{"@id": f"loc:{code}"} for code in sorted(countries)]


def _constraints(
    terms: dict[str, Any], version: AgreementVersion, on: datetime.date
) -> list[dict[str, Any]]:
    agreement = version.agreement
    constraints: list[dict[str, Any]] = [
        {
            "leftOperand": "spatial",
            "operator": "isAnyOf",
            "rightOperand": _countries(terms["jurisdictions"], on),
        },
        {
            "leftOperand": "purpose",
            "operator": "isAnyOf",
            "rightOperand": [{"@id": f"dpv:{PURPOSES[code]}"} for code in terms["purposes"]],
        },
        {
            "leftOperand": "alliance:movement",
            "operator": "eq",
            "rightOperand": {"@id": MOVEMENT_TERMS[Movement(terms["movement"])]},
        },
    ]
    if agreement.effective_on:
        constraints.append(_date_constraint("gteq", agreement.effective_on, "00:00:00"))
    if agreement.expires_on:
        constraints.append(_date_constraint("lt", agreement.expires_on, "00:00:00"))
    return constraints


def _date_constraint(operator: str, day: datetime.date, time: str) -> dict[str, Any]:
    return {
        "leftOperand": "dateTime",
        "operator": operator,
        "rightOperand": {"@value": f"{day.isoformat()}T{time}Z", "@type": "xsd:dateTime"},
    }


def _parties(version: AgreementVersion, roles: tuple[str, ...]) -> list[str]:
    organisations = version.agreement.parties.filter(role__in=roles).values_list(
        "organisation_id", flat=True
    )
    return sorted({organisation_iri(organisation_id) for organisation_id in organisations})


def export(version: AgreementVersion) -> dict[str, Any]:
    """The ODRL Agreement of an executed version."""
    if version.status != AgreementVersion.Status.EXECUTED or version.executed_at is None:
        raise NotExecutedError(
            f"Version {version.number} is {version.get_status_display().lower()}, not executed."
        )
    return build(version, version.executed_at)


def build(version: AgreementVersion, executed_at: datetime.datetime) -> dict[str, Any]:
    """The ODRL Agreement of ``version`` as if executed at ``executed_at``, without checking
    its status: the executed PDF embeds it and is rendered just before the version is marked
    executed. Bloc memberships are taken on the execution date, in UTC as stored."""
    assert executed_at.tzinfo is not None, "an execution time is an aware datetime"
    on = executed_at.astimezone(datetime.UTC).date()
    permissions: list[dict[str, Any]] = []
    prohibitions: list[dict[str, Any]] = []
    assigners = _parties(version, (PartyRole.DATA_PROVIDER, PartyRole.LICENSOR))
    assignees = _parties(
        version, (PartyRole.DATA_RECIPIENT, PartyRole.LICENSEE, PartyRole.CONTRIBUTOR)
    )
    for item in numbered(version.clauses.order_by("position")):
        terms = item.clause.terms
        if not terms:
            continue
        clause_iri = f"{version_iri(version)}#clause-{item.number}"
        targets = [dataset_iri(dataset_id) for dataset_id in terms["datasets"]]
        constraints = _constraints(terms, version, on)
        duties = []
        if terms["retention_days"]:
            duties.append(
                {
                    "action": "delete",
                    "constraint": [
                        {
                            "leftOperand": "elapsedTime",
                            "operator": "lteq",
                            "rightOperand": {
                                "@value": f"P{terms['retention_days']}D",
                                "@type": "xsd:duration",
                            },
                        }
                    ],
                }
            )
        for action in terms["actions_allowed"]:
            rule: dict[str, Any] = {
                "@id": f"{clause_iri}/{action}",
                "target": targets,
                "action": ACTION_TERMS[action],
                "constraint": constraints,
            }
            if duties:
                rule["duty"] = duties
            permissions.append(rule)
        for action in terms["actions_prohibited"]:
            prohibitions.append(
                {"@id": f"{clause_iri}/{action}", "target": targets, "action": ACTION_TERMS[action]}
            )
        onward = OnwardTransfer(terms["onward_transfer"])
        if onward == OnwardTransfer.PROHIBITED:
            prohibitions.append(
                {"@id": f"{clause_iri}/distribute", "target": targets, "action": "distribute"}
            )
        elif onward == OnwardTransfer.NAMED_PARTIES:
            permissions.append(
                {
                    "@id": f"{clause_iri}/distribute",
                    "target": targets,
                    "action": "distribute",
                    "constraint": [
                        {
                            "leftOperand": "recipient",
                            "operator": "isAnyOf",
                            "rightOperand": [
                                {"@id": organisation_iri(org)} for org in terms["onward_parties"]
                            ],
                        }
                    ],
                }
            )
        else:
            permissions.append(
                {
                    "@id": f"{clause_iri}/distribute",
                    "target": targets,
                    "action": "distribute",
                    "duty": [
                        {
                            "action": "obtainConsent",
                            "consentingParty": _url(
                                f"/consortia/{version.agreement.consortium_id}/"
                            ),
                        }
                    ],
                }
            )
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "Agreement",
        "uid": version_iri(version),
        "profile": PROFILE,
        "conflict": "prohibit",
        "assigner": assigners,
        "assignee": assignees,
    }
    if permissions:
        document["permission"] = permissions
    if prohibitions:
        document["prohibition"] = prohibitions
    return document


def context_document() -> dict[str, Any]:
    """The ODRL 2.2 JSON-LD context, read from disk: no JSON-LD processing here ever fetches it."""
    import json

    return dict(json.loads((HERE / "odrl.jsonld").read_text(encoding="utf-8")))
