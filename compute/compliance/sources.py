"""Where facts come from: the rows of one consortium, each kind loaded once and kept.

A single decision asks a fresh ``FactSource`` for one job's facts, and each kind of row
(datasets, sites with their administration, certificates, exposures, approvals, clauses,
clause numbering, bloc memberships, transfer bases, each level of a model's derivation chain)
costs one query. A sweep first ``preload``s what a batch of jobs names, so that gathering the
facts of each job of the batch costs no query at all: a sweep's time no longer grows with a
per-job round trip to the database.

The rules among those rows (all but data sets and models) can also come whole from a
``RuleBook``, which ``rule_book`` loads and ``compute.compliance.rules_cache`` keeps between
requests for as long as the database says the rules have not changed.

The source holds rows, not conclusions: what is in force on a day (approvals, bloc
memberships, transfer bases, exposures assessed by then) is worked out per day from them.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q

from agreements.content import numbered
from agreements.models import AgreementKind, Clause, ClauseKind, Dataset, IPAsset
from compute.compliance.facts import (
    CertificateFacts,
    ClauseFacts,
    DatasetFacts,
    ExposureFacts,
    Facts,
    JobSpec,
    ModelFacts,
    SiteFacts,
    Terms,
    TransferBasisFacts,
    terms_hash,
)
from compute.compliance.models import TransferBasis
from compute.models import Approval, Certification, Exposure, Site
from consortia.models import Jurisdiction, JurisdictionMembership


@dataclass(frozen=True)
class _Site:
    """A site as stored; whether it is approved depends on the day."""

    id: int
    name: str
    jurisdiction: str
    provider_id: int
    provider_name: str
    administered_from: tuple[str, ...]


@dataclass(frozen=True)
class _Membership:
    bloc: str
    joined_on: datetime.date
    left_on: datetime.date | None


@dataclass(frozen=True)
class _Approval:
    """One of the consortium's approvals of a provider or of a single site (with that site's
    provider, whose approval it narrows)."""

    id: int
    provider_id: int | None
    site_id: int | None
    site_provider_id: int | None
    valid_from: datetime.date
    valid_until: datetime.date | None
    revoked: bool

    def in_force(self, on: datetime.date) -> bool:
        # compute.directory.approvals_in_force, row by row.
        return (
            not self.revoked
            and self.valid_from <= on
            and (self.valid_until is None or self.valid_until > on)
        )


@dataclass(frozen=True)
class _ApprovedOn:
    """What the consortium's approvals in force on one day allow."""

    approval_ids: tuple[int, ...]
    providers: frozenset[int]
    sites: frozenset[int]
    narrowed_providers: frozenset[int]

    def usable(self, site: _Site) -> bool:
        """compute.directory.usable_sites for one site: its provider is approved, and either
        the site is approved on its own or no site of its provider is."""
        return site.provider_id in self.providers and (
            site.id in self.sites or site.provider_id not in self.narrowed_providers
        )


@dataclass(frozen=True)
class RuleBook:
    """Every row of rules a consortium's decisions read, as one source loaded them: all the
    directory's sites (with their certificates and exposures by provider), the data-usage
    clauses naming each data set, the consortium's approvals, bloc memberships, transfer
    bases and the codes of every jurisdiction. Rows, not conclusions: what is in force is still worked out for each day."""

    sites: dict[int, _Site | None]
    certificates: dict[int, tuple[CertificateFacts, ...]]
    exposures: dict[int, tuple[ExposureFacts, ...]]
    clauses: dict[int, tuple[ClauseFacts, ...]]
    approvals: tuple[_Approval, ...]
    memberships: dict[str, tuple[_Membership, ...]]
    transfer_bases: tuple[TransferBasisFacts, ...]
    jurisdictions: frozenset[str]


WHOLE_CLAUSE_SCAN = 200


def _unknown(ids: set[int], known: dict[int, Any]) -> set[int]:
    # Not ``ids - known.keys()``: that copies every key into a set, on each of a sweep's jobs.
    return {pk for pk in ids if pk not in known}


