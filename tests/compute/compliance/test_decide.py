"""The decision, rule by rule, on hand-built facts: for every reason code a job that raises
it and a near miss that does not. Pure: no database."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from compute.compliance.decide import decide
from compute.compliance.facts import CertificateFacts, ExposureFacts, Facts, ModelFacts
from compute.compliance.reasons import Code, ObligationCode, Outcome
from tests.compute.compliance.conftest import (
    COVERING,
    base_facts,
    basis,
    clause,
    dataset,
    site,
    terms,
    with_job,
)

D = datetime.date
Case = Callable[[], Facts]
SINCE = D(2024, 1, 1)


def _cert(pk: int, until: datetime.date, *, since: datetime.date = SINCE) -> CertificateFacts:
    return CertificateFacts(pk, "secnumcloud", None, since, until)


def _exposure() -> ExposureFacts:
    return ExposureFacts(1, "us_cloud_act", "parent", D(2025, 1, 1))


def _moving(*, target: str = "JP", **terms_changes: Any) -> Facts:
    """Data goes from FR to a site in ``target``, which the terms' jurisdictions allow."""
    return with_job(
        base_facts(
            sites=(site(jurisdiction=target, administered_from=(target,)),),
            clauses=(
                clause(terms=terms(jurisdictions=frozenset({"EU", target}), **terms_changes)),
            ),
        ),
        movement="data_to_compute",
        output_jurisdiction="FR",
    )


def _derived(**inherited_terms: Any) -> Facts:
    """The job uses dataset 1 and a model trained (via a parent) on dataset 2."""
    return with_job(
        base_facts(
            datasets=(dataset(1), dataset(2)),
            clauses=(clause(10), clause(11, terms=terms(datasets=(2,), **inherited_terms))),
            model=ModelFacts(50, "Clinical LM", 1, (49,), (2,)),
        ),
        model_id=50,
    )


def _federated(**job: Any) -> Facts:
    values: dict[str, Any] = {
        "movement": "federated",
        "aggregation_site_id": 100,
        "secure_aggregation": True,
        "dp_epsilon": 2.0,
    }
    values.update(job)
    return with_job(base_facts(datasets=(dataset(contains_personal_data=True),)), **values)


