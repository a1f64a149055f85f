"""Providers, sites, one pool per consortium with its capacity and allocations, and the
daily usage ledger (COPY: the largest table of a seeded world).

Every pool draws on two approved sites of one provider with 256 GPUs each; granted
allocations hold at most 240 GPUs at any instant, and a member uses at most 24 GPU-hours a
day at a site, so the ledger stays within what the sites could deliver.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from alliance.seeding.copying import Progress, copy_objects, copy_rows, indexes_deferred, next_id
from alliance.seeding.people import END, PREFIX, START, People
from compute.models import (
    AllocationRequest,
    Approval,
    CapacityChange,
    GPUType,
    Pool,
    Provider,
    Reservation,
    Site,
    UsageRecord,
)

SITES_PER_PROVIDER = 3
SITES_PER_POOL = 2
SITE_GPUS = 256
SITE_COUNTRIES = ("DE", "FR", "FI", "SE", "NL", "AE", "SA")


@dataclass(frozen=True)
class SeededPool:
    id: int
    name: str
    consortium_id: int
    site_ids: tuple[int, ...]


def seed_compute(people: People, rng: random.Random, progress: Progress) -> list[SeededPool]:
    with progress.timed("providers, sites, pools"):
        pools = _pools(people)
    _allocations(people, pools, rng, progress)
    return pools


def _pools(people: People) -> list[SeededPool]:
    size = people.size
    registrar = people.consortia[0].chair
    assert registrar is not None
    provider_id, site_id = next_id(Provider), next_id(Site)
    providers: list[Provider] = []
    sites: list[Site] = []
    for index in range(size.providers):
        country = SITE_COUNTRIES[index % len(SITE_COUNTRIES)]
        providers.append(
            Provider(
                pk=provider_id + index,
                legal_name=f"{PREFIX} Compute Provider {index:03d}",
                head_office_jurisdiction_id=country,
                ultimate_parent_jurisdiction_id=country,
                registered_by_id=registrar.user_id,
            )
        )
        for number in range(SITES_PER_PROVIDER):
            sites.append(
                Site(
                    pk=site_id + len(sites),
                    provider_id=provider_id + index,
                    name=f"{country}-{number + 1}",
                    jurisdiction_id=country,
                )
            )
    Provider.objects.bulk_create(providers)
    Site.objects.bulk_create(sites)
    pool_id = next_id(Pool)
    pool_rows, pool_sites, approvals, capacity = [], [], [], []
    seeded: list[SeededPool] = []
    for index, consortium in enumerate(people.consortia):
        assert consortium.chair is not None
        provider = index % size.providers
        chosen = tuple(
            site_id + provider * SITES_PER_PROVIDER + number for number in range(SITES_PER_POOL)
        )
        name = f"{consortium.name} GPU pool"
        pool_rows.append(
            Pool(
                pk=pool_id + index,
                consortium_id=consortium.id,
                name=name,
                gpu_type=GPUType.values[index % len(GPUType.values)],
                created_by_id=consortium.chair.user_id,
                longest_reservation=datetime.timedelta(days=30),
            )
        )
        approvals.append(
            Approval(
                consortium_id=consortium.id,
                provider_id=provider_id + provider,
                valid_from=START.date(),
                approved_by_id=consortium.chair.user_id,
            )
        )
        for chosen_site in chosen:
            pool_sites.append(Pool.sites.through(pool_id=pool_id + index, site_id=chosen_site))
            capacity.append(
                CapacityChange(
                    pool_id=pool_id + index,
                    site_id=chosen_site,
                    effective_at=START,
                    gpus=SITE_GPUS,
                    recorded_by_id=consortium.chair.user_id,
                )
            )
        seeded.append(SeededPool(pool_id + index, name, consortium.id, chosen))
    Pool.objects.bulk_create(pool_rows)
    Pool.sites.through.objects.bulk_create(pool_sites)
    Approval.objects.bulk_create(approvals)
    CapacityChange.objects.bulk_create(capacity)
    return seeded


def _allocations(
    people: People, pools: list[SeededPool], rng: random.Random, progress: Progress
) -> None:
    request_id, reservation_id = next_id(AllocationRequest), next_id(Reservation)
    requests, request_sites, reservations = [], [], []
    for consortium, pool in zip(people.consortia, pools, strict=True):
        assert consortium.chair is not None
        for number in range(1, people.size.allocations_per_pool + 1):
            person = rng.choice(consortium.technical)
            starts = START + datetime.timedelta(days=rng.randrange(600))
            ends = starts + datetime.timedelta(days=rng.randint(1, 30))
            gpus = rng.randint(1, 12)
            draw = rng.random()
            status = "approved" if draw < 0.7 else "rejected" if draw < 0.85 else "submitted"
            decided = status != "submitted"
            requests.append(
                AllocationRequest(
                    pk=request_id,
                    consortium_id=consortium.id,
                    number=number,
                    pool_id=pool.id,
                    organisation_id=person.organisation_id,
                    requested_by_id=person.user_id,
                    gpus=gpus,
                    starts_at=starts,
                    ends_at=ends,
                    purpose=f"Training run {number} for {person.organisation_name}",
                    status=status,
                    granted_gpus=gpus if status == "approved" else None,
                    granted_starts_at=starts if status == "approved" else None,
                    granted_ends_at=ends if status == "approved" else None,
                    decision_reason="" if status != "rejected" else "The pool is full then.",
                    decided_by_id=consortium.chair.user_id if decided else None,
                    decided_at=starts - datetime.timedelta(days=3) if decided else None,
                )
            )
            request_sites.append(
                AllocationRequest.sites.through(
                    allocationrequest_id=request_id, site_id=pool.site_ids[0]
                )
            )
            if status == "approved":
                reservations.append(
                    Reservation(
                        pk=reservation_id,
                        pool_id=pool.id,
                        site_id=pool.site_ids[0],
                        request_id=request_id,
                        organisation_id=person.organisation_id,
                        gpus=gpus,
                        starts_at=starts,
                        ends_at=ends,
                        status="active" if ends > END else "released",
                    )
                )
                reservation_id += 1
            request_id += 1
    copy_objects(
        AllocationRequest,
        requests,
        progress=progress,
        label="allocation requests",
        stamped_at=START,
    )
    AllocationRequest.sites.through.objects.bulk_create(request_sites, batch_size=5_000)
    copy_objects(
        Reservation, reservations, progress=progress, label="reservations", stamped_at=START
    )


USAGE_COLUMNS = (
    "id",
    "pool_id",
    "site_id",
    "organisation_id",
    "day",
    "gpu_hours",
    "reported_by_id",
    "reported_at",
)


def seed_usage(
    people: People, pools: list[SeededPool], rng: random.Random, progress: Progress
) -> int:
    """``size.usage_rows`` rows: every reporting member at every site of its pool, day by
    day, back from the end of the seeded period, as many days as it takes."""
    reporters = []
    for consortium, pool in zip(people.consortia, pools, strict=True):
        technical = {person.organisation_id: person for person in consortium.technical}
        for organisation_id, status in consortium.members:
            if status in ("active", "suspended") and organisation_id in technical:
                for site in pool.site_ids:
                    reporters.append(
                        (pool.id, site, organisation_id, technical[organisation_id].user_id)
                    )
    per_day = len(reporters)
    days = -(-people.size.usage_rows // per_day)
    first_day = END.date() - datetime.timedelta(days=days)
    first_id = next_id(UsageRecord)

    # Values go to COPY as the text PostgreSQL parses: formatting a day or an amount once,
    # not once per row, is most of what makes five million rows quick.
    amounts = [f"{hundredths // 100}.{hundredths % 100:02d}" for hundredths in range(2_400)]

    def rows() -> Iterator[tuple[Any, ...]]:
        produced = 0
        for offset in range(days):
            day = first_day + datetime.timedelta(days=offset)
            day_text = day.isoformat()
            reported_at = f"{day + datetime.timedelta(days=1)} 02:00:00+00"
            for pool_id, site_id, organisation_id, user_id in reporters:
                if produced == people.size.usage_rows:
                    return
                yield (
                    first_id + produced,
                    pool_id,
                    site_id,
                    organisation_id,
                    day_text,
                    amounts[int(rng.random() * 2_400)],
                    user_id,
                    reported_at,
                )
                produced += 1

    big = people.size.usage_rows > people.size.rebuild_indexes_above
    with indexes_deferred(UsageRecord, progress) if big else nullcontext():
        return copy_rows(
            UsageRecord, USAGE_COLUMNS, rows(), progress=progress, label="usage records"
        )
