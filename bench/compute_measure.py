"""Shared compute at size.

1. The overbooking check with 100,000 reservations already in the pool: the median time of
   one board approval (lock the pool, find the tightest instant of the window at each site,
   reserve, audit), and of the check alone, against the floor of inserting one reservation
   with no check at all, in the same database.
2. Fair share for 200 members over 1,000,000 daily usage rows, computed in the database
   (decayed usage per member in one aggregate), against the floor of the plain undecayed
   SUM ... GROUP BY over the same rows.

Run by bench/run.py as ``python -m bench.compute_measure`` with DJANGO_SETTINGS_MODULE set;
prints one JSON object.
"""

from __future__ import annotations

import datetime
import io
import json
import random
import statistics
import time
import uuid
from decimal import Decimal
from typing import Any

UTC = datetime.UTC
RESERVATIONS = 100_000
MEMBERS = 200
USAGE_SITES = 5
USAGE_DAYS = 1_000  # 200 members x 5 sites x 1,000 days = 1,000,000 rows
SPAN_START = datetime.datetime(2024, 1, 1, tzinfo=UTC)
SPAN_DAYS = 3_650


def _world(tag: str) -> tuple[Any, Any, list[Any], Any, Any]:
    """A consortium with MEMBERS active members, a provider with USAGE_SITES approved sites, a
    board member of another organisation, and a requester."""
    from compute.models import Approval, Provider, Site
    from consortia.models import Consortium, Membership, Organisation, RoleAssignment, User

    consortium = Consortium.objects.create(
        name=f"Compute bench {tag}",
        partnership_model_id="infrastructure_pool",
        home_jurisdiction_id="EU",
    )
    organisations = Organisation.objects.bulk_create(
        Organisation(
            name=f"Bench member {tag} {n}",
            kind="company",
            home_jurisdiction_id="FR",
            registration_id=f"BENCH-{tag}-{n}",
        )
        for n in range(MEMBERS)
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
    board = User.objects.create(username=f"bench-board-{tag}", organisation=organisations[0])
    requester = User.objects.create(username=f"bench-req-{tag}", organisation=organisations[1])
    RoleAssignment.objects.create(consortium=consortium, user=board, role="capacity_board")
    RoleAssignment.objects.create(consortium=consortium, user=requester, role="technical")
    provider = Provider.objects.create(
        legal_name=f"Bench provider {tag}",
        head_office_jurisdiction_id="FR",
        ultimate_parent_jurisdiction_id="FR",
        registered_by=board,
    )
    sites = [
        Site.objects.create(provider=provider, name=f"Site {n}", jurisdiction_id="FR")
        for n in range(USAGE_SITES)
    ]
    Approval.objects.create(
        consortium=consortium, provider=provider, valid_from=datetime.date(2020, 1, 1)
    )
    return consortium, organisations, sites, board, requester


def _pool(consortium: Any, sites: list[Any], board: Any, gpus: int) -> Any:
    from compute.models import CapacityChange, Pool

    pool = Pool.objects.create(
        consortium=consortium,
        name="Bench pool",
        gpu_type="H100",
        created_by=board,
        vote_above_gpu_hours=Decimal(10**9),
    )
    pool.sites.set(sites)
    CapacityChange.objects.bulk_create(
        CapacityChange(pool=pool, site=site, effective_at=SPAN_START, gpus=gpus, recorded_by=board)
        for site in sites
    )
    return pool


def _copy(model: Any, columns: list[str], rows: Any) -> None:
    """COPY rows into the model's table: the fastest way PostgreSQL takes a million rows."""
    from django.db import connection

    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(str(value) for value in row) + "\n")
    buffer.seek(0)
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(
            f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
        ) as copy,
    ):
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def overbooking(rng: random.Random) -> dict[str, Any]:
    from django.db import connection, transaction

    from compute import allocations, capacity
    from compute.models import AllocationRequest, Pool, Reservation

    consortium, organisations, sites, board, requester = _world(uuid.uuid4().hex[:6])
    site = sites[0]
    pool = _pool(consortium, [site], board, gpus=4_000)
    holder = AllocationRequest.objects.create(
        consortium=consortium,
        number=1,
        pool=pool,
        organisation=organisations[1],
        requested_by=requester,
        gpus=1,
        starts_at=SPAN_START,
        ends_at=SPAN_START + datetime.timedelta(days=1),
        purpose="Holds the bench's existing reservations",
        status="approved",
    )
    now = datetime.datetime.now(UTC)

    def existing() -> Any:
        # Spread over ten years, 1-8 GPUs for 1-30 days: about 425 overlap any instant,
        # holding about 1,900 of the 4,000 GPUs.
        for _ in range(RESERVATIONS):
            start = SPAN_START + datetime.timedelta(hours=rng.randrange(SPAN_DAYS * 24))
            end = start + datetime.timedelta(days=rng.randint(1, 30))
            yield (
                pool.pk,
                site.pk,
                holder.pk,
                organisations[1].pk,
                rng.randint(1, 8),
                start.isoformat(),
                end.isoformat(),
                "active",
                now.isoformat(),
            )

    _copy(
        Reservation,
        [
            "pool_id",
            "site_id",
            "request_id",
            "organisation_id",
            "gpus",
            "starts_at",
            "ends_at",
            "status",
            "created_at",
        ],
        existing(),
    )
    # As if they had been reserved through the service, which keeps this up to date.
    Pool.objects.filter(pk=pool.pk).update(longest_reservation=datetime.timedelta(days=30))
    pool.refresh_from_db()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Reservation._meta.db_table}")

    def window() -> tuple[datetime.datetime, datetime.datetime]:
        start = datetime.datetime(2027, 1, 1, tzinfo=UTC) + datetime.timedelta(
            hours=rng.randrange(365 * 24)
        )
        return start, start + datetime.timedelta(days=10)

    floors, checks, approvals = [], [], []
    for _ in range(60):
        start, end = window()
        request = allocations.request_submit(
            actor=requester,
            pool=pool,
            gpus=1,
            starts_at=start,
            ends_at=end,
            purpose="Bench approval",
            sites=[site],
        )
        with transaction.atomic():
            began = time.perf_counter()
            Reservation.objects.create(
                pool=pool,
                site=site,
                request=holder,
                organisation=organisations[1],
                gpus=1,
                starts_at=start,
                ends_at=end,
            )
            floors.append(time.perf_counter() - began)
            transaction.set_rollback(True)
        began = time.perf_counter()
        capacity.tightest(pool, site, start, end)
        checks.append(time.perf_counter() - began)
        began = time.perf_counter()
        allocations.request_decide(actor=board, request=request, decision="approve")
        approvals.append(time.perf_counter() - began)
    floor = statistics.median(floors)
    return {
        "reservations": Reservation.objects.filter(pool=pool).count(),
        "floor_ms": floor * 1000,
        "check_ms": statistics.median(checks) * 1000,
        "approval_ms": statistics.median(approvals) * 1000,
        "check_ratio": statistics.median(checks) / floor,
        "approval_ratio": statistics.median(approvals) / floor,
    }