CASES: list[tuple[str, Code, Case, bool]] = [
    # Data location: the model goes to the data, so some site must be where the data is.
    (
        "residency: site outside",
        Code.DATA_RESIDENCY_VIOLATION,
        lambda: base_facts(sites=(site(jurisdiction="DE", administered_from=("DE",)),)),
        True,
    ),
    (
        "residency: bloc residency, site in a member",
        Code.DATA_RESIDENCY_VIOLATION,
        lambda: base_facts(
            datasets=(dataset(residency="EU"),),
            sites=(site(jurisdiction="DE", administered_from=("DE",)),),
        ),
        False,
    ),
    (
        "residency: data may only stay",
        Code.DATA_RESIDENCY_VIOLATION,
        lambda: _moving(movement="within_residency"),
        True,
    ),
    (
        "residency: data may go to approved sites",
        Code.DATA_RESIDENCY_VIOLATION,
        lambda: replace(_moving(), transfer_bases=(basis(),)),
        False,
    ),
    # Compute location.
    (
        "site jurisdiction outside the terms",
        Code.SITE_JURISDICTION_NOT_ALLOWED,
        lambda: base_facts(clauses=(clause(terms=terms(jurisdictions=frozenset({"DE"}))),)),
        True,
    ),
    (
        "site jurisdiction inside the bloc of the terms",
        Code.SITE_JURISDICTION_NOT_ALLOWED,
        base_facts,
        False,
    ),
    # Administration location.
    (
        "administered from outside",
        Code.ADMIN_ACCESS_OUTSIDE_ALLOWED,
        lambda: base_facts(sites=(site(administered_from=("FR", "US")),)),
        True,
    ),
    (
        "administered from inside",
        Code.ADMIN_ACCESS_OUTSIDE_ALLOWED,
        lambda: base_facts(sites=(site(administered_from=("FR", "DE")),)),
        False,
    ),
    # Provider exposure: sensitive data denies, other data obliges.
    (
        "exposure with personal data",
        Code.PROVIDER_EXTRATERRITORIAL_EXPOSURE,
        lambda: base_facts(
            datasets=(dataset(contains_personal_data=True),),
            sites=(site(exposures=(_exposure(),)),),
        ),
        True,
    ),
    (
        "exposure with internal data",
        Code.PROVIDER_EXTRATERRITORIAL_EXPOSURE,
        lambda: base_facts(sites=(site(exposures=(_exposure(),)),)),
        False,
    ),
    # Certification.
    (
        "certificate lapsed, none in force",
        Code.CERTIFICATION_EXPIRED,
        lambda: base_facts(sites=(site(certificates=(_cert(1, D(2026, 3, 1)),)),)),
        True,
    ),
    (
        "lapsed certificate renewed",
        Code.CERTIFICATION_EXPIRED,
        lambda: base_facts(
            sites=(
                site(
                    certificates=(
                        _cert(1, D(2026, 3, 1)),
                        _cert(2, D(2029, 3, 1), since=D(2026, 3, 1)),
                    )
                ),
            )
        ),
        False,
    ),
    ("no certificate at all", Code.CERTIFICATION_EXPIRED, base_facts, False),
    # Approval.
    (
        "site not approved",
        Code.SITE_NOT_APPROVED,
        lambda: base_facts(sites=(site(approved=False),)),
        True,
    ),
    ("site approved", Code.SITE_NOT_APPROVED, base_facts, False),
    # Agreement state.
    (
        "only covering clause in a draft version",
        Code.AGREEMENT_NOT_EXECUTED,
        lambda: base_facts(
            clauses=(clause(version_status="approved", agreement_status="approved"),)
        ),
        True,
    ),
    (
        "a draft amendment beside the executed version",
        Code.AGREEMENT_NOT_EXECUTED,
        lambda: base_facts(clauses=(clause(), clause(11, version_status="draft", version_id=21))),
        False,
    ),
    (
        "agreement expires within the window",
        Code.AGREEMENT_EXPIRED,
        lambda: base_facts(clauses=(clause(expires_on=D(2026, 6, 5)),)),
        True,
    ),
    (
        "agreement expires after the window",
        Code.AGREEMENT_EXPIRED,
        lambda: base_facts(clauses=(clause(expires_on=D(2026, 6, 11)),)),
        False,
    ),
    # Purpose and action.
    (
        "purpose not listed",
        Code.PURPOSE_NOT_PERMITTED,
        lambda: with_job(base_facts(), purpose="commercial_research"),
        True,
    ),
    (
        "purpose listed by a second clause",
        Code.PURPOSE_NOT_PERMITTED,
        lambda: with_job(
            base_facts(
                clauses=(
                    clause(),
                    clause(11, terms=terms(purposes=frozenset({"commercial_research"}))),
                )
            ),
            purpose="commercial_research",
        ),
        False,
    ),
    (
        "action prohibited",
        Code.ACTION_NOT_PERMITTED,
        lambda: with_job(base_facts(), action="copy_raw"),
        True,
    ),
    (
        "prohibition beats another clause's permission",
        Code.ACTION_NOT_PERMITTED,
        lambda: with_job(
            base_facts(
                clauses=(
                    clause(),
                    clause(
                        11,
                        terms=terms(
                            actions_allowed=frozenset({"copy_raw"}), actions_prohibited=frozenset()
                        ),
                    ),
                )
            ),
            action="copy_raw",
        ),
        True,
    ),
    (
        "action not listed",
        Code.ACTION_NOT_PERMITTED,
        lambda: with_job(base_facts(), action="infer"),
        True,
    ),
    (
        "action allowed",
        Code.ACTION_NOT_PERMITTED,
        lambda: with_job(base_facts(), action="evaluate"),
        False,
    ),
    # Movement.
    (
        "data moves under federated-only terms",
        Code.MOVEMENT_NOT_PERMITTED,
        lambda: with_job(
            base_facts(clauses=(clause(terms=terms(movement="federated_only")),)),
            movement="data_to_compute",
        ),
        True,
    ),
    (
        "model moves under federated-only terms",
        Code.MOVEMENT_NOT_PERMITTED,
        lambda: base_facts(clauses=(clause(terms=terms(movement="federated_only")),)),
        False,
    ),
    # Transfer basis.
    ("FR data to Japan without a basis", Code.TRANSFER_BASIS_MISSING, _moving, True),
    (
        "FR data to Japan under the EU adequacy decision",
        Code.TRANSFER_BASIS_MISSING,
        lambda: replace(_moving(), transfer_bases=(basis(),)),
        False,
    ),
    (
        "FR data to Germany, intra-EU",
        Code.TRANSFER_BASIS_MISSING,
        lambda: replace(_moving(target="DE"), transfer_bases=(basis(301, "EU", "EU"),)),
        False,
    ),
    # Onward transfer.
    (
        "outputs to the US, onward prohibited",
        Code.ONWARD_TRANSFER_PROHIBITED,
        lambda: with_job(base_facts(), output_jurisdiction="US"),
        True,
    ),
    (
        "outputs to the US, requester a named party",
        Code.ONWARD_TRANSFER_PROHIBITED,
        lambda: with_job(
            base_facts(
                clauses=(
                    clause(
                        terms=terms(onward_transfer="named_parties", onward_parties=frozenset({5}))
                    ),
                )
            ),
            output_jurisdiction="US",
        ),
        False,
    ),
    (
        "outputs stay in the EU",
        Code.ONWARD_TRANSFER_PROHIBITED,
        lambda: with_job(base_facts(), output_jurisdiction="DE"),
        False,
    ),
    # Derived models carry their training data's terms.
    (
        "model inherits a prohibition of the action",
        Code.DERIVED_MODEL_RESTRICTED,
        lambda: _derived(
            actions_prohibited=frozenset({"train"}), actions_allowed=frozenset({"infer"})
        ),
        True,
    ),
    (
        "model inherits narrower jurisdictions",
        Code.DERIVED_MODEL_RESTRICTED,
        lambda: _derived(jurisdictions=frozenset({"DE"})),
        True,
    ),
    ("model inherits terms the job meets", Code.DERIVED_MODEL_RESTRICTED, _derived, False),
    (
        "inherited terms that do not bind derived models",
        Code.DERIVED_MODEL_RESTRICTED,
        lambda: _derived(jurisdictions=frozenset({"DE"}), derived_models_inherit=False),
        False,
    ),
    # Federated safeguards.
    (
        "federated without secure aggregation",
        Code.FEDERATED_SAFEGUARD_MISSING,
        lambda: _federated(secure_aggregation=False),
        True,
    ),
    (
        "federated on personal data without a privacy budget",
        Code.FEDERATED_SAFEGUARD_MISSING,
        lambda: _federated(dp_epsilon=None),
        True,
    ),
    ("federated with both safeguards", Code.FEDERATED_SAFEGUARD_MISSING, _federated, False),
    # Fail closed.
    ("dataset with no terms at all", Code.MISSING_ATTRIBUTE, lambda: base_facts(clauses=()), True),
    (
        "site with no administration recorded",
        Code.MISSING_ATTRIBUTE,
        lambda: base_facts(sites=(site(administered_from=()),)),
        True,
    ),
    ("unknown site", Code.MISSING_ATTRIBUTE, lambda: base_facts(sites=()), True),
    (
        "no output destination",
        Code.MISSING_ATTRIBUTE,
        lambda: with_job(base_facts(), output_jurisdiction=None),
        True,
    ),
    (
        "federated with no aggregation site",
        Code.MISSING_ATTRIBUTE,
        lambda: _federated(aggregation_site_id=None),
        True,
    ),
    ("everything recorded", Code.MISSING_ATTRIBUTE, base_facts, False),
]


