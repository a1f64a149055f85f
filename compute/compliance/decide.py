"""The decision: one pure function from facts to allow, deny or allow with obligations.

No database here (a test pins it at zero queries). Every rule is checked and every broken one
reported, not only the first. The rules, in the order they are checked:

* Fail closed: a fact that is missing (a dataset with no terms in force, a site with no
  administration jurisdiction recorded, an unknown dataset or site, no output destination)
  is a deny with MISSING_ATTRIBUTE.
* Terms: a dataset's terms are those of every data-usage clause in force that covers it.
  A clause is in force while its version and its agreement are executed, the agreement has
  taken effect on the day, and it does not expire before the job's window ends.
  Purposes and actions: permitted if any covering clause permits them, denied if any covering
  clause prohibits them (a prohibition beats a permission). Every other term (jurisdictions,
  movement, onward transfer) binds on its own: each clause is checked, each breach reported.
* Three locations, checked separately: the data (dataset residency against the site), the
  compute (site jurisdiction against the terms' jurisdictions) and the administration (each
  administered-from jurisdiction against the terms' jurisdictions). "Within" uses the bloc
  memberships of the day (facts.covering).
* Residency: when data goes to the compute, every site must lie within the data's residency
  unless every covering clause allows movement to approved sites; leaving the residency also
  needs a transfer basis in force from the residency to the site (TRANSFER_BASIS_MISSING).
  When the model goes to the data (or the job is federated) the data stays put, so at least
  one site of the job must lie within the residency.
* A derived model carries the terms of every dataset its derivation chain was trained on
  (when those terms say derived models inherit them): purpose, action, compute location,
  administration and onward transfer are checked against them (DERIVED_MODEL_RESTRICTED).
* Provider exposure to a foreign law: a deny when any dataset of the job (inherited ones too)
  is personal or confidential or above; otherwise an obligation to record the exposure and
  keep the outputs free of it.
* Certification: a site (or its provider) that holds a certificate of a scheme that lapsed by
  the day and no certificate of that scheme in force is CERTIFICATION_EXPIRED; a site with no
  certificates at all is not.
* Allocations and placements: a granted allocation (the board's grant of GPUs at sites for
  named data sets) and a placement (a copy of a data set stored at a site) are swept like
  jobs, as data that is at the site, with no purpose, action or output destination of their
  own: terms in force, the three locations, residency with its transfer basis, approval,
  certification and exposure are checked; purpose, action, movement and onward transfer are
  not.
* Federated jobs need an aggregation site and secure aggregation; with personal data also a
  differential-privacy budget (FEDERATED_SAFEGUARD_MISSING).
* Obligations: retention limits of the terms, onward transfers that need the steering
  committee's approval, and exposures on non-sensitive data.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence

from compute.compliance.facts import (
    ClauseFacts,
    DatasetFacts,
    Facts,
    SiteFacts,
    TransferBasisFacts,
    rules_digest,
)
from compute.compliance.reasons import (
    Check,
    Code,
    Decision,
    Obligation,
    ObligationCode,
    Outcome,
    Reason,
    Source,
    Subject,
)

SENSITIVE = frozenset({"confidential", "restricted", "special_category"})
FEDERATED = "federated"
JOB = "job"
DATA_TO_COMPUTE = "data_to_compute"


def clause_state(clause: ClauseFacts, facts: Facts) -> str:
    """in_force, expired, not_executed or not_yet_effective, for the job's window."""
    if clause.agreement_status in ("expired", "terminated", "superseded"):
        return "expired"
    if clause.expires_on is not None:
        expiry = datetime.datetime.combine(
            clause.expires_on, datetime.time.min, tzinfo=datetime.UTC
        )
        if clause.expires_on <= facts.on or expiry < facts.job.ends_at:
            return "expired"
    if clause.version_status != "executed" or clause.agreement_status != "executed":
        return "not_executed"
    if clause.effective_on is not None and clause.effective_on > facts.on:
        return "not_yet_effective"
    return "in_force"


