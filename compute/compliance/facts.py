"""Everything a decision needs about a job at an instant, gathered into frozen dataclasses.

``sources.FactSource`` fills them from the database; ``decide`` then needs no database at all.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import SimpleNamespace
from typing import Any

from compute.compliance.models import Job
from compute.compliance.reasons import Source, Subject


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
    # What is evaluated: a job, or a granted allocation or a placement swept as data at its
    # sites (decide skips what they do not have: purpose, action, output); job_id is its id.
    scope: str = "job"

    @property
    def label(self) -> str:
        if self.job_id is None:
            return "What-if"
        return {"allocation": "Allocation", "placement": "Placement"}.get(
            self.scope, "Job"
        ) + f" {self.job_id}"

    @classmethod
    def from_job(
        cls,
        job: Job | SimpleNamespace,
        dataset_ids: tuple[int, ...] | None = None,
        site_ids: tuple[int, ...] | None = None,
    ) -> JobSpec:
        """The spec of a stored job, or of a sweep's row of its columns (with the ids the
        sweep loaded for many jobs at once)."""
        if dataset_ids is None:
            dataset_ids = tuple(sorted(dataset.pk for dataset in job.datasets.all()))
        if site_ids is None:
            site_ids = tuple(sorted(site.pk for site in job.sites.all()))
        return cls(
            consortium_id=job.consortium_id,
            organisation_id=job.organisation_id,
            dataset_ids=dataset_ids,
            site_ids=site_ids,
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

    # Built once, not per check: a sweep shares each data set's facts across its jobs.
    @functools.cached_property
    def subject(self) -> Subject:
        return Subject("dataset", self.id, self.name)


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

    @functools.cached_property
    def subject(self) -> Subject:
        return Subject("site", self.id, f"{self.name} ({self.jurisdiction})")


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

    @functools.cached_property
    def source(self) -> Source:
        """What a reason resting on this clause cites."""
        return Source(
            agreement_id=self.agreement_id,
            agreement_title=self.agreement_title,
            version_id=self.version_id,
            version_number=self.version_number,
            clause_id=self.id,
            clause_number=self.number,
        )


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
    """The facts as plain JSON values (the decision's input snapshot): what a JSON round trip
    of ``asdict(facts)`` gives, built directly, since every decision stores one and
    ``asdict`` deep-copies each of its thousands of leaves."""
    return _plain(facts)


def _plain(value: Any) -> Any:
    if value is None or type(value) in (bool, int, float):
        return value
    if isinstance(value, str):
        return str.__str__(value)  # an enum's value, as JSON writes it
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        kind: Any = type(value)
        return {name: _plain(getattr(value, name)) for name in _field_names(kind)}
    if isinstance(value, Mapping):
        return {_key(key): _plain(item) for key, item in value.items()}
    if isinstance(value, frozenset | set):
        return [_plain(item) for item in sorted(value)]
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, bool | int | float):
        return value.real if not isinstance(value, bool) else bool(value)
    raise TypeError(f"not JSON: {value!r}")


@functools.cache
def _field_names(cls: Any) -> tuple[str, ...]:
    return tuple(item.name for item in fields(cls))


def _key(key: Any) -> str:
    """A JSON object's key, as json.dumps writes a non-string one."""
    if isinstance(key, str):
        return str.__str__(key)
    if isinstance(key, bool) or key is None:
        return json.dumps(key)
    if isinstance(key, int | float):
        return json.dumps(key)
    raise TypeError(f"not a JSON key: {key!r}")


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
