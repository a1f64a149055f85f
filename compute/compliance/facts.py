"""Everything a decision needs about a job at an instant, gathered into frozen dataclasses.

One query per kind of row (datasets, sites, their administration, certificates, exposures,
approvals, clauses, clause numbering, bloc memberships, transfer bases, and one per level of
a model's derivation chain): never one per row. ``decide`` then needs no database at all.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Q

from agreements.content import numbered
from agreements.models import AgreementKind, Clause, ClauseKind, Dataset, IPAsset
from compute.compliance.models import Job, TransferBasis
from compute.directory import approvals_in_force, usable_sites
from compute.models import Certification, Exposure, Site
from consortia.models import JurisdictionMembership


@dataclass(frozen=True)
class JobSpec:
    """A job as the engine sees it: a stored Job or a what-if that was never stored."""

    consortium_id: int
    organisation_id: int | None
    dataset_ids: tuple[int, ...]
    site_ids: tuple[int, ...]
    purpose: str
    action: str
    movement: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    model_id: int | None = None
    output_jurisdiction: str | None = None
    output_site_id: int | None = None
    aggregation_site_id: int | None = None
    secure_aggregation: bool = False
    dp_epsilon: float | None = None
    job_id: int | None = None

    @classmethod
    def from_job(cls, job: Job) -> JobSpec:
        return cls(
            consortium_id=job.consortium_id,
            organisation_id=job.organisation_id,
            dataset_ids=tuple(sorted(dataset.pk for dataset in job.datasets.all())),
            site_ids=tuple(sorted(site.pk for site in job.sites.all())),
            purpose=job.purpose,
            action=job.action,
            movement=job.movement,
            starts_at=job.starts_at,
            ends_at=job.ends_at,
            model_id=job.model_id,
            output_jurisdiction=job.output_jurisdiction_id,
            output_site_id=job.output_site_id,
            aggregation_site_id=job.aggregation_site_id,
            secure_aggregation=job.secure_aggregation,
            dp_epsilon=job.dp_epsilon,
            job_id=job.pk,
        )


@dataclass(frozen=True)
class DatasetFacts:
    id: int
    name: str
    consortium_id: int
    residency: str
    sensitivity: str
    contains_personal_data: bool


@dataclass(frozen=True)
class CertificateFacts:
    id: int
    scheme: str
    site_id: int | None
    valid_from: datetime.date
    valid_until: datetime.date


@dataclass(frozen=True)
class ExposureFacts:
    id: int
    law: str
    basis: str
    assessed_on: datetime.date


@dataclass(frozen=True)
class SiteFacts:
    id: int
    name: str
    jurisdiction: str
    provider_id: int
    provider_name: str
    administered_from: tuple[str, ...]
    approved: bool
    certificates: tuple[CertificateFacts, ...]
    exposures: tuple[ExposureFacts, ...]


@dataclass(frozen=True)
class Terms:
    datasets: tuple[int, ...]
    purposes: frozenset[str]
    actions_allowed: frozenset[str]
    actions_prohibited: frozenset[str]
    jurisdictions: frozenset[str]
    movement: str
    retention_days: int | None
    onward_transfer: str
    onward_parties: frozenset[int]
    derived_models_inherit: bool

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Terms:
        return cls(
            datasets=tuple(raw.get("datasets", [])),
            purposes=frozenset(raw.get("purposes", [])),
            actions_allowed=frozenset(raw.get("actions_allowed", [])),
            actions_prohibited=frozenset(raw.get("actions_prohibited", [])),
            jurisdictions=frozenset(raw.get("jurisdictions", [])),
            movement=str(raw.get("movement", "")),
            retention_days=raw.get("retention_days"),
            onward_transfer=str(raw.get("onward_transfer", "prohibited")),
            onward_parties=frozenset(raw.get("onward_parties", [])),
            derived_models_inherit=bool(raw.get("derived_models_inherit", True)),
        )


@dataclass(frozen=True)
class ClauseFacts:
    """A data-usage clause with terms, in force or not: ``decide`` tells which."""

    id: int
    number: str
    heading: str
    terms: Terms
    terms_hash: str
    version_id: int
    version_number: int
    version_status: str
    agreement_id: int
    agreement_title: str
    agreement_status: str
    effective_on: datetime.date | None
    expires_on: datetime.date | None


@dataclass(frozen=True)
class ModelFacts:
    """A model and what it carries: the datasets its derivation chain was trained on."""

    id: int
    name: str
    consortium_id: int
    ancestor_ids: tuple[int, ...]
    inherited_dataset_ids: tuple[int, ...]


@dataclass(frozen=True)
class TransferBasisFacts:
    id: int
    kind: str
    from_jurisdiction: str
    to_jurisdiction: str
    reference: str
    consortium_id: int | None
    valid_from: datetime.date
    valid_until: datetime.date | None


@dataclass(frozen=True)
class Facts:
    """What is in force for one job on one day. ``covering[code]`` is the code itself and
    every bloc it belonged to that day."""

    at: datetime.datetime
    on: datetime.date
    job: JobSpec
    datasets: tuple[DatasetFacts, ...]
    sites: tuple[SiteFacts, ...]
    clauses: tuple[ClauseFacts, ...]
    model: ModelFacts | None
    transfer_bases: tuple[TransferBasisFacts, ...]
    approval_ids: tuple[int, ...]
    covering: Mapping[str, frozenset[str]] = field(hash=False)

    def dataset(self, pk: int) -> DatasetFacts | None:
        return next((dataset for dataset in self.datasets if dataset.id == pk), None)

    def site(self, pk: int | None) -> SiteFacts | None:
        return next((site for site in self.sites if site.id == pk), None)


def terms_hash(raw: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(raw).encode("utf-8")).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"not JSON: {value!r}")


def as_json(facts: Facts) -> Any:
    """The facts as plain JSON values (the decision's input snapshot)."""
    return json.loads(_canonical(asdict(facts)))


def rules_digest(facts: Facts) -> str:
    """SHA-256 over the canonical JSON of the rules a decision used: clauses (ids and term
    hashes, with their version and agreement states), transfer bases, approvals, certificates,
    exposures and bloc memberships. The same digest means the same rules."""
    rules = {
        "clauses": sorted(
            [
                clause.id,
                clause.terms_hash,
                clause.version_status,
                clause.agreement_status,
                clause.effective_on,
                clause.expires_on,
            ]
            for clause in facts.clauses
        ),
        "transfer_bases": sorted(
            [
                basis.id,
                basis.kind,
                basis.from_jurisdiction,
                basis.to_jurisdiction,
                basis.valid_from,
                basis.valid_until,
            ]
            for basis in facts.transfer_bases
        ),
        "approvals": sorted(facts.approval_ids),
        "certificates": sorted(
            {
                (cert.id, cert.scheme, cert.valid_from.isoformat(), cert.valid_until.isoformat())
                for site in facts.sites
                for cert in site.certificates
            }
        ),
        "exposures": sorted(
            {
                (exposure.id, exposure.law, exposure.assessed_on.isoformat())
                for site in facts.sites
                for exposure in site.exposures
            }
        ),
        "covering": {code: sorted(blocs) for code, blocs in sorted(facts.covering.items())},
    }
    return hashlib.sha256(_canonical(rules).encode("utf-8")).hexdigest()


def _model_chain(model_id: int) -> tuple[IPAsset, list[int]]:
    """The model and every asset it derives from, transitively (one query per level)."""
    model = IPAsset.objects.get(pk=model_id)
    seen: list[int] = [model.pk]
    frontier = [model.pk]
    through = IPAsset.derived_from.through
    while frontier:
        parents = set(
            through.objects.filter(from_ipasset_id__in=frontier).values_list(
                "to_ipasset_id", flat=True
            )
        ) - set(seen)
        seen.extend(sorted(parents))
        frontier = sorted(parents)
    return model, seen


def _covering(codes: Iterable[str], on: datetime.date) -> dict[str, frozenset[str]]:
    codes = set(codes)
    covering: dict[str, set[str]] = {code: {code} for code in codes}
    for link in JurisdictionMembership.objects.filter(member_id__in=codes):
        if link.is_current(on):
            covering[link.member_id].add(link.bloc_id)
    return {code: frozenset(blocs) for code, blocs in covering.items()}


def gather(spec: JobSpec, at: datetime.datetime) -> Facts:
    """The facts for ``spec`` at ``at``: what the decision must weigh, and nothing else."""
    on = at.date()
    model: ModelFacts | None = None
    inherited: list[int] = []
    if spec.model_id is not None:
        try:
            asset, chain = _model_chain(spec.model_id)
        except IPAsset.DoesNotExist:
            asset, chain = None, []
        if asset is not None:
            dataset_of = dict(
                IPAsset.objects.filter(pk__in=chain, dataset__isnull=False).values_list(
                    "pk", "dataset_id"
                )
            )
            inherited = sorted({dataset_of[pk] for pk in chain if pk in dataset_of})
            model = ModelFacts(
                id=asset.pk,
                name=asset.name,
                consortium_id=asset.consortium_id,
                ancestor_ids=tuple(chain[1:]),
                inherited_dataset_ids=tuple(inherited),
            )

    dataset_ids = set(spec.dataset_ids) | set(inherited)
    datasets = tuple(
        DatasetFacts(
            id=dataset.pk,
            name=dataset.name,
            consortium_id=dataset.consortium_id,
            residency=dataset.residency_id,
            sensitivity=dataset.sensitivity,
            contains_personal_data=dataset.contains_personal_data,
        )
        for dataset in Dataset.objects.filter(pk__in=dataset_ids).order_by("pk")
    )

    site_ids = set(spec.site_ids) | {
        pk for pk in (spec.output_site_id, spec.aggregation_site_id) if pk is not None
    }
    sites_rows = list(
        Site.objects.filter(pk__in=site_ids)
        .select_related("provider")
        .prefetch_related("administered_from")
        .order_by("pk")
    )
    provider_ids = {site.provider_id for site in sites_rows}
    certificates: dict[int, list[CertificateFacts]] = defaultdict(list)
    for cert in Certification.objects.filter(provider_id__in=provider_ids).order_by("pk"):
        certificates[cert.provider_id].append(
            CertificateFacts(cert.pk, cert.scheme, cert.site_id, cert.valid_from, cert.valid_until)
        )
    exposures: dict[int, list[ExposureFacts]] = defaultdict(list)
    for exposure in Exposure.objects.filter(
        provider_id__in=provider_ids, assessed_on__lte=on
    ).order_by("pk"):
        exposures[exposure.provider_id].append(
            ExposureFacts(exposure.pk, exposure.law, exposure.basis, exposure.assessed_on)
        )
    usable = set(
        usable_sites(spec.consortium_id, on).filter(pk__in=site_ids).values_list("pk", flat=True)
    )
    sites = tuple(
        SiteFacts(
            id=site.pk,
            name=site.name,
            jurisdiction=site.jurisdiction_id,
            provider_id=site.provider_id,
            provider_name=site.provider.legal_name,
            administered_from=tuple(sorted(j.pk for j in site.administered_from.all())),
            approved=site.pk in usable,
            certificates=tuple(
                cert
                for cert in certificates[site.provider_id]
                if cert.site_id is None or cert.site_id == site.pk
            ),
            exposures=tuple(exposures[site.provider_id]),
        )
        for site in sites_rows
    )
    approval_ids = tuple(
        sorted(approvals_in_force(spec.consortium_id, on).values_list("pk", flat=True))
    )

    candidates = Clause.objects.filter(
        terms__isnull=False,
        kind=ClauseKind.DATA_USAGE,
        version__agreement__consortium_id=spec.consortium_id,
        version__agreement__kind=AgreementKind.DATA_SHARING,
    ).exclude(version__status__in=["superseded", "withdrawn"])
    if connection.vendor == "postgresql":
        # Only the clauses naming one of the job's data sets leave the database (jsonb @>):
        # loading a consortium's every clause cost ~200 ms a decision with 2,000 agreements.
        # SQLite has no JSON containment; there the test below does the filtering.
        covers = Q(pk__in=[])
        for dataset_id in dataset_ids:
            covers |= Q(terms__datasets__contains=[dataset_id])
        candidates = candidates.filter(covers)
    clause_rows = [
        clause
        for clause in candidates.select_related("version__agreement").order_by("pk")
        if clause.terms and dataset_ids & set(clause.terms.get("datasets", []))
    ]
    numbers: dict[int, str] = {}
    if clause_rows:
        by_version: dict[int, list[Any]] = defaultdict(list)
        for row in Clause.objects.filter(
            version_id__in={clause.version_id for clause in clause_rows}
        ).order_by("version_id", "position"):
            by_version[row.version_id].append(row)
        for rows in by_version.values():
            numbers.update({item.clause.pk: item.number for item in numbered(rows)})
    clauses = tuple(
        ClauseFacts(
            id=clause.pk,
            number=numbers.get(clause.pk, str(clause.position)),
            heading=clause.heading,
            terms=Terms.from_json(clause.terms or {}),
            terms_hash=terms_hash(clause.terms or {}),
            version_id=clause.version_id,
            version_number=clause.version.number,
            version_status=clause.version.status,
            agreement_id=clause.version.agreement_id,
            agreement_title=clause.version.agreement.title,
            agreement_status=clause.version.agreement.status,
            effective_on=clause.version.agreement.effective_on,
            expires_on=clause.version.agreement.expires_on,
        )
        for clause in clause_rows
    )

    codes: set[str] = {dataset.residency for dataset in datasets}
    codes |= {site.jurisdiction for site in sites}
    codes |= {code for site in sites for code in site.administered_from}
    if spec.output_jurisdiction:
        codes.add(spec.output_jurisdiction)
    covering = _covering(codes, on)

    transfer_bases = tuple(
        TransferBasisFacts(
            id=basis.pk,
            kind=basis.kind,
            from_jurisdiction=basis.from_jurisdiction_id,
            to_jurisdiction=basis.to_jurisdiction_id,
            reference=basis.reference,
            consortium_id=basis.consortium_id,
            valid_from=basis.valid_from,
            valid_until=basis.valid_until,
        )
        for basis in TransferBasis.objects.filter(
            from_jurisdiction_id__in={c for code in codes for c in covering.get(code, {code})},
            valid_from__lte=on,
        ).order_by("pk")
        if basis.in_force(on) and basis.consortium_id in (None, spec.consortium_id)
    )
    return Facts(
        at=at,
        on=on,
        job=spec,
        datasets=datasets,
        sites=sites,
        clauses=clauses,
        model=model,
        transfer_bases=transfer_bases,
        approval_ids=approval_ids,
        covering=covering,
    )