class _Judge:
    """Collects reasons, obligations and checks while the rules run."""

    def __init__(self, facts: Facts, *, explain: bool = True) -> None:
        self.facts = facts
        # A sweep reads only the reasons: the checks that passed are kept for explain mode.
        self.explain = explain
        self.reasons: list[Reason] = []
        self.obligations: list[Obligation] = []
        self.checks: list[Check] = []

    def within(self, code: str, area: str) -> bool:
        covering = self.facts.covering.get(code)
        return area == code if covering is None else area in covering

    def within_any(self, code: str, areas: frozenset[str]) -> bool:
        covering = self.facts.covering.get(code)
        return code in areas if covering is None else not covering.isdisjoint(areas)

    def check(
        self,
        rule: str,
        subject: Subject,
        passed: bool,
        code: Code,
        *,
        expected: str = "",
        actual: str = "",
        message: str = "",
        source: Source | None = None,
    ) -> bool:
        """Eager: its texts are written whether or not it passes. The checks that run for
        every data set or site of every job of a sweep test first and call ``fail``, so that
        texts are written only for a breach, since nearly every check of a sweep passes."""
        if passed:
            self.passed(rule, subject)
        else:
            self.fail(rule, subject, code, expected, actual, message, source)
        return passed

    def fail(
        self,
        rule: str,
        subject: Subject,
        code: Code,
        expected: str = "",
        actual: str = "",
        message: str = "",
        source: Source | None = None,
    ) -> None:
        if self.explain:
            self.checks.append(Check(rule, subject, False, str(code), message))
        self.reasons.append(Reason(code, subject, expected, actual, message, source))

    def passed(self, rule: str, subject: Subject) -> None:
        """A check that passed, for explain mode: what ``check`` records for it."""
        if self.explain:
            self.checks.append(Check(rule, subject, True))

    def oblige(
        self, code: ObligationCode, subject: Subject, message: str, source: Source | None = None
    ) -> None:
        self.obligations.append(Obligation(code, subject, message, source))


def _covering_clauses(facts: Facts, dataset_id: int) -> list[ClauseFacts]:
    return [clause for clause in facts.clauses if dataset_id in clause.terms.datasets]


def _terms_in_force(
    judge: _Judge, dataset: DatasetFacts, *, via_model: str = ""
) -> list[ClauseFacts]:
    """The clauses in force for a dataset; when there are none, says why (every why)."""
    facts = judge.facts
    subject = dataset.subject
    covering = _covering_clauses(facts, dataset.id)
    states = {clause.id: clause_state(clause, facts) for clause in covering}
    in_force = [clause for clause in covering if states[clause.id] == "in_force"]
    prefix = f"Model {via_model} was trained on {dataset.name}: " if via_model else ""
    if in_force or covering:
        judge.passed("terms_in_force", subject)
    else:
        judge.fail(
            "terms_in_force",
            subject,
            Code.MISSING_ATTRIBUTE,
            expected="data-usage terms in force",
            actual="no clause covers the dataset",
            message=f"{prefix}no data-usage terms cover {dataset.name}; without terms nothing "
            "may run.",
        )
    if in_force:
        return in_force
    for clause in covering:
        state = states[clause.id]
        if state == "expired":
            judge.fail(
                "agreement_not_expired",
                subject,
                Code.AGREEMENT_EXPIRED,
                expected=f"agreement in force until {facts.job.ends_at:%Y-%m-%d}",
                actual=f"{clause.agreement_status}, expires {clause.expires_on or 'never'}",
                message=f"{prefix}{clause.agreement_title} has expired or expires before the job ends.",
                source=clause.source,
            )
        else:
            judge.fail(
                "agreement_executed",
                subject,
                Code.AGREEMENT_NOT_EXECUTED,
                expected="executed version of an executed agreement, in effect",
                actual=f"version {clause.version_number} {clause.version_status}, agreement "
                f"{clause.agreement_status}, effective {clause.effective_on or 'not set'}",
                message=f"{prefix}the terms covering {dataset.name} (clause {clause.number} of "
                f"{clause.agreement_title} v{clause.version_number}) are not in force.",
                source=clause.source,
            )
    return []


def _output_jurisdiction(facts: Facts) -> str | None:
    if facts.job.output_jurisdiction:
        return facts.job.output_jurisdiction
    site = facts.site(facts.job.output_site_id)
    return site.jurisdiction if site else None


