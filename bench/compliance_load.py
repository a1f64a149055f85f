"""Load the compliance engine's bench data: one consortium at size, beside the demo data.

One consortium with 20 member organisations, 10,000 datasets, 500 sites of 5 providers (all
approved for the consortium; one of them, with 60 sites in the US, answers to the CLOUD Act),
2,000 executed data sharing agreements, each with one executed version whose data-usage
clause covers 5 of the datasets (so every dataset is covered), and N live jobs (proposed or
running, not yet ended) on 1-3 random datasets at 1-2 random sites.

This is load, not behaviour: rows go in with bulk_create and COPY, bypassing the services
(no audit events, no signatures, no inbox), with the statuses, dates and content hashes the
real pipeline leaves on an executed agreement, so that agreements.terms.clauses_in_force and
the engine see the terms as in force. Reproducible from --seed (job windows are relative to
the time of loading, since a sweep looks at the jobs live now).

Run by bench/run.py as ``python -m bench.compliance_load`` with DJANGO_SETTINGS_MODULE set;
prints timings, then one JSON object (ids for the request body, and an API token).
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import random
import time
import uuid
from collections.abc import Iterable
from typing import Any

UTC = datetime.UTC
ORGANISATIONS = 20
DATASETS = 10_000
AGREEMENTS = 2_000
DATASETS_PER_CLAUSE = DATASETS // AGREEMENTS  # 5
EU_PROVIDERS = (("FR", 110), ("DE", 110), ("NL", 110), ("IT", 110))
US_PROVIDER = ("US", 60)  # 4 x 110 + 60 = 500 sites
RESIDENCIES = ("FR", "DE", "NL", "IT", "ES")
USERNAME = "compliance-bench"
TERMS: dict[str, Any] = {
    "purposes": ["research_and_development", "academic_research"],
    "actions_allowed": ["train", "fine_tune", "evaluate"],
    "actions_prohibited": ["copy_raw"],
    "jurisdictions": ["EU"],
    "movement": "to_approved_sites",
    "retention_days": None,
    "onward_transfer": "prohibited",
    "onward_parties": [],
    "derived_models_inherit": True,
}


def log(message: str) -> None:
    print(message, flush=True)


def _null(value: Any) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)


def copy_rows(table: str, columns: list[str], rows: Iterable[Iterable[Any]]) -> None:
    """COPY rows into ``table``: the fastest way PostgreSQL takes a few hundred thousand rows."""
    from django.db import connection

    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_null(value) for value in row) + "\n")
    buffer.seek(0)
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


class Timer:
    def __init__(self) -> None:
        self.began = time.perf_counter()
        self.figures: dict[str, float] = {}

    def lap(self, label: str) -> None:
        now = time.perf_counter()
        self.figures[label] = now - self.began
        log(f"  {label}: {now - self.began:.1f} s")
        self.began = now


def _world(rng: random.Random) -> tuple[Any, list[Any], Any]:
    from consortia.models import Consortium, Membership, Organisation, RoleAssignment, User

    consortium = Consortium.objects.create(
        name="Compliance bench",
        partnership_model_id="infrastructure_pool",
        home_jurisdiction_id="EU",
        status="operational",
    )
    organisations = Organisation.objects.bulk_create(
        Organisation(
            name=f"Compliance bench member {n}",
            kind="company",
            home_jurisdiction_id=rng.choice(RESIDENCIES),
            registration_id=f"CB-{n}",
        )
        for n in range(ORGANISATIONS)
    )
    Membership.objects.bulk_create(
        Membership(
            consortium=consortium,
            organisation=organisation,
            status="active",
            joined_on=datetime.date(2024, 1, 1),
        )
        for organisation in organisations
    )
    user = User.objects.create(username=USERNAME, organisation=organisations[0])
    RoleAssignment.objects.create(consortium=consortium, user=user, role="technical")
    return consortium, organisations, user


def _sites(consortium: Any, user: Any) -> list[Any]:
    from compute.models import Approval, Certification, Exposure, Provider, Site

    sites: list[Any] = []
    providers = []
    for index, (code, count) in enumerate([*EU_PROVIDERS, US_PROVIDER]):
        provider = Provider.objects.create(
            legal_name=f"Compliance bench provider {index} ({code})",
            head_office_jurisdiction_id=code,
            ultimate_parent_jurisdiction_id=code,
            registered_by=user,
        )
        providers.append(provider)
        sites += Site.objects.bulk_create(
            Site(provider=provider, name=f"{code}-{n}", jurisdiction_id=code) for n in range(count)
        )
        Certification.objects.create(
            provider=provider,
            scheme="iso_27001",
            valid_from=datetime.date(2024, 1, 1),
            valid_until=datetime.date(2030, 1, 1),
            evidence=f"ISO-{index}",
        )
        if code == "US":
            Exposure.objects.create(
                provider=provider,
                law="us_cloud_act",
                basis="head_office",
                assessed_on=datetime.date(2024, 1, 1),
            )
        Approval.objects.create(
            consortium=consortium,
            provider=provider,
            valid_from=datetime.date(2024, 1, 1),
            approved_by=user,
        )
    through = Site.administered_from.through
    through.objects.bulk_create(
        through(site_id=site.pk, jurisdiction_id=site.jurisdiction_id) for site in sites
    )
    return sites


def _datasets(rng: random.Random, consortium: Any, organisations: list[Any]) -> list[Any]:
    from agreements.models import Dataset

    def one(n: int) -> Any:
        special = rng.random() < 0.1
        return Dataset(
            consortium=consortium,
            owner=rng.choice(organisations),
            name=f"Dataset {n:05d}",
            sensitivity="special_category" if special else rng.choice(["internal", "confidential"]),
            contains_personal_data=special,
            residency_id=rng.choice(RESIDENCIES),
        )

    return Dataset.objects.bulk_create((one(n) for n in range(DATASETS)), batch_size=2_000)


def _agreements(
    rng: random.Random, consortium: Any, organisations: list[Any], datasets: list[Any]
) -> None:
    """2,000 executed data sharing agreements, each with one executed version of two clauses:
    a general one and a data-usage clause with terms over 5 datasets."""
    from agreements import content
    from agreements.models import Agreement, AgreementVersion, Clause, Party

    executed_at = datetime.datetime(2025, 1, 1, tzinfo=UTC)
    agreements = Agreement.objects.bulk_create(
        (
            Agreement(
                consortium=consortium,
                kind="data_sharing",
                title=f"Data sharing {n:04d}",
                governing_law_id="DE",
                effective_on=datetime.date(2025, 1, 1),
                expires_on=datetime.date(2030, 1, 1),
                status="executed",
            )
            for n in range(AGREEMENTS)
        ),
        batch_size=1_000,
    )
    parties = []
    clause_sets: list[list[dict[str, Any]]] = []
    for n, agreement in enumerate(agreements):
        covered = datasets[n * DATASETS_PER_CLAUSE : (n + 1) * DATASETS_PER_CLAUSE]
        provider = covered[0].owner_id
        recipient = next(o.pk for o in rng.sample(organisations, 2) if o.pk != provider)
        parties += [
            Party(agreement=agreement, organisation_id=provider, role="data_provider"),
            Party(agreement=agreement, organisation_id=recipient, role="data_recipient"),
        ]
        clause_sets.append(
            [
                {
                    "key": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "level": 0,
                    "kind": "general",
                    "heading": "Definitions",
                    "body": "Terms used in this agreement.",
                    "terms": None,
                },
                {
                    "key": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "level": 0,
                    "kind": "data_usage",
                    "heading": "Use of the data",
                    "body": "See the terms.",
                    "terms": {**TERMS, "datasets": [dataset.pk for dataset in covered]},
                },
            ]
        )
    Party.objects.bulk_create(parties, batch_size=2_000)
    versions = AgreementVersion.objects.bulk_create(
        (
            AgreementVersion(
                agreement=agreement,
                number=1,
                status="draft",
                # What version_submit freezes: the hash of the canonical text of its clauses.
                content_hash=content.content_hash(clauses),
                created_by_display="Compliance bench",
            )
            for agreement, clauses in zip(agreements, clause_sets, strict=True)
        ),
        batch_size=1_000,
    )
    Clause.objects.bulk_create(
        (
            Clause(
                version=version,
                key=uuid.UUID(clause["key"]),
                position=position,
                level=clause["level"],
                kind=clause["kind"],
                heading=clause["heading"],
                body=clause["body"],
                terms=clause["terms"],
            )
            for version, clauses in zip(versions, clause_sets, strict=True)
            for position, clause in enumerate(clauses, start=1)
        ),
        batch_size=2_000,
    )
    # A database trigger takes clauses only into drafts, so the versions are executed after
    # their clauses are in, as the real pipeline does.
    AgreementVersion.objects.filter(pk__in=[version.pk for version in versions]).update(
        status="executed",
        frozen_at=executed_at - datetime.timedelta(days=30),
        executed_at=executed_at,
    )


def load_jobs(
    rng: random.Random,
    consortium: Any,
    organisations: list[Any],
    user: Any,
    dataset_ids: list[int],
    site_ids: list[int],
    count: int,
) -> None:
    """``count`` live jobs (proposed or running, ending after now), by COPY, with their
    datasets and sites."""
    from compute.compliance.models import Job

    now = datetime.datetime.now(UTC)
    created = now.isoformat()
    specs = []
    for _ in range(count):
        starts = now + datetime.timedelta(hours=rng.uniform(-30 * 24, 30 * 24))
        ends = max(starts, now) + datetime.timedelta(hours=rng.uniform(24, 60 * 24))
        movement = rng.choices(
            ["model_to_data", "data_to_compute", "federated"], weights=[7, 2, 1]
        )[0]
        sites = rng.sample(site_ids, rng.randint(1, 2))
        federated = movement == "federated"
        specs.append(
            (
                rng.sample(dataset_ids, rng.randint(1, 3)),
                sites,
                (
                    consortium.pk,
                    rng.choice(organisations).pk,
                    "",
                    None,
                    rng.choice(["research_and_development", "academic_research"]),
                    rng.choice(["train", "fine_tune", "evaluate"]),
                    movement,
                    "EU",
                    None,
                    starts,
                    ends,
                    rng.choice(["proposed", "running"]),
                    sites[0] if federated else None,
                    federated,
                    1.0 if federated else None,
                    user.pk,
                    created,
                ),
            )
        )
    first = (Job.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    copy_rows(
        Job._meta.db_table,
        [
            "consortium_id",
            "organisation_id",
            "name",
            "model_id",
            "purpose",
            "action",
            "movement",
            "output_jurisdiction_id",
            "output_site_id",
            "starts_at",
            "ends_at",
            "status",
            "aggregation_site_id",
            "secure_aggregation",
            "dp_epsilon",
            "proposed_by_id",
            "created_at",
        ],
        (row for _, _, row in specs),
    )
    # COPY keeps the order of its rows, and no one else writes jobs in the bench database.
    job_ids = list(
        Job.objects.filter(consortium=consortium, pk__gte=first)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert len(job_ids) == count, (len(job_ids), count)
    copy_rows(
        Job.datasets.through._meta.db_table,
        ["job_id", "dataset_id"],
        (
            (job, dataset)
            for job, (datasets, _, _) in zip(job_ids, specs, strict=True)
            for dataset in datasets
        ),
    )
    copy_rows(
        Job.sites.through._meta.db_table,
        ["job_id", "site_id"],
        ((job, site) for job, (_, sites, _) in zip(job_ids, specs, strict=True) for site in sites),
    )


def body_for(dataset: Any, sites: list[Any]) -> dict[str, Any]:
    """A realistic request: train on one FR dataset at an approved FR site, outputs kept in
    FR, next month."""
    site = next(site for site in sites if site.jurisdiction_id == dataset.residency_id)
    return {
        "consortium": dataset.consortium_id,
        "datasets": [dataset.pk],
        "sites": [site.pk],
        "purpose": "research_and_development",
        "action": "train",
        "movement": "model_to_data",
        "output_jurisdiction": "FR",
        "starts_at": "2027-02-01T00:00:00Z",
        "ends_at": "2027-02-10T00:00:00Z",
    }


def main() -> None:
    import django

    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261205)
    arguments = parser.parse_args()
    django.setup()
    from django.db import connection, transaction
    from knox.models import AuthToken

    rng = random.Random(arguments.seed)  # noqa: S311 - a reproducible fixture
    timer = Timer()
    with transaction.atomic():
        consortium, organisations, user = _world(rng)
        sites = _sites(consortium, user)
        timer.lap("consortium, organisations and 500 sites")
        datasets = _datasets(rng, consortium, organisations)
        timer.lap(f"{len(datasets):,} datasets")
        _agreements(rng, consortium, organisations, datasets)
        timer.lap(f"{AGREEMENTS:,} executed agreements (version, 2 clauses, 2 parties each)")
        load_jobs(
            rng,
            consortium,
            organisations,
            user,
            [dataset.pk for dataset in datasets],
            [site.pk for site in sites],
            arguments.jobs,
        )
        timer.lap(f"{arguments.jobs:,} live jobs (COPY)")
        _, token = AuthToken.objects.create(user=user)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    timer.lap("ANALYZE")

    from agreements.terms import clauses_in_force

    in_force = clauses_in_force(consortium_id=consortium.pk).count()
    assert in_force == AGREEMENTS, in_force
    dataset = next(d for d in datasets if d.residency_id == "FR" and not d.contains_personal_data)
    print(
        json.dumps(
            {
                "consortium": consortium.pk,
                "username": USERNAME,
                "token": token,
                "clauses_in_force": in_force,
                "body": body_for(dataset, sites),
                "load_s": timer.figures,
            }
        )
    )


if __name__ == "__main__":
    main()