@pytest.mark.parametrize(
    ("code", "case", "raised"),
    [pytest.param(code, case, raised, id=name) for name, code, case, raised in CASES],
)
def test_reason_codes(code: Code, case: Case, raised: bool) -> None:
    decision = decide(case())
    assert (str(code) in decision.codes) is raised, decision.reasons
    if raised:
        assert decision.outcome == Outcome.DENY


@pytest.mark.parametrize(
    "case", [pytest.param(case, id=name) for name, _code, case, _raised in CASES]
)
def test_without_explain_a_decision_differs_only_in_its_empty_explain(case: Case) -> None:
    """What a sweep asks for (``explain=False``) is the same decision, bar the checks."""
    facts = case()
    explained = decide(facts)
    assert explained.explain
    assert decide(facts, explain=False) == replace(explained, explain=())


def test_every_code_is_in_the_table_both_ways() -> None:
    for code in Code:
        outcomes = {raised for _name, case_code, _case, raised in CASES if case_code == code}
        assert outcomes == {True, False}, code


def test_the_base_job_is_allowed_with_nothing_to_explain_away() -> None:
    decision = decide(base_facts())
    assert decision.outcome == Outcome.ALLOW
    assert decision.reasons == ()
    assert decision.explain, "every rule checked is listed"
    assert all(check.passed for check in decision.explain)