def _apply_terms(
    judge: _Judge,
    dataset: DatasetFacts,
    clauses: Sequence[ClauseFacts],
    compute_sites: Sequence[SiteFacts],
    *,
    model_subject: Subject | None = None,
) -> None:
    """Purpose, action, compute and administration location, onward transfer and retention.
    With ``model_subject`` the terms are inherited by a derived model."""
    job = judge.facts.job
    derived = model_subject is not None

    def code(direct: Code) -> Code:
        return Code.DERIVED_MODEL_RESTRICTED if derived else direct

    subject = model_subject or dataset.subject
    about = f"inherited from {dataset.name}: " if derived else f"{dataset.name}: "

    if job.scope == JOB:
        _purpose_and_action(judge, clauses, subject, about, code)
    _locations_and_onward(judge, clauses, compute_sites, subject, about, code, model_subject)
    if not derived:
        for clause in clauses:
            if clause.terms.retention_days is not None:
                judge.oblige(
                    ObligationCode.RETENTION_LIMIT,
                    subject,
                    f"{about}delete copies and outputs holding the data within "
                    f"{clause.terms.retention_days} days (clause {clause.number}).",
                    clause.source,
                )


def _purpose_and_action(
    judge: _Judge,
    clauses: Sequence[ClauseFacts],
    subject: Subject,
    about: str,
    code: Callable[[Code], Code],
) -> None:
    job = judge.facts.job
    _permitted(
        judge,
        "purpose",
        job.purpose,
        [clause.terms.purposes for clause in clauses],
        subject,
        about,
        code(Code.PURPOSE_NOT_PERMITTED),
        clauses[0],
    )

    prohibiting = [clause for clause in clauses if job.action in clause.terms.actions_prohibited]
    for clause in prohibiting:
        judge.fail(
            "action_not_prohibited",
            subject,
            code(Code.ACTION_NOT_PERMITTED),
            expected=f"not {job.action}",
            actual=job.action,
            message=f"{about}clause {clause.number} prohibits {job.action.replace('_', ' ')}.",
            source=clause.source,
        )
    if not prohibiting:
        _permitted(
            judge,
            "action",
            job.action,
            [clause.terms.actions_allowed for clause in clauses],
            subject,
            about,
            code(Code.ACTION_NOT_PERMITTED),
            clauses[0],
        )


def _permitted(
    judge: _Judge,
    what: str,
    value: str,
    permitted: list[frozenset[str]],
    subject: Subject,
    about: str,
    code: Code,
    cited: ClauseFacts,
) -> None:
    """A purpose or an action is permitted when any covering clause permits it."""
    rule = f"{what}_permitted"
    if any(value in allowed for allowed in permitted):
        judge.passed(rule, subject)
        return
    judge.fail(
        rule,
        subject,
        code,
        expected=", ".join(sorted(frozenset().union(*permitted))),
        actual=value,
        message=f"{about}the {what} {value.replace('_', ' ')} is not permitted.",
        source=cited.source,
    )


def _locations_and_onward(
    judge: _Judge,
    clauses: Sequence[ClauseFacts],
    compute_sites: Sequence[SiteFacts],
    subject: Subject,
    about: str,
    code: Callable[[Code], Code],
    model_subject: Subject | None,
) -> None:
    job = judge.facts.job
    destination = _output_jurisdiction(judge.facts)
    for clause in clauses:
        allowed = clause.terms.jurisdictions
        # Every site is checked against every clause.
        for site in compute_sites:
            site_subject = model_subject or site.subject
            if judge.within_any(site.jurisdiction, allowed):
                judge.passed("site_jurisdiction_allowed", site_subject)
            else:
                judge.fail(
                    "site_jurisdiction_allowed",
                    site_subject,
                    code(Code.SITE_JURISDICTION_NOT_ALLOWED),
                    expected=f"within {_listed(allowed)}",
                    actual=site.jurisdiction,
                    message=f"{about}{site.name} computes in {site.jurisdiction}, outside "
                    f"{_listed(allowed)} (clause {clause.number}).",
                    source=clause.source,
                )
            for admin in site.administered_from:
                if judge.within_any(admin, allowed):
                    judge.passed("administration_allowed", site_subject)
                    continue
                judge.fail(
                    "administration_allowed",
                    site_subject,
                    code(Code.ADMIN_ACCESS_OUTSIDE_ALLOWED),
                    expected=f"administered within {_listed(allowed)}",
                    actual=admin,
                    message=f"{about}{site.name} is administered from {admin}, outside "
                    f"{_listed(allowed)} (clause {clause.number}).",
                    source=clause.source,
                )

        if destination is not None and not judge.within_any(destination, allowed):
            onward = clause.terms.onward_transfer
            if onward == "requires_steering_approval":
                judge.passed("onward_transfer", subject)
                judge.oblige(
                    ObligationCode.ONWARD_TRANSFER_NEEDS_STEERING_APPROVAL,
                    subject,
                    f"{about}outputs go to {destination}: obtain the steering committee's "
                    f"approval first (clause {clause.number}).",
                    clause.source,
                )
            else:
                named = (
                    onward == "named_parties" and job.organisation_id in clause.terms.onward_parties
                )
                judge.check(
                    "onward_transfer",
                    subject,
                    named,
                    code(Code.ONWARD_TRANSFER_PROHIBITED),
                    expected=f"outputs within {_listed(allowed)}"
                    + (" or to named parties" if onward == "named_parties" else ""),
                    actual=f"outputs to {destination}",
                    message=f"{about}outputs may not go to {destination} "
                    f"(onward transfer {onward.replace('_', ' ')}, clause {clause.number}).",
                    source=clause.source,
                )
        elif destination is not None:
            judge.passed("onward_transfer", subject)


