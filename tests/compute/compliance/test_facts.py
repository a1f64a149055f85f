"""Gathering facts from real rows, and evaluate() end to end for the codes that depend on
the database: residency, approval, agreement state, derived models, transfer bases and
dated bloc membership."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements.models import IPAsset
from compute.compliance.facts import rules_digest
from compute.compliance.reasons import Outcome
from compute.compliance.services import evaluate
from compute.compliance.sources import gather
from compute.models import Approval, Certification, Exposure, Provider, Site
from consortia.models import Jurisdiction
from tests.agreements.test_terms_and_odrl import data_deal
from tests.compute.compliance.conftest import Compliance, spec_for
from tests.compute.conftest import Grid, at
from tests.conftest import requires_postgres


def _site(c: Compliance, name: str, code: str, *, approve: bool = True) -> Site:
    provider = Provider.objects.create(
        legal_name=f"{name} operator",
        head_office_jurisdiction_id=code,
        ultimate_parent_jurisdiction_id=code,
        registered_by=c.grid.world.chair,
    )
    site = Site.objects.create(provider=provider, name=name, jurisdiction_id=code)
    site.administered_from.set(Jurisdiction.objects.filter(pk=code))
    if approve:
        Approval.objects.create(
            consortium=c.grid.world.consortium_a,
            provider=provider,
            valid_from=datetime.date(2025, 1, 1),
            approved_by=c.grid.world.chair,
        )
    return site


def test_the_fixture_job_is_allowed_with_the_retention_obligation(compliance: Compliance) -> None:
    decision = evaluate(spec_for(compliance), at("2026-06-01"))
    assert decision.outcome == Outcome.ALLOW_WITH_OBLIGATIONS, decision.reasons
    assert [o.code for o in decision.obligations] == ["RETENTION_LIMIT"]
    assert decision.obligations[0].source is not None
    assert decision.obligations[0].source.link == (
        f"/agreement-versions/{compliance.deal.version.pk}/"
    )


def test_facts_carry_clauses_sites_and_the_days_blocs(compliance: Compliance) -> None:
    facts = gather(spec_for(compliance, site_ids=(compliance.grid.frankfurt.pk,)), at("2026-06-01"))
    assert [clause.id for clause in facts.clauses] == [compliance.clause.pk]
    assert facts.clauses[0].number == "1"
    (frankfurt, paris) = sorted(facts.sites, key=lambda site: site.name)
    assert frankfurt.administered_from == ("DE", "FR")
    assert frankfurt.approved
    assert paris.approved
    assert "EU" in facts.covering["DE"]
    assert len(rules_digest(facts)) == 64


def test_gathering_costs_the_same_for_one_site_or_many(compliance: Compliance) -> None:
    """No query per row: more sites, certificates and exposures cost no more queries."""
    grid = compliance.grid
    spec_one = spec_for(compliance, site_ids=(grid.paris.pk,))
    with CaptureQueriesContext(connection) as one:
        gather(spec_one, at("2026-06-01"))
    for site in (grid.paris, grid.frankfurt):
        Certification.objects.create(
            provider=grid.provider,
            site=site,
            scheme="iso_27001",
            valid_from=datetime.date(2025, 1, 1),
            valid_until=datetime.date(2028, 1, 1),
            evidence="ISO-1",
        )
    Exposure.objects.create(
        provider=grid.provider, law="other", basis="contract", assessed_on=datetime.date(2025, 1, 1)
    )
    spec_many = spec_for(
        compliance,
        site_ids=(grid.paris.pk, grid.frankfurt.pk),
        dataset_ids=(compliance.dataset.pk, compliance.benchmark.pk),
    )
    with CaptureQueriesContext(connection) as many:
        facts = gather(spec_many, at("2026-06-01"))
    assert len(many) == len(one), [q["sql"] for q in many]
    assert all(len(site.certificates) == 1 for site in facts.sites)


def test_data_residency_violation_when_no_site_holds_the_data(compliance: Compliance) -> None:
    spec = spec_for(
        compliance,
        movement="model_to_data",
        site_ids=(compliance.grid.frankfurt.pk,),
        aggregation_site_id=None,
    )
    decision = evaluate(spec, at("2026-06-01"))
    assert "DATA_RESIDENCY_VIOLATION" in decision.codes
    (reason,) = [r for r in decision.reasons if r.code == "DATA_RESIDENCY_VIOLATION"]
    assert reason.subject.id == compliance.dataset.pk
    assert "DATA_RESIDENCY_VIOLATION" not in evaluate(spec_for(compliance), at("2026-06-01")).codes


def test_a_site_in_germany_is_within_an_eu_residency(compliance: Compliance) -> None:
    spec = spec_for(
        compliance,
        dataset_ids=(compliance.benchmark.pk,),
        movement="model_to_data",
        site_ids=(compliance.grid.frankfurt.pk,),
        aggregation_site_id=None,
    )
    decision = evaluate(spec, at("2026-06-01"))
    assert decision.outcome == Outcome.ALLOW, decision.reasons


def test_bloc_membership_is_dated(compliance: Compliance) -> None:
    london = _site(compliance, "London-1", "GB")
    spec = spec_for(compliance, dataset_ids=(compliance.benchmark.pk,), site_ids=(london.pk,))
    assert "EU" in gather(spec, at("2019-06-01")).covering["GB"]
    assert "EU" not in gather(spec, at("2026-06-01")).covering["GB"]
    model_to_data = spec_for(
        compliance,
        dataset_ids=(compliance.benchmark.pk,),
        site_ids=(london.pk,),
        movement="model_to_data",
        aggregation_site_id=None,
    )
    assert "DATA_RESIDENCY_VIOLATION" in evaluate(model_to_data, at("2026-06-01")).codes


def test_site_not_approved(compliance: Compliance) -> None:
    lyon = _site(compliance, "Lyon-1", "FR", approve=False)
    decision = evaluate(
        spec_for(compliance, site_ids=(lyon.pk,), aggregation_site_id=lyon.pk), at("2026-06-01")
    )
    assert "SITE_NOT_APPROVED" in decision.codes
    assert {r.subject.id for r in decision.reasons if r.code == "SITE_NOT_APPROVED"} == {lyon.pk}


def test_approval_is_read_on_the_jobs_day(compliance: Compliance) -> None:
    Approval.objects.filter(provider=compliance.grid.provider).update(
        valid_until=datetime.date(2026, 5, 1)
    )
    assert "SITE_NOT_APPROVED" in evaluate(spec_for(compliance), at("2026-06-01")).codes
    assert (
        "SITE_NOT_APPROVED"
        not in evaluate(
            spec_for(compliance, starts_at=at("2026-04-01"), ends_at=at("2026-04-10")),
            at("2026-04-01"),
        ).codes
    )


def test_agreement_not_executed(grid: Grid) -> None:
    _deal, dataset, _clause = data_deal(grid.world)
    from compute.compliance.facts import JobSpec

    spec = JobSpec(
        consortium_id=grid.world.consortium_a.pk,
        organisation_id=grid.world.org_member.pk,
        dataset_ids=(dataset.pk,),
        site_ids=(grid.paris.pk,),
        purpose="research_and_development",
        action="train",
        movement="model_to_data",
        starts_at=at("2026-06-01"),
        ends_at=at("2026-06-10"),
        output_jurisdiction="FR",
    )
    decision = evaluate(spec, at("2026-06-01"))
    assert decision.codes == {"AGREEMENT_NOT_EXECUTED"}


def test_agreement_expired_within_the_window(compliance: Compliance) -> None:
    spec = spec_for(compliance, starts_at=at("2027-12-20"), ends_at=at("2028-01-05"))
    assert "AGREEMENT_EXPIRED" in evaluate(spec, at("2027-12-20")).codes
    assert "AGREEMENT_EXPIRED" not in evaluate(spec_for(compliance), at("2026-06-01")).codes


def test_derived_model_carries_its_training_datas_terms(compliance: Compliance) -> None:
    consortium = compliance.grid.world.consortium_a
    images = IPAsset.objects.create(
        consortium=consortium, name="Images", kind="dataset", dataset=compliance.dataset
    )
    base = IPAsset.objects.create(consortium=consortium, name="Base", kind="model_weights")
    base.derived_from.set([images])
    tuned = IPAsset.objects.create(consortium=consortium, name="Tuned", kind="model_weights")
    tuned.derived_from.set([base])

    def job(action: str) -> Any:
        return spec_for(
            compliance,
            dataset_ids=(compliance.benchmark.pk,),
            model_id=tuned.pk,
            action=action,
            movement="model_to_data",
            aggregation_site_id=None,
        )

    restricted = evaluate(job("copy_raw"), at("2026-06-01"))
    assert "DERIVED_MODEL_RESTRICTED" in restricted.codes
    (reason,) = [r for r in restricted.reasons if r.code == "DERIVED_MODEL_RESTRICTED"]
    assert (reason.subject.type, reason.subject.id) == ("model", tuned.pk)
    assert reason.source is not None
    assert reason.source.clause_id == compliance.clause.pk
    # The images are special-category data, and the model carries them: evaluation is fine.
    assert "DERIVED_MODEL_RESTRICTED" not in evaluate(job("evaluate"), at("2026-06-01")).codes


@pytest.mark.parametrize(("code", "basis_missing"), [("JP", False), ("IN", True)])
def test_transfer_basis_for_data_leaving_the_eu(
    compliance: Compliance, code: str, basis_missing: bool
) -> None:
    site = _site(compliance, f"{code}-1", code)
    spec = spec_for(
        compliance,
        dataset_ids=(compliance.benchmark.pk,),
        site_ids=(site.pk,),
        movement="data_to_compute",
        aggregation_site_id=None,
        output_jurisdiction="DE",
    )
    decision = evaluate(spec, at("2026-06-01"))
    assert ("TRANSFER_BASIS_MISSING" in decision.codes) is basis_missing, decision.reasons
    assert "DATA_RESIDENCY_VIOLATION" not in decision.codes


def test_facts_hold_only_the_transfer_bases_between_places_the_job_touches(
    compliance: Compliance,
) -> None:
    def bases(*site_ids: int) -> set[tuple[str, str]]:
        spec = spec_for(compliance, site_ids=site_ids, aggregation_site_id=None)
        facts = gather(spec, at("2026-06-01"))
        return {(basis.from_jurisdiction, basis.to_jurisdiction) for basis in facts.transfer_bases}

    at_home = bases(compliance.grid.paris.pk)
    assert ("EU", "EU") in at_home
    assert not any(target in {"JP", "CH", "GB", "US"} for _, target in at_home)
    assert ("EU", "JP") in bases(compliance.grid.paris.pk, _site(compliance, "JP-1", "JP").pk)


def test_jurisdictions_exist(db: Any) -> None:
    assert Jurisdiction.objects.filter(pk__in=["JP", "IN", "GB"]).count() == 3


@requires_postgres
def test_the_clauses_naming_a_data_set_are_found_by_index(compliance: Compliance) -> None:
    """Migration agreements 0007 indexes ``terms -> 'datasets'``: the containment lookup the
    fact source uses must be one the index answers (checked with sequential scans off, as the
    planner rightly scans a table this small)."""
    from agreements.models import Clause

    # No ordering: the model's default one joins the versions and agreements, whose plan
    # then depends on the statistics earlier tests left, not on this index.
    lookup = (
        Clause.objects.filter(terms__datasets__contains=[compliance.dataset.pk])
        .order_by()
        .values("pk")
    )
    sql, params = lookup.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "clause_terms_datasets" in plan, plan
    assert [row["pk"] for row in lookup] == [compliance.clause.pk]


def test_a_rule_book_gives_the_same_facts_as_reading_afresh(compliance: Compliance) -> None:
    """What a decision served from the cache weighs is what it would read from the tables:
    approvals narrowed to one site, revoked or not yet valid, certificates, exposures,
    unknown sites, on several days."""
    from django.utils import timezone

    from compute.compliance.sources import FactSource

    c, grid = compliance, compliance.grid
    consortium = grid.world.consortium_a
    Approval.objects.create(
        consortium=consortium,
        site=grid.frankfurt,
        valid_from=datetime.date(2026, 7, 1),
        valid_until=datetime.date(2027, 7, 1),
        approved_by=grid.world.chair,
    )
    Approval.objects.create(
        consortium=consortium,
        site=grid.paris,
        valid_from=datetime.date(2026, 1, 1),
        revoked_at=timezone.now(),
        approved_by=grid.world.chair,
    )
    elsewhere = _site(c, "Osaka-1", "JP", approve=False)
    Certification.objects.create(
        provider=grid.provider,
        site=grid.paris,
        scheme="iso_27001",
        valid_from=datetime.date(2025, 1, 1),
        valid_until=datetime.date(2026, 9, 1),
        evidence="ISO-1",
    )
    Exposure.objects.create(
        provider=grid.provider, law="other", basis="contract", assessed_on=datetime.date(2026, 8, 1)
    )
    book = FactSource(consortium.pk).rule_book()
    specs = [
        spec_for(c),
        spec_for(c, site_ids=(grid.paris.pk, grid.frankfurt.pk), movement="data_to_compute"),
        spec_for(c, dataset_ids=(c.dataset.pk, c.benchmark.pk), site_ids=(elsewhere.pk,)),
        spec_for(c, site_ids=(999_999,), output_jurisdiction="JP", aggregation_site_id=None),
    ]
    for day in ("2026-06-01", "2026-07-15", "2026-08-15", "2027-08-01"):
        for spec in specs:
            cached = FactSource(consortium.pk, rules=book).facts(spec, at(day))
            assert cached == FactSource(consortium.pk).facts(spec, at(day)), (day, spec)
            assert rules_digest(cached) == rules_digest(gather(spec, at(day)))


def test_the_input_snapshot_is_what_a_json_round_trip_of_the_facts_gives(
    compliance: Compliance,
) -> None:
    """as_json builds the snapshot directly (for speed); it must equal the plain round trip
    through json of dataclasses.asdict, which is what it replaces."""
    import json
    from dataclasses import asdict

    from compute.compliance.facts import _canonical, as_json

    facts = gather(
        spec_for(compliance, site_ids=(compliance.grid.frankfurt.pk, compliance.grid.paris.pk)),
        at("2026-06-01"),
    )
    assert facts.clauses
    assert facts.sites
    assert facts.covering
    expected = json.loads(_canonical(asdict(facts)))
    assert as_json(facts) == expected
    assert json.dumps(as_json(facts), sort_keys=True) == json.dumps(expected, sort_keys=True)