def fair_share(rng: random.Random) -> dict[str, Any]:
    from django.db.models import F, Sum

    from compute import fairshare, shares
    from compute.models import Contribution, UsageRecord

    consortium, organisations, sites, board, _ = _world(uuid.uuid4().hex[:6])
    pool = _pool(consortium, sites, board, gpus=512)
    Contribution.objects.bulk_create(
        Contribution(
            pool=pool,
            organisation=organisation,
            kind="capital",
            amount=Decimal(rng.randint(10, 1000) * 1000),
            value=Decimal(0),
            contributed_on=datetime.date(2024, 1, 1),
            recorded_by=board,
        )
        for organisation in organisations
    )
    Contribution.objects.filter(pool=pool).update(value=F("amount"))
    first_day = datetime.date(2024, 1, 1)
    now = datetime.datetime.now(UTC).isoformat()

    def usage() -> Any:
        for day_index in range(USAGE_DAYS):
            day = (first_day + datetime.timedelta(days=day_index)).isoformat()
            for site in sites:
                for organisation in organisations:
                    yield (
                        pool.pk,
                        site.pk,
                        organisation.pk,
                        day,
                        f"{rng.uniform(0, 60):.2f}",
                        board.pk,
                        now,
                    )

    began = time.perf_counter()
    _copy(
        UsageRecord,
        [
            "pool_id",
            "site_id",
            "organisation_id",
            "day",
            "gpu_hours",
            "reported_by_id",
            "reported_at",
        ],
        usage(),
    )
    loaded = time.perf_counter() - began
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {UsageRecord._meta.db_table}")
    on = first_day + datetime.timedelta(days=USAGE_DAYS)
    floors, computed = [], []
    for _ in range(7):
        began = time.perf_counter()
        dict(
            UsageRecord.objects.filter(pool=pool, day__lte=on)
            .values("organisation_id")
            .annotate(total=Sum("gpu_hours"))
            .order_by()
            .values_list("organisation_id", "total")
        )
        floors.append(time.perf_counter() - began)
        began = time.perf_counter()
        rows = fairshare.fair_share(pool, on)
        computed.append(time.perf_counter() - began)
    assert len(rows) == MEMBERS, len(rows)
    assert abs(sum(shares.shares(pool, on).values(), Decimal(0)) - 1) < Decimal("0.001")
    floor = statistics.median(floors)
    return {
        "rows": UsageRecord.objects.filter(pool=pool).count(),
        "members": len(rows),
        "load_s": loaded,
        "floor_ms": floor * 1000,
        "fair_share_ms": statistics.median(computed) * 1000,
        "ratio": statistics.median(computed) / floor,
    }


def main() -> None:
    import django

    django.setup()
    rng = random.Random(20261203)  # noqa: S311 - a reproducible fixture
    print(json.dumps({"overbooking": overbooking(rng), "fair_share": fair_share(rng)}))


if __name__ == "__main__":
    main()