def _listed(areas: frozenset[str]) -> str:
    return ", ".join(sorted(areas))


def _basis_for(judge: _Judge, origin: str, target: str) -> TransferBasisFacts | None:
    facts = judge.facts
    sources = facts.covering.get(origin, frozenset({origin}))
    targets = facts.covering.get(target, frozenset({target}))
    return next(
        (
            basis
            for basis in facts.transfer_bases
            if basis.from_jurisdiction in sources and basis.to_jurisdiction in targets
        ),
        None,
    )


def _residency_and_movement(
    judge: _Judge,
    dataset: DatasetFacts,
    clauses: Sequence[ClauseFacts],
    compute_sites: Sequence[SiteFacts],
) -> None:
    job = judge.facts.job
    subject = dataset.subject
    for clause in clauses if job.scope == JOB else ():
        if clause.terms.movement != "federated_only" or job.movement != DATA_TO_COMPUTE:
            judge.passed("movement_permitted", subject)
            continue
        judge.fail(
            "movement_permitted",
            subject,
            Code.MOVEMENT_NOT_PERMITTED,
            expected="the model goes to the data (federated only)",
            actual=f"the data goes to the compute ({DATA_TO_COMPUTE})",
            message=f"{dataset.name} may not move: clause {clause.number} allows federated "
            "work only.",
            source=clause.source,
        )
    if not compute_sites:
        return
    if job.scope == JOB and job.movement != DATA_TO_COMPUTE:
        if any(judge.within(site.jurisdiction, dataset.residency) for site in compute_sites):
            judge.passed("data_stays_in_residency", subject)
            return
        judge.fail(
            "data_stays_in_residency",
            subject,
            Code.DATA_RESIDENCY_VIOLATION,
            expected=f"a site within {dataset.residency}",
            actual=", ".join(site.jurisdiction for site in compute_sites),
            message=f"{dataset.name} stays in {dataset.residency}, but no site of the job is there.",
            source=clauses[0].source,
        )
        return
    for site in compute_sites:
        if judge.within(site.jurisdiction, dataset.residency):
            judge.passed("data_stays_in_residency", site.subject)
            continue
        for clause in clauses:
            if clause.terms.movement == "to_approved_sites":
                judge.passed("data_stays_in_residency", subject)
                continue
            judge.fail(
                "data_stays_in_residency",
                subject,
                Code.DATA_RESIDENCY_VIOLATION,
                expected=f"within {dataset.residency}",
                actual=f"{site.name} in {site.jurisdiction}",
                message=f"{dataset.name} must stay in {dataset.residency} "
                f"(movement {clause.terms.movement.replace('_', ' ')}, clause {clause.number}) "
                f"but would go to {site.jurisdiction}.",
                source=clause.source,
            )
        if _basis_for(judge, dataset.residency, site.jurisdiction) is not None:
            judge.passed("transfer_basis", subject)
            continue
        judge.fail(
            "transfer_basis",
            subject,
            Code.TRANSFER_BASIS_MISSING,
            expected=f"a transfer basis {dataset.residency} → {site.jurisdiction} in force",
            actual="none",
            message=f"{dataset.name} would move from {dataset.residency} to {site.jurisdiction} "
            f"with no transfer basis in force on {judge.facts.on}.",
            source=clauses[0].source,
        )