def _site_ids(spec: JobSpec) -> set[int]:
    named = (spec.output_site_id, spec.aggregation_site_id)
    return set(spec.site_ids) | {pk for pk in named if pk is not None}


class FactSource:
    """The rows behind the facts of one consortium's jobs. Not shared between requests or
    sweeps: a source is as fresh as the moment it loaded each kind of row."""

    def __init__(self, consortium_id: int, rules: RuleBook | None = None) -> None:
        self.consortium_id = consortium_id
        self._datasets: dict[int, DatasetFacts | None] = {}
        self._sites: dict[int, _Site | None] = {}
        self._certificates: dict[int, tuple[CertificateFacts, ...]] = {}
        self._exposures: dict[int, tuple[ExposureFacts, ...]] = {}
        self._models: dict[int, ModelFacts | None] = {}
        self._clauses: dict[int, tuple[ClauseFacts, ...]] = {}
        self._approval_rows: tuple[_Approval, ...] | None = None
        self._approved: dict[datetime.date, _ApprovedOn] = {}
        self._site_facts: dict[tuple[int, datetime.date], SiteFacts] = {}
        self._blocs: dict[tuple[str, datetime.date], frozenset[str]] = {}
        self._memberships: dict[str, tuple[_Membership, ...]] | None = None
        self._bases: tuple[TransferBasisFacts, ...] | None = None
        self._every_site = False
        self._every_clause = False
        self._book = rules
        if rules is not None:
            # The book's own dictionaries, not copies: a source that starts from a book has
            # every site, clause and law, so it never adds to them (the ``_every_*`` flags and
            # ``_load_law``), and copying a book's clauses of 10,000 data sets cost a decision
            # more than deciding.
            self._sites = rules.sites
            self._certificates = rules.certificates
            self._exposures = rules.exposures
            self._clauses = rules.clauses
            self._approval_rows = rules.approvals
            self._memberships = rules.memberships
            self._bases = rules.transfer_bases
            self._every_site = self._every_clause = True

    @property
    def rules(self) -> RuleBook | None:
        """The book this source started from, if any."""
        return self._book

    def rule_book(self) -> RuleBook:
        """Load every row of rules (all sites, the consortium's every data-usage clause,
        approvals and law) and hand them over as a book for other sources to start from."""
        self._load_every_site()
        self._load_clauses(set(), everything=True)
        self._load_law()
        self._load_approvals()
        assert self._approval_rows is not None
        assert self._memberships is not None
        assert self._bases is not None
        return RuleBook(
            sites=dict(self._sites),
            certificates=dict(self._certificates),
            exposures=dict(self._exposures),
            clauses=dict(self._clauses),
            approvals=self._approval_rows,
            memberships=dict(self._memberships),
            transfer_bases=self._bases,
            jurisdictions=frozenset(Jurisdiction.objects.values_list("pk", flat=True)),
        )

    # -- loading -------------------------------------------------------------------------

    def preload(self, specs: Iterable[JobSpec]) -> None:
        """Load, one query per kind, everything ``specs`` name, so that ``facts`` for each of
        them needs no query. Days are loaded as they come (a sweep sees few distinct days)."""
        specs = list(specs)
        for model_id in sorted({spec.model_id for spec in specs if spec.model_id is not None}):
            self._model(model_id)
        inherited = {
            pk
            for model in self._models.values()
            if model is not None
            for pk in model.inherited_dataset_ids
        }
        dataset_ids = {pk for spec in specs for pk in spec.dataset_ids} | inherited
        self._load_datasets(dataset_ids)
        self._load_clauses(dataset_ids)
        self._load_sites({pk for spec in specs for pk in _site_ids(spec)})
        self._load_law()
        self._load_approvals()

    def prime(self, *, datasets: Iterable[Dataset] = ()) -> None:
        """Keep rows the caller already loaded (validating a request loads the data sets it
        names), so they are not read twice."""
        for dataset in datasets:
            self._remember_dataset(dataset)

    def _remember_dataset(self, dataset: Dataset) -> None:
        self._datasets[dataset.pk] = DatasetFacts(
            id=dataset.pk,
            name=dataset.name,
            consortium_id=dataset.consortium_id,
            residency=dataset.residency_id,
            sensitivity=dataset.sensitivity,
            contains_personal_data=dataset.contains_personal_data,
        )

    def _load_datasets(self, ids: set[int]) -> None:
        missing = _unknown(ids, self._datasets)
        if not missing:
            return
        self._datasets.update(dict.fromkeys(missing))
        for dataset in Dataset.objects.filter(pk__in=missing):
            self._remember_dataset(dataset)

    def _load_sites(self, ids: set[int]) -> None:
        if self._every_site:
            return
        missing = _unknown(ids, self._sites)
        if not missing:
            return
        self._sites.update(dict.fromkeys(missing))
        self._remember_sites(
            list(
                Site.objects.filter(pk__in=missing)
                .select_related("provider")
                .prefetch_related("administered_from")
            )
        )

    def _load_every_site(self) -> None:
        if self._every_site:
            return
        self._remember_sites(
            list(Site.objects.select_related("provider").prefetch_related("administered_from"))
        )
        self._every_site = True

    def _remember_sites(self, rows: list[Site]) -> None:
        """The sites, and the certificates and exposures of providers not seen before."""
        for site in rows:
            self._sites[site.pk] = _Site(
                id=site.pk,
                name=site.name,
                jurisdiction=site.jurisdiction_id,
                provider_id=site.provider_id,
                provider_name=site.provider.legal_name,
                administered_from=tuple(sorted(j.pk for j in site.administered_from.all())),
            )
        providers = _unknown({site.provider_id for site in rows}, self._certificates)
        if not providers:
            return
        certificates: dict[int, list[CertificateFacts]] = defaultdict(list)
        for cert in Certification.objects.filter(provider_id__in=providers).order_by("pk"):
            certificates[cert.provider_id].append(
                CertificateFacts(
                    cert.pk, cert.scheme, cert.site_id, cert.valid_from, cert.valid_until
                )
            )
        exposures: dict[int, list[ExposureFacts]] = defaultdict(list)
        for exposure in Exposure.objects.filter(provider_id__in=providers).order_by("pk"):
            exposures[exposure.provider_id].append(
                ExposureFacts(exposure.pk, exposure.law, exposure.basis, exposure.assessed_on)
            )
        for provider_id in providers:
            self._certificates[provider_id] = tuple(certificates[provider_id])
            self._exposures[provider_id] = tuple(exposures[provider_id])

    def _load_clauses(self, dataset_ids: set[int], *, everything: bool = False) -> None:
        """The data-usage clauses (any state: ``decide`` tells which are in force) that name
        the data sets (or every one of the consortium), with their numbers in their
        versions."""
        if self._every_clause:
            return
        missing = _unknown(dataset_ids, self._clauses)
        if not missing and not everything:
            return
        # A batch naming many data sets reads the consortium's clauses whole: one plain scan
        # beats a containment test per data set.
        everything = everything or len(missing) > WHOLE_CLAUSE_SCAN
        candidates = Clause.objects.filter(
            terms__isnull=False,
            kind=ClauseKind.DATA_USAGE,
            version__agreement__consortium_id=self.consortium_id,
            version__agreement__kind=AgreementKind.DATA_SHARING,
        ).exclude(version__status__in=["superseded", "withdrawn"])
        if connection.vendor == "postgresql" and not everything:
            # Only the clauses naming one of the data sets leave the database (jsonb @>):
            # loading a consortium's every clause cost ~200 ms a decision with 2,000
            # agreements. SQLite has no JSON containment; there the test below filters.
            covers = Q(pk__in=[])
            for dataset_id in sorted(missing):
                covers |= Q(terms__datasets__contains=[dataset_id])
            candidates = candidates.filter(covers)
        rows = [
            clause
            for clause in candidates.select_related("version__agreement").order_by("pk")
            if clause.terms and (everything or missing & set(clause.terms.get("datasets", [])))
        ]
        numbers: dict[int, str] = {}
        if rows:
            by_version: dict[int, list[Clause]] = defaultdict(list)
            for row in (
                Clause.objects.filter(version_id__in={clause.version_id for clause in rows})
                .only("pk", "version_id", "position", "level")
                .order_by("version_id", "position")
            ):
                by_version[row.version_id].append(row)
            for siblings in by_version.values():
                numbers.update({item.clause.pk: item.number for item in numbered(siblings)})
        covering: dict[int, list[ClauseFacts]] = defaultdict(list)
        for clause in rows:
            facts = ClauseFacts(
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
            for dataset_id in (
                facts.terms.datasets if everything else missing & set(facts.terms.datasets)
            ):
                covering[dataset_id].append(facts)
        if everything:
            self._clauses = {pk: tuple(found) for pk, found in covering.items()}
            self._every_clause = True
        else:
            self._clauses.update({pk: tuple(covering.get(pk, ())) for pk in missing})

    def _load_law(self) -> None:
        """Bloc memberships and transfer bases: small tables, read whole, once."""
        if self._memberships is None:
            memberships: dict[str, list[_Membership]] = defaultdict(list)
            for link in JurisdictionMembership.objects.order_by("pk"):
                memberships[link.member_id].append(
                    _Membership(link.bloc_id, link.joined_on, link.left_on)
                )
            self._memberships = {code: tuple(links) for code, links in memberships.items()}
        if self._bases is None:
            self._bases = tuple(
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
                    Q(consortium_id__isnull=True) | Q(consortium_id=self.consortium_id)
                ).order_by("pk")
            )

    def _load_approvals(self) -> None:
        """The consortium's approvals, every one: a small table, read once, so that what is
        approved on any day is worked out without a query."""
        if self._approval_rows is not None:
            return
        self._approval_rows = tuple(
            _Approval(
                id=row["pk"],
                provider_id=row["provider_id"],
                site_id=row["site_id"],
                site_provider_id=row["site__provider_id"],
                valid_from=row["valid_from"],
                valid_until=row["valid_until"],
                revoked=row["revoked_at"] is not None,
            )
            for row in Approval.objects.filter(consortium_id=self.consortium_id)
            .order_by("pk")
            .values(
                "pk",
                "provider_id",
                "site_id",
                "site__provider_id",
                "valid_from",
                "valid_until",
                "revoked_at",
            )
        )

    def _model(self, model_id: int) -> ModelFacts | None:
        """The model and the data sets its derivation chain was trained on (one query per
        level of the chain)."""
        if model_id in self._models:
            return self._models[model_id]
        asset = IPAsset.objects.filter(pk=model_id).first()
        if asset is None:
            self._models[model_id] = None
            return None
        chain = [asset.pk]
        frontier = [asset.pk]
        through = IPAsset.derived_from.through
        while frontier:
            parents = set(
                through.objects.filter(from_ipasset_id__in=frontier).values_list(
                    "to_ipasset_id", flat=True
                )
            ) - set(chain)
            chain.extend(sorted(parents))
            frontier = sorted(parents)
        dataset_of = dict(
            IPAsset.objects.filter(pk__in=chain, dataset__isnull=False).values_list(
                "pk", "dataset_id"
            )
        )
        model = ModelFacts(
            id=asset.pk,
            name=asset.name,
            consortium_id=asset.consortium_id,
            ancestor_ids=tuple(chain[1:]),
            inherited_dataset_ids=tuple(
                sorted({dataset_of[pk] for pk in chain if pk in dataset_of})
            ),
        )
        self._models[model_id] = model
        return model

    # -- per day ---------------------------------------------------------------------------

    def _approved_on(self, on: datetime.date) -> _ApprovedOn:
        if on not in self._approved:
            self._load_approvals()
            assert self._approval_rows is not None
            in_force = [row for row in self._approval_rows if row.in_force(on)]
            self._approved[on] = _ApprovedOn(
                approval_ids=tuple(sorted(row.id for row in in_force)),
                providers=frozenset(
                    row.provider_id for row in in_force if row.provider_id is not None
                ),
                sites=frozenset(row.site_id for row in in_force if row.site_id is not None),
                narrowed_providers=frozenset(
                    row.site_provider_id for row in in_force if row.site_provider_id is not None
                ),
            )
        return self._approved[on]

    def _covering(self, codes: Iterable[str], on: datetime.date) -> dict[str, frozenset[str]]:
        """Each code with every bloc it belonged to on the day."""
        return {code: self._blocs_of(code, on) for code in codes}

    def _blocs_of(self, code: str, on: datetime.date) -> frozenset[str]:
        """The code and its blocs on the day; kept, as every job of a sweep asks again."""
        key = (code, on)
        if (found := self._blocs.get(key)) is not None:
            return found
        self._load_law()
        assert self._memberships is not None
        found = self._blocs[key] = frozenset(
            {code}
            | {
                link.bloc
                for link in self._memberships.get(code, ())
                if link.joined_on <= on and (link.left_on is None or on < link.left_on)
            }
        )
        return found

    def _site_on(self, site: _Site, on: datetime.date) -> SiteFacts:
        """The site as it stands on the day; kept, since a sweep's jobs share few days and
        each decision reads its sites' facts several times."""
        key = (site.id, on)
        if (found := self._site_facts.get(key)) is not None:
            return found
        found = self._site_facts[key] = SiteFacts(
            id=site.id,
            name=site.name,
            jurisdiction=site.jurisdiction,
            provider_id=site.provider_id,
            provider_name=site.provider_name,
            administered_from=site.administered_from,
            approved=self._approved_on(on).usable(site),
            certificates=tuple(
                cert
                for cert in self._certificates[site.provider_id]
                if cert.site_id is None or cert.site_id == site.id
            ),
            exposures=tuple(
                exposure
                for exposure in self._exposures[site.provider_id]
                if exposure.assessed_on <= on
            ),
        )
        return found

    # -- facts -----------------------------------------------------------------------------

    def facts(self, spec: JobSpec, at: datetime.datetime) -> Facts:
        """What is in force for ``spec`` at ``at``: what the decision must weigh, and nothing
        else. Loads whatever ``preload`` did not."""
        on = at.date()
        model = self._model(spec.model_id) if spec.model_id is not None else None
        dataset_ids = set(spec.dataset_ids) | set(model.inherited_dataset_ids if model else ())
        self._load_datasets(dataset_ids)
        site_ids = _site_ids(spec)
        self._load_sites(site_ids)
        self._load_clauses(dataset_ids)

        datasets = tuple(
            dataset for pk in sorted(dataset_ids) if (dataset := self._datasets.get(pk)) is not None
        )
        stored_sites = [
            site for pk in sorted(site_ids) if (site := self._sites.get(pk)) is not None
        ]
        approved = self._approved_on(on)
        sites = tuple(self._site_on(site, on) for site in stored_sites)
        unique = {clause.id: clause for pk in dataset_ids for clause in self._clauses.get(pk, ())}
        clauses = tuple(unique[pk] for pk in sorted(unique))

        codes: set[str] = {dataset.residency for dataset in datasets}
        codes |= {site.jurisdiction for site in sites}
        codes |= {code for site in sites for code in site.administered_from}
        if spec.output_jurisdiction:
            codes.add(spec.output_jurisdiction)
        covering = self._covering(codes, on)
        # A basis can only matter between two places the job touches (decide's _basis_for):
        # the rest of the EU's adequacy list would fill every snapshot and digest for nothing.
        places = {area for code in codes for area in covering[code]}
        assert self._bases is not None
        transfer_bases = tuple(
            basis
            for basis in self._bases
            if basis.from_jurisdiction in places
            and basis.to_jurisdiction in places
            and basis.valid_from <= on
            and (basis.valid_until is None or on < basis.valid_until)
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
            approval_ids=approved.approval_ids,
            covering=covering,
        )


def gather(spec: JobSpec, at: datetime.datetime) -> Facts:
    """The facts for one job, from a fresh source."""
    return FactSource(spec.consortium_id).facts(spec, at)