def test_every_reason_is_reported_not_only_the_first() -> None:
    facts = with_job(
        base_facts(sites=(site(jurisdiction="US", administered_from=("US",), approved=False),)),
        action="copy_raw",
        purpose="commercial_research",
        output_jurisdiction="US",
    )
    decision = decide(facts)
    assert {
        "DATA_RESIDENCY_VIOLATION",
        "SITE_JURISDICTION_NOT_ALLOWED",
        "ADMIN_ACCESS_OUTSIDE_ALLOWED",
        "SITE_NOT_APPROVED",
        "ACTION_NOT_PERMITTED",
        "PURPOSE_NOT_PERMITTED",
        "ONWARD_TRANSFER_PROHIBITED",
    } <= decision.codes
    failed = {check.code for check in decision.explain if not check.passed}
    assert failed == decision.codes


def test_a_reason_names_its_subject_expectation_and_clause() -> None:
    decision = decide(base_facts(sites=(site(administered_from=("FR", "US")),)))
    (reason,) = decision.reasons
    assert reason.subject.type == "site"
    assert reason.subject.id == 100
    assert (reason.expected, reason.actual) == ("administered within EU", "US")
    assert reason.source is not None
    assert reason.source.as_json() == {
        "agreement_id": 30,
        "agreement_title": "Data sharing",
        "version_id": 20,
        "version_number": 1,
        "clause_id": 10,
        "clause_number": "3",
        "link": "/agreement-versions/20/",
    }
    assert "US" in reason.message


def test_obligations_allow_with_obligations() -> None:
    facts = with_job(
        base_facts(
            clauses=(
                clause(
                    terms=terms(retention_days=90, onward_transfer="requires_steering_approval")
                ),
            ),
            sites=(site(exposures=(_exposure(),)),),
        ),
        output_jurisdiction="US",
    )
    decision = decide(facts)
    assert decision.outcome == Outcome.ALLOW_WITH_OBLIGATIONS
    assert {obligation.code for obligation in decision.obligations} == {
        ObligationCode.RETENTION_LIMIT,
        ObligationCode.ONWARD_TRANSFER_NEEDS_STEERING_APPROVAL,
        ObligationCode.PROVIDER_EXTRATERRITORIAL_EXPOSURE,
    }


def test_dated_bloc_membership_decides_within() -> None:
    """A British site is within the EU in 2019, not in 2021 (the facts carry the day's blocs)."""
    gb_dataset = dataset(residency="EU")
    gb_site = site(jurisdiction="GB", administered_from=("GB",))
    before = base_facts(
        datasets=(gb_dataset,),
        sites=(gb_site,),
        covering={**COVERING, "GB": frozenset({"GB", "EU"})},
    )
    after = base_facts(
        datasets=(gb_dataset,), sites=(gb_site,), covering={**COVERING, "GB": frozenset({"GB"})}
    )
    assert decide(before).outcome == Outcome.ALLOW
    assert "DATA_RESIDENCY_VIOLATION" in decide(after).codes


@pytest.mark.django_db
def test_decide_touches_no_database(django_assert_num_queries: Any) -> None:
    facts = _derived(jurisdictions=frozenset({"DE"}))
    with django_assert_num_queries(0):
        decision = decide(facts)
    assert decision.rules_digest


def test_a_providers_exposure_is_reported_once_for_all_its_sites() -> None:
    facts = with_job(
        base_facts(
            datasets=(dataset(contains_personal_data=True),),
            sites=(site(100, exposures=(_exposure(),)), site(101, exposures=(_exposure(),))),
        ),
        site_ids=(100, 101),
    )
    reasons = [r for r in decide(facts).reasons if r.code == "PROVIDER_EXTRATERRITORIAL_EXPOSURE"]
    assert [(r.subject.type, r.subject.id) for r in reasons] == [("provider", 200)]