def _site_checks(
    judge: _Judge, site: SiteFacts, *, sensitive: bool, providers_seen: set[int]
) -> None:
    facts = judge.facts
    subject = site.subject
    if site.approved:
        judge.passed("site_approved", subject)
    else:
        judge.fail(
            "site_approved",
            subject,
            Code.SITE_NOT_APPROVED,
            expected="approved by the consortium on the day",
            actual="not approved",
            message=f"{site.name} is not approved for this consortium on {facts.on}.",
        )
    if site.administered_from:
        judge.passed("administration_recorded", subject)
    else:
        judge.fail(
            "administration_recorded",
            subject,
            Code.MISSING_ATTRIBUTE,
            expected="administered_from recorded",
            actual="none recorded",
            message=f"Nobody recorded where {site.name} is administered from.",
        )
    for scheme in sorted({cert.scheme for cert in site.certificates}):
        of_scheme = [cert for cert in site.certificates if cert.scheme == scheme]
        lapsed = [cert for cert in of_scheme if cert.valid_until <= facts.on]
        in_force = [cert for cert in of_scheme if cert.valid_from <= facts.on < cert.valid_until]
        judge.check(
            "certification_in_force",
            subject,
            bool(in_force) or not lapsed,
            Code.CERTIFICATION_EXPIRED,
            expected=f"{scheme} certificate in force",
            actual=f"lapsed on {max(cert.valid_until for cert in lapsed)}" if lapsed else "",
            message=f"{site.name}'s {scheme} certificate lapsed and none is in force on {facts.on}.",
        )
    # A provider's exposure is about the provider: reported once however many of its sites.
    exposures = () if site.provider_id in providers_seen else site.exposures
    providers_seen.add(site.provider_id)
    for exposure in exposures:
        provider = Subject("provider", site.provider_id, site.provider_name)
        if sensitive:
            judge.check(
                "provider_exposure",
                provider,
                False,
                Code.PROVIDER_EXTRATERRITORIAL_EXPOSURE,
                expected="no foreign law reaching personal or confidential data",
                actual=f"{exposure.law} ({exposure.basis})",
                message=f"{site.provider_name} (running {site.name}) is exposed to {exposure.law} "
                "and the job handles personal or confidential data.",
            )
        else:
            judge.passed("provider_exposure", provider)
            judge.oblige(
                ObligationCode.PROVIDER_EXTRATERRITORIAL_EXPOSURE,
                provider,
                f"{site.provider_name} is exposed to {exposure.law}: record it with the outputs "
                "and keep personal or confidential data off this site.",
            )


