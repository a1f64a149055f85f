"""A data sharing agreement in force over the compute grid, and hand-built facts.

``compliance`` (real rows): consortium A's grid (Paris-1 in FR, Frankfurt-1 in DE run from DE
and FR, the provider approved), a special-category dataset resident in FR, and an executed
data sharing agreement (2026-01-01 to 2028-01-01) whose data-usage clause allows training and
evaluation for research and development within the EU, federated only, prohibits raw copies,
keeps data 180 days and prohibits onward transfer.

``benchmark`` is an internal dataset resident in the EU under a second, permissive clause of
the same agreement (EU, JP, IN, GB; data may go to approved sites; raw copies allowed).

``base_facts()`` (no database): the facts of a job the engine allows, for the table of
reason codes to break one fact at a time.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from typing import Any

import pytest

from agreements import asset_services, services
from agreements.models import Clause, Dataset
from compute.compliance.facts import (
    ClauseFacts,
    DatasetFacts,
    Facts,
    JobSpec,
    SiteFacts,
    Terms,
    TransferBasisFacts,
)
from compute.compliance.models import TransferBasis
from consortia.models import Jurisdiction
from tests.agreements.conftest import Deal
from tests.agreements.test_terms_and_odrl import data_deal, execute_data_deal
from tests.compute.conftest import Grid, at

UTC = datetime.UTC


@dataclass
class Compliance:
    grid: Grid
    deal: Deal
    dataset: Dataset
    clause: Clause
    benchmark: Dataset
    benchmark_clause: Clause


@pytest.fixture
def transfer_bases(db: Any) -> None:
    """The seeded transfer bases (a flush in a transactional test would have emptied them)."""
    if not TransferBasis.objects.exists():
        from tests.conftest import ensure_reference_data

        ensure_reference_data()


@pytest.fixture
def compliance(grid: Grid, transfer_bases: None) -> Compliance:
    deal, dataset, clause = data_deal(grid.world)
    benchmark = asset_services.dataset_create(
        actor=deal.legal_chair_org,
        consortium=grid.world.consortium_a,
        owner=grid.world.org_chair,
        name="Public benchmark",
        sensitivity="internal",
        residency=Jurisdiction.objects.get(pk="EU"),
    )
    benchmark_clause = services.clause_add(
        actor=deal.legal_chair_org,
        version=deal.version,
        heading="Use of the benchmark",
        body="See the terms.",
        kind="data_usage",
    )
    asset_services.clause_set_terms(
        actor=deal.legal_chair_org,
        clause=benchmark_clause,
        terms={
            "datasets": [benchmark.pk],
            "purposes": ["research_and_development", "commercial_research"],
            "actions_allowed": ["train", "evaluate", "infer", "copy_raw"],
            "actions_prohibited": [],
            "jurisdictions": ["EU", "JP", "IN", "GB"],
            "movement": "to_approved_sites",
            "retention_days": None,
            "onward_transfer": "prohibited",
            "derived_models_inherit": True,
        },
    )
    execute_data_deal(deal)
    return Compliance(
        grid,
        deal,
        dataset,
        Clause.objects.get(pk=clause.pk),
        benchmark,
        Clause.objects.get(pk=benchmark_clause.pk),
    )


def spec_for(c: Compliance, **changes: Any) -> JobSpec:
    """A federated training job on the FR dataset at Paris, aggregated at Paris, in June 2026."""
    values: dict[str, Any] = {
        "consortium_id": c.grid.world.consortium_a.pk,
        "organisation_id": c.grid.world.org_member.pk,
        "dataset_ids": (c.dataset.pk,),
        "site_ids": (c.grid.paris.pk,),
        "purpose": "research_and_development",
        "action": "train",
        "movement": "federated",
        "starts_at": at("2026-06-01"),
        "ends_at": at("2026-06-10"),
        "output_jurisdiction": "FR",
        "aggregation_site_id": c.grid.paris.pk,
        "secure_aggregation": True,
        "dp_epsilon": 1.0,
    }
    values.update(changes)
    return JobSpec(**values)


def job_fields(c: Compliance, **changes: Any) -> dict[str, Any]:
    """The same job as ``spec_for``, as the services take it (objects, not ids)."""
    values: dict[str, Any] = {
        "datasets": [c.dataset],
        "sites": [c.grid.paris],
        "purpose": "research_and_development",
        "action": "train",
        "movement": "federated",
        "output_jurisdiction": "FR",
        "starts_at": at("2026-06-01"),
        "ends_at": at("2026-06-10"),
        "aggregation_site": c.grid.paris,
        "secure_aggregation": True,
        "dp_epsilon": 1.0,
    }
    values.update(changes)
    return values


COVERING = {
    "FR": frozenset({"FR", "EU", "EEA"}),
    "DE": frozenset({"DE", "EU", "EEA"}),
    "JP": frozenset({"JP"}),
    "US": frozenset({"US"}),
    "EU": frozenset({"EU"}),
}


def terms(**changes: Any) -> Terms:
    values: dict[str, Any] = {
        "datasets": (1,),
        "purposes": frozenset({"research_and_development"}),
        "actions_allowed": frozenset({"train", "evaluate"}),
        "actions_prohibited": frozenset({"copy_raw"}),
        "jurisdictions": frozenset({"EU"}),
        "movement": "to_approved_sites",
        "retention_days": None,
        "onward_transfer": "prohibited",
        "onward_parties": frozenset(),
        "derived_models_inherit": True,
    }
    values.update(changes)
    return Terms(**values)


def clause(pk: int = 10, **changes: Any) -> ClauseFacts:
    values: dict[str, Any] = {
        "id": pk,
        "number": "3",
        "heading": "Use of the data",
        "terms": terms(),
        "terms_hash": "0" * 64,
        "version_id": 20,
        "version_number": 1,
        "version_status": "executed",
        "agreement_id": 30,
        "agreement_title": "Data sharing",
        "agreement_status": "executed",
        "effective_on": datetime.date(2026, 1, 1),
        "expires_on": datetime.date(2028, 1, 1),
    }
    values.update(changes)
    return ClauseFacts(**values)


def dataset(pk: int = 1, **changes: Any) -> DatasetFacts:
    values: dict[str, Any] = {
        "id": pk,
        "name": f"Dataset {pk}",
        "consortium_id": 1,
        "residency": "FR",
        "sensitivity": "internal",
        "contains_personal_data": False,
    }
    values.update(changes)
    return DatasetFacts(**values)


def site(pk: int = 100, **changes: Any) -> SiteFacts:
    values: dict[str, Any] = {
        "id": pk,
        "name": f"Site {pk}",
        "jurisdiction": "FR",
        "provider_id": 200,
        "provider_name": "Sovereign Compute SAS",
        "administered_from": ("FR",),
        "approved": True,
        "certificates": (),
        "exposures": (),
    }
    values.update(changes)
    return SiteFacts(**values)


def basis(pk: int = 300, origin: str = "EU", target: str = "JP") -> TransferBasisFacts:
    return TransferBasisFacts(
        pk, "adequacy_decision", origin, target, "2019/419", None, datetime.date(2019, 1, 23), None
    )


def base_facts(**changes: Any) -> Facts:
    """A model-to-data training job on one FR dataset at one approved FR site: allowed."""
    job = JobSpec(
        consortium_id=1,
        organisation_id=5,
        dataset_ids=(1,),
        site_ids=(100,),
        purpose="research_and_development",
        action="train",
        movement="model_to_data",
        starts_at=datetime.datetime(2026, 6, 1, tzinfo=UTC),
        ends_at=datetime.datetime(2026, 6, 10, tzinfo=UTC),
        output_jurisdiction="FR",
    )
    values: dict[str, Any] = {
        "at": datetime.datetime(2026, 6, 1, tzinfo=UTC),
        "on": datetime.date(2026, 6, 1),
        "job": job,
        "datasets": (dataset(),),
        "sites": (site(),),
        "clauses": (clause(),),
        "model": None,
        "transfer_bases": (),
        "approval_ids": (1,),
        "covering": COVERING,
    }
    values.update(changes)
    return Facts(**values)


def with_job(facts: Facts, **changes: Any) -> Facts:
    return replace(facts, job=replace(facts.job, **changes))
