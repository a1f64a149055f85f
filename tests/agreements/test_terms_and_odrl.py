"""Data-usage terms as data, and their ODRL 2.2 export, checked term by term."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from pyld import jsonld

from agreements import asset_services, services
from agreements.models import Agreement, Clause, Dataset
from agreements.odrl import export as odrl_export
from agreements.terms import terms_for_dataset
from consortia.models import Jurisdiction
from tests.agreements.conftest import Deal, make_deal
from tests.conftest import World

ODRL = "http://www.w3.org/ns/odrl/2/"
ALLIANCE = "https://w3id.org/alliance/odrl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
ODRL_DIR = Path(__file__).resolve().parents[2] / "agreements" / "odrl"


def data_deal(world: World) -> tuple[Deal, Dataset, Clause]:
    deal = make_deal(world)
    agreement = services.agreement_create(
        actor=deal.legal_chair_org,
        consortium=world.consortium_a,
        kind="data_sharing",
        title="Hospital data for training",
        governing_law=Jurisdiction.objects.get(pk="DE"),
        effective_on=datetime.date(2026, 1, 1),
        expires_on=datetime.date(2028, 1, 1),
    )
    services.party_add(
        actor=deal.legal_chair_org,
        agreement=agreement,
        organisation=world.org_chair,
        role="data_provider",
        signatory=world.chair,
    )
    services.party_add(
        actor=deal.legal_chair_org,
        agreement=agreement,
        organisation=world.org_member,
        role="data_recipient",
        signatory=world.member,
    )
    dataset = asset_services.dataset_create(
        actor=deal.legal_chair_org,
        consortium=world.consortium_a,
        owner=world.org_chair,
        name="Radiology images 2020-2025",
        sensitivity="special_category",
        contains_personal_data=True,
        residency=Jurisdiction.objects.get(pk="FR"),
    )
    version = agreement.versions.get()
    clause = services.clause_add(
        actor=deal.legal_chair_org,
        version=version,
        heading="Use of the images",
        body="See the terms.",
        kind="data_usage",
    )
    services.clause_add(
        actor=deal.legal_chair_org,
        version=version,
        heading="Sub-terms",
        body="More.",
        kind="general",
        level=1,
    )
    asset_services.clause_set_terms(
        actor=deal.legal_chair_org,
        clause=clause,
        terms={
            "datasets": [dataset.pk],
            "purposes": ["research_and_development"],
            "actions_allowed": ["train", "evaluate"],
            "actions_prohibited": ["copy_raw"],
            "jurisdictions": ["EU"],
            "movement": "federated_only",
            "retention_days": 180,
            "onward_transfer": "prohibited",
            "derived_models_inherit": True,
        },
    )
    deal.agreement, deal.version = agreement, version
    return deal, dataset, Clause.objects.get(pk=clause.pk)


def execute_data_deal(deal: Deal) -> None:
    services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    services.approval_give(actor=deal.legal_chair_org, version=deal.version)
    services.approval_give(actor=deal.legal_member_org, version=deal.version)
    services.agreement_send_for_signature(actor=deal.world.chair, agreement=deal.agreement)
    services.agreement_record_execution(
        actor=deal.world.chair,
        agreement=deal.agreement,
        executed_at=datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC),
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"purposes": ["world_domination"]}, "purposes"),
        ({"jurisdictions": ["ZZ"]}, "jurisdictions"),
        ({"actions_allowed": ["train", "sell"]}, "actions_allowed"),
        ({"actions_prohibited": ["train"]}, "actions_prohibited"),
        ({"movement": "anywhere"}, "movement"),
        ({"retention_days": 0}, "retention_days"),
        ({"onward_transfer": "named_parties"}, "onward_parties"),
        ({"datasets": [999_999]}, "datasets"),
    ],
)
def test_bad_terms_are_refused_field_by_field(
    world: World, change: dict[str, Any], field: str
) -> None:
    deal, _dataset, clause = data_deal(world)
    terms = {**(clause.terms or {}), **change}
    with pytest.raises(ValidationError) as caught:
        asset_services.clause_set_terms(actor=deal.legal_chair_org, clause=clause, terms=terms)
    assert field in caught.value.message_dict
    clause.refresh_from_db()
    assert (clause.terms or {})["purposes"] == ["research_and_development"], "nothing written"


def test_terms_on_another_consortiums_dataset_are_refused(world: World) -> None:
    deal, _, clause = data_deal(world)
    foreign = Dataset.objects.create(
        consortium=world.consortium_b,
        owner=world.org_outsider,
        name="Elsewhere",
        sensitivity="internal",
        residency_id="SA",
    )
    with pytest.raises(ValidationError, match="Not datasets of this consortium"):
        asset_services.clause_set_terms(
            actor=deal.legal_chair_org,
            clause=clause,
            terms={**(clause.terms or {}), "datasets": [foreign.pk]},
        )


def test_terms_are_in_force_only_once_executed(world: World) -> None:
    deal, dataset, clause = data_deal(world)
    assert terms_for_dataset(dataset) == []
    execute_data_deal(deal)
    assert [found.pk for found in terms_for_dataset(dataset)] == [clause.pk]
    Agreement.objects.filter(pk=deal.agreement.pk).update(status="terminated")
    assert terms_for_dataset(dataset) == []


def test_terms_are_part_of_the_hashed_content(world: World) -> None:
    deal, _, clause = data_deal(world)
    services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    first_hash = deal.version.content_hash
    second = services.version_new(actor=deal.legal_chair_org, agreement=deal.agreement)
    copied = second.clauses.get(key=clause.key)
    assert copied.terms == clause.terms
    asset_services.clause_set_terms(
        actor=deal.legal_chair_org,
        clause=copied,
        terms={**(clause.terms or {}), "retention_days": 90},
    )
    services.version_submit(actor=deal.legal_chair_org, version=second)
    second.refresh_from_db()
    assert second.content_hash != first_hash


def test_odrl_needs_an_executed_version(world: World, api_as: Any) -> None:
    deal, _, _ = data_deal(world)
    response = api_as(deal.world.observer).get(
        f"/api/v1/agreement-versions/{deal.version.pk}/odrl/"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "version_not_executed"


def _loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    assert url == odrl_export.ODRL_CONTEXT_URL, f"JSON-LD processing tried to fetch {url}"
    return {"contextUrl": None, "documentUrl": url, "document": odrl_export.context_document()}


def _declared(path: Path, prefix: str, namespace: str) -> set[str]:
    """Terms a Turtle file defines at the start of a line (``:term`` or ``prefix:term``)."""
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        for marker in (":", f"{prefix}:"):
            if line.startswith(marker) and len(line) > len(marker) and line[len(marker)].isalpha():
                names.add(namespace + line[len(marker) :].split()[0].rstrip(";."))
    return names


def test_odrl_export_term_by_term(world: World, api_as: Any, settings: Any) -> None:
    settings.PUBLIC_BASE_URL = "https://alliance.example.eu"
    deal, dataset, _clause = data_deal(world)
    execute_data_deal(deal)
    response = api_as(deal.world.observer).get(
        f"/api/v1/agreement-versions/{deal.version.pk}/odrl/"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    document = json.loads(response.content)
    base = f"https://alliance.example.eu/agreements/{deal.agreement.pk}/versions/1"
    assert document["uid"] == base
    assert document["conflict"] == "prohibit"
    assert document["profile"] == odrl_export.PROFILE
    assert document["assigner"] == [
        f"https://alliance.example.eu/organisations/{world.org_chair.pk}/"
    ]
    assert document["assignee"] == [
        f"https://alliance.example.eu/organisations/{world.org_member.pk}/"
    ]

    evaluate, train = document["permission"]  # actions in alphabetical order
    assert (train["@id"], train["action"], evaluate["action"]) == (
        f"{base}#clause-1/train",
        "alliance:train",
        "alliance:evaluate",
    )
    assert train["target"] == [f"https://alliance.example.eu/datasets/{dataset.pk}/"]
    constraints = {item["leftOperand"]: item for item in train["constraint"]}
    eu_on_execution = {
        f"loc:{code}"
        for code in Jurisdiction.objects.members_of("EU", on=datetime.date(2026, 3, 1)).values_list(
            "code", flat=True
        )
    }
    assert {item["@id"] for item in constraints["spatial"]["rightOperand"]} == eu_on_execution
    assert "loc:GB" not in eu_on_execution
    assert len(eu_on_execution) == 27
    assert constraints["purpose"]["rightOperand"] == [{"@id": "dpv:ResearchAndDevelopment"}]
    assert constraints["alliance:movement"]["rightOperand"] == {"@id": "alliance:ModelToData"}
    assert constraints["dateTime"]["rightOperand"]["@value"] in {
        "2026-01-01T00:00:00Z",
        "2028-01-01T00:00:00Z",
    }
    assert train["duty"] == [
        {
            "action": "delete",
            "constraint": [
                {
                    "leftOperand": "elapsedTime",
                    "operator": "lteq",
                    "rightOperand": {"@value": "P180D", "@type": "xsd:duration"},
                }
            ],
        }
    ]
    prohibited = {rule["action"] for rule in document["prohibition"]}
    assert prohibited == {"alliance:copyRawData", "distribute"}

    # Expanded as JSON-LD (offline), every property, type and action is ODRL 2.2 or declared
    # by Alliance's profile.
    expanded = jsonld.expand(document, {"documentLoader": _loader})
    datatypes = {XSD + "dateTime", XSD + "duration"}
    allowed = (
        _declared(ODRL_DIR / "ODRL22.ttl", "odrl", ODRL)
        | _declared(ODRL_DIR / "profile.ttl", "", ALLIANCE)
        | datatypes
    )
    used: set[str] = set()

    def walk(node: Any, key: str | None = None) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, key)
        elif isinstance(node, dict):
            for name, value in node.items():
                if name == "@type":
                    used.update([value] if isinstance(value, str) else value)
                elif name == "@id":
                    if key in {
                        ODRL + "action",
                        ODRL + "leftOperand",
                        ODRL + "operator",
                        ODRL + "conflict",
                    }:
                        used.add(value)
                elif not name.startswith("@"):
                    used.add(name)
                    walk(value, name)
                else:
                    walk(value, key)

    walk(expanded)
    assert used - allowed == set(), "terms outside ODRL 2.2 and the Alliance profile"
    assert ALLIANCE + "train" in used
    assert ODRL + "spatial" in used
    assert ODRL + "delete" in used


def test_odrl_profile_is_served(client: Any) -> None:
    response = client.get("/odrl/profile.ttl")
    assert response.status_code == 200
    assert b":ModelToData" in response.content