def decide(facts: Facts, *, digest: bool = True, explain: bool = True) -> Decision:
    """Allow, deny or allow with obligations, with every reason. Pure: no database.
    A sweep, which stores no decision, skips the digest of the rules (``digest=False``) and
    the checks that passed (``explain=False``: the decision's ``explain`` is then empty)."""
    judge = _Judge(facts, explain=explain)
    job = facts.job
    job_subject = Subject(job.scope, job.job_id, job.label)

    judge.check(
        "datasets_named",
        job_subject,
        bool(job.dataset_ids),
        Code.MISSING_ATTRIBUTE,
        expected="at least one dataset",
        actual="none",
        message="The job names no dataset.",
    )
    judge.check(
        "sites_named",
        job_subject,
        bool(job.site_ids),
        Code.MISSING_ATTRIBUTE,
        expected="at least one site",
        actual="none",
        message="The job names no site.",
    )
    judge.check(
        "output_destination",
        job_subject,
        job.scope != JOB
        or bool(job.output_jurisdiction)
        or facts.site(job.output_site_id) is not None,
        Code.MISSING_ATTRIBUTE,
        expected="an output jurisdiction or site",
        actual="none",
        message="The job does not say where its outputs go.",
    )
    datasets: list[DatasetFacts] = []
    for pk in job.dataset_ids:
        dataset = facts.dataset(pk)
        if dataset is not None:
            judge.passed("dataset_known", Subject("dataset", pk, f"#{pk}"))
            datasets.append(dataset)
            continue
        judge.fail(
            "dataset_known",
            Subject("dataset", pk, f"#{pk}"),
            Code.MISSING_ATTRIBUTE,
            expected="a registered dataset",
            actual="unknown",
            message=f"Dataset #{pk} is not registered.",
        )
    compute_sites: list[SiteFacts] = []
    for pk in job.site_ids:
        site = facts.site(pk)
        if site is not None:
            judge.passed("site_known", Subject("site", pk, f"#{pk}"))
            compute_sites.append(site)
            continue
        judge.fail(
            "site_known",
            Subject("site", pk, f"#{pk}"),
            Code.MISSING_ATTRIBUTE,
            expected="a registered site",
            actual="unknown",
            message=f"Site #{pk} is not in the directory.",
        )

    location_sites = list(compute_sites)
    if job.movement == FEDERATED:
        aggregation = facts.site(job.aggregation_site_id)
        judge.check(
            "aggregation_site",
            job_subject,
            aggregation is not None,
            Code.MISSING_ATTRIBUTE,
            expected="an aggregation site",
            actual="none",
            message="A federated job names the site that aggregates the updates.",
        )
        if aggregation is not None and aggregation not in location_sites:
            location_sites.append(aggregation)

    inherited: list[DatasetFacts] = []
    model_subject: Subject | None = None
    if job.model_id is not None:
        model = facts.model
        judge.check(
            "model_known",
            Subject("model", job.model_id, f"#{job.model_id}"),
            model is not None,
            Code.MISSING_ATTRIBUTE,
            expected="a registered model",
            actual="unknown",
            message=f"Model #{job.model_id} is not registered.",
        )
        if model is not None:
            model_subject = Subject("model", model.id, model.name)
            for pk in model.inherited_dataset_ids:
                found = facts.dataset(pk)
                if found is not None and pk not in job.dataset_ids:
                    inherited.append(found)

    everything = datasets + inherited
    sensitive = any(
        dataset.contains_personal_data or dataset.sensitivity in SENSITIVE for dataset in everything
    )

    for dataset in datasets:
        clauses = _terms_in_force(judge, dataset)
        if not clauses:
            continue
        _apply_terms(judge, dataset, clauses, location_sites)
        _residency_and_movement(judge, dataset, clauses, compute_sites)

    if model_subject is not None:
        for dataset in inherited:
            clauses = _terms_in_force(judge, dataset, via_model=model_subject.display)
            binding = [clause for clause in clauses if clause.terms.derived_models_inherit]
            if binding:
                _apply_terms(judge, dataset, binding, location_sites, model_subject=model_subject)

    seen: set[int] = set()
    providers_seen: set[int] = set()
    for site in [*location_sites, *filter(None, [facts.site(job.output_site_id)])]:
        if site.id not in seen:
            seen.add(site.id)
            _site_checks(judge, site, sensitive=sensitive, providers_seen=providers_seen)

    if job.movement == FEDERATED:
        judge.check(
            "secure_aggregation",
            job_subject,
            job.secure_aggregation,
            Code.FEDERATED_SAFEGUARD_MISSING,
            expected="secure aggregation",
            actual="not declared",
            message="A federated job must declare secure aggregation.",
        )
        personal = any(dataset.contains_personal_data for dataset in everything)
        judge.check(
            "differential_privacy",
            job_subject,
            job.dp_epsilon is not None or not personal,
            Code.FEDERATED_SAFEGUARD_MISSING,
            expected="a differential-privacy budget (epsilon) for personal data",
            actual="none",
            message="A federated job on personal data must declare its privacy budget.",
        )

    if judge.reasons:
        outcome = Outcome.DENY
    elif judge.obligations:
        outcome = Outcome.ALLOW_WITH_OBLIGATIONS
    else:
        outcome = Outcome.ALLOW
    return Decision(
        outcome=outcome,
        reasons=tuple(judge.reasons),
        obligations=tuple(judge.obligations),
        explain=tuple(judge.checks),
        rules_digest=rules_digest(facts) if digest else "",
    )
