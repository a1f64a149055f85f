"""Reads of shared compute for the browser pages, through the access policy.

Each function starts from a ``compute.permissions.visible_*`` queryset (or from an object a
``get_*_for`` gate already returned), so a page shows only what its reader may see. The
figures over time (capacity, reserved, used per day) are computed here from the ledgers, in a
handful of queries per pool whatever the window.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, QuerySet, Sum
from django.utils import timezone

from agreements import permissions as agreement_permissions
from agreements.models import Dataset
from compute import directory, fairshare, permissions, shares
from compute.capacity import capacity_steps
from compute.charts import DailyCapacity, TimelineBar
from compute.models import (
    AllocationRequest,
    Approval,
    CapacityChange,
    Certification,
    Contribution,
    FairShareAlert,
    Loan,
    Pool,
    Provider,
    Reservation,
    Site,
)
from consortia import permissions as consortium_permissions
from consortia.models import Consortium, Jurisdiction, Membership, Organisation

UTC = datetime.UTC
HOUR = Decimal(3600)
# The pool page's chart: this many days back and ahead of today.
CHART_DAYS_BACK = 90
CHART_DAYS_AHEAD = 90


def midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=UTC)


# Pools


def pool_list(*, actor: Any, consortium_id: int | None = None) -> QuerySet[Pool]:
    pools = (
        permissions.visible_pools(actor)
        .select_related("consortium")
        .prefetch_related(Prefetch("sites", queryset=Site.objects.order_by("name")))
    )
    if consortium_id is not None:
        pools = pools.filter(consortium_id=consortium_id)
    return pools.order_by("name")


def _level_at(steps: list[tuple[datetime.datetime, int]], instant: datetime.datetime) -> int:
    level = 0
    for at, gpus in steps:
        if at > instant:
            break
        level = gpus
    return level


@dataclass(frozen=True)
class PoolSummary:
    """A pool's line on the consortium page."""

    pool: Pool
    sites: list[Site]
    capacity_now: int
    reserved_now: int
    open_requests: int


def pool_summaries(*, actor: Any, consortium_id: int | None = None) -> list[PoolSummary]:
    now = timezone.now()
    pools = list(pool_list(actor=actor, consortium_id=consortium_id))
    ids = [pool.pk for pool in pools]
    steps: dict[tuple[int, int], list[tuple[datetime.datetime, int]]] = defaultdict(list)
    for pool_id, site_id, at, gpus in (
        CapacityChange.objects.filter(pool_id__in=ids, effective_at__lte=now)
        .order_by("effective_at")
        .values_list("pool_id", "site_id", "effective_at", "gpus")
    ):
        steps[(pool_id, site_id)].append((at, gpus))
    reserved = dict(
        permissions.visible_reservations(actor)
        .filter(
            pool_id__in=ids,
            status=Reservation.Status.ACTIVE,
            starts_at__lte=now,
            ends_at__gt=now,
        )
        .values("pool_id")
        .annotate(gpus=Sum("gpus"))
        .order_by()
        .values_list("pool_id", "gpus")
    )
    waiting = dict(
        permissions.visible_requests(actor)
        .filter(pool_id__in=ids, status__in=AllocationRequest.OPEN)
        .values("pool_id")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("pool_id", "count")
    )
    summaries = []
    for pool in pools:
        sites = list(pool.sites.all())
        capacity = sum(_level_at(steps[(pool.pk, site.pk)], now) for site in sites)
        summaries.append(
            PoolSummary(
                pool=pool,
                sites=sites,
                capacity_now=capacity,
                reserved_now=reserved.get(pool.pk) or 0,
                open_requests=waiting.get(pool.pk) or 0,
            )
        )
    return summaries


@dataclass(frozen=True)
class SiteFacts:
    """A pool's site as the pool page shows it: where it is, who may administer it from
    where, and the certificates in force today."""

    site: Site
    administered_from: list[Jurisdiction]
    certifications: list[Certification]
    capacity_now: int
    usable: bool


def pool_sites(pool: Pool) -> list[SiteFacts]:
    today = timezone.localdate()
    now = timezone.now()
    sites = list(
        pool.sites.select_related("provider", "jurisdiction")
        .prefetch_related("administered_from")
        .order_by("name")
    )
    provider_ids = {site.provider_id for site in sites}
    in_force = list(
        Certification.objects.filter(
            provider_id__in=provider_ids, valid_from__lte=today, valid_until__gt=today
        ).order_by("scheme", "-valid_until")
    )
    usable = set(directory.usable_sites(pool.consortium_id).values_list("pk", flat=True))
    facts = []
    for site in sites:
        steps = capacity_steps(pool, site, now, now + datetime.timedelta(seconds=1))
        facts.append(
            SiteFacts(
                site=site,
                administered_from=list(site.administered_from.all()),
                certifications=[
                    certification
                    for certification in in_force
                    if certification.provider_id == site.provider_id
                    and certification.site_id in (None, site.pk)
                ],
                capacity_now=steps[0][1],
                usable=site.pk in usable,
            )
        )
    return facts


def _per_day(
    steps: list[tuple[datetime.datetime, int]], days: list[datetime.date]
) -> list[Decimal]:
    """A step function of GPUs integrated over each UTC day: GPU-hours per day."""
    totals = []
    for day in days:
        start, end = midnight(day), midnight(day + datetime.timedelta(days=1))
        total = Decimal(0)
        level = _level_at(steps, start)
        cursor = start
        for at, gpus in steps:
            if at <= start:
                continue
            if at >= end:
                break
            total += level * Decimal((at - cursor).total_seconds()) / HOUR
            cursor, level = at, gpus
        total += level * Decimal((end - cursor).total_seconds()) / HOUR
        totals.append(total)
    return totals


def chart_window(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """[first, last] days of the pool chart around ``today``."""
    today = today or timezone.localdate()
    return (
        today - datetime.timedelta(days=CHART_DAYS_BACK),
        today + datetime.timedelta(days=CHART_DAYS_AHEAD),
    )


def capacity_series(
    *, actor: Any, pool: Pool, first: datetime.date, last: datetime.date
) -> list[DailyCapacity]:
    """Per day from ``first`` to ``last`` (both included): the GPU-hours the pool offers
    (capacity ledger), holds (active reservations) and saw used (usage ledger; None for days
    after today)."""
    days = [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]
    start, end = midnight(first), midnight(last + datetime.timedelta(days=1))
    capacity = [Decimal(0)] * len(days)
    for site_id in pool.sites.values_list("pk", flat=True):
        steps = capacity_steps(pool, site_id, start, end)
        for index, value in enumerate(_per_day(steps, days)):
            capacity[index] += value
    reserved = _reserved_per_day(
        permissions.visible_reservations(actor)
        .filter(pool=pool, status=Reservation.Status.ACTIVE, starts_at__lt=end, ends_at__gt=start)
        .values_list("gpus", "starts_at", "ends_at"),
        days,
    )
    used_by_day = dict(
        permissions.visible_usage(actor)
        .filter(pool=pool, day__gte=first, day__lte=last)
        .values("day")
        .annotate(total=Sum("gpu_hours"))
        .order_by()
        .values_list("day", "total")
    )
    return _daily(days, capacity, reserved, used_by_day)


def consortium_capacity_series(
    *, actor: Any, consortium_id: int, first: datetime.date, last: datetime.date
) -> list[DailyCapacity]:
    """``capacity_series`` summed over every pool of the consortium ``actor`` sees, in four
    queries however many pools, sites, reservations and usage rows there are. GPU-hours of
    different GPU types add up as they are: the pools' own charts compare like with like."""
    days = [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]
    start, end = midnight(first), midnight(last + datetime.timedelta(days=1))
    pools = permissions.visible_pools(actor).filter(consortium_id=consortium_id)
    in_pool = set(
        Pool.sites.through.objects.filter(pool__in=pools.values("pk")).values_list(
            "pool_id", "site_id"
        )
    )
    steps: dict[tuple[int, int], list[tuple[datetime.datetime, int]]] = {
        pair: [(start, 0)] for pair in in_pool
    }
    for pool_id, site_id, effective_at, gpus in (
        CapacityChange.objects.filter(pool__in=pools.values("pk"), effective_at__lt=end)
        .order_by("effective_at", "pk")
        .values_list("pool_id", "site_id", "effective_at", "gpus")
    ):
        pair = (pool_id, site_id)
        if pair not in steps:
            continue  # a site since taken out of the pool, as on the pool's own chart
        if effective_at <= start:
            steps[pair][0] = (start, gpus)
        else:
            steps[pair].append((effective_at, gpus))
    capacity = [Decimal(0)] * len(days)
    for site_steps in steps.values():
        for index, value in enumerate(_per_day(site_steps, days)):
            capacity[index] += value
    reserved = _reserved_per_day(
        permissions.visible_reservations(actor)
        .filter(
            pool__in=pools.values("pk"),
            status=Reservation.Status.ACTIVE,
            starts_at__lt=end,
            ends_at__gt=start,
        )
        .values_list("gpus", "starts_at", "ends_at"),
        days,
    )
    used_by_day = dict(
        permissions.visible_usage(actor)
        .filter(pool__in=pools.values("pk"), day__gte=first, day__lte=last)
        .values("day")
        .annotate(total=Sum("gpu_hours"))
        .order_by()
        .values_list("day", "total")
    )
    return _daily(days, capacity, reserved, used_by_day)


def _reserved_per_day(
    reservations: Iterable[tuple[int, datetime.datetime, datetime.datetime]],
    days: list[datetime.date],
) -> list[Decimal]:
    """GPU-hours held per UTC day by reservations given as (GPUs, start, end)."""
    first = days[0]
    reserved = [Decimal(0)] * len(days)
    for gpus, starts_at, ends_at in reservations:
        first_index = max(0, (starts_at.astimezone(UTC).date() - first).days)
        last_index = min(len(days) - 1, (ends_at.astimezone(UTC).date() - first).days)
        for index in range(first_index, last_index + 1):
            day_start = midnight(days[index])
            day_end = day_start + datetime.timedelta(days=1)
            overlap = (min(ends_at, day_end) - max(starts_at, day_start)).total_seconds()
            if overlap > 0:
                reserved[index] += gpus * Decimal(overlap) / HOUR
    return reserved


def _daily(
    days: list[datetime.date],
    capacity: list[Decimal],
    reserved: list[Decimal],
    used_by_day: dict[datetime.date, Decimal],
) -> list[DailyCapacity]:
    today = timezone.localdate()
    tenth = Decimal("0.1")
    return [
        DailyCapacity(
            day=day,
            capacity=capacity[index].quantize(tenth),
            reserved=reserved[index].quantize(tenth),
            used=(used_by_day.get(day) or Decimal(0)).quantize(tenth) if day <= today else None,
        )
        for index, day in enumerate(days)
    ]


def reservation_list(
    *,
    actor: Any,
    pool: Pool,
    start: datetime.datetime | None = None,
    end: datetime.datetime | None = None,
) -> QuerySet[Reservation]:
    """The pool's active reservations, overlapping [start, end) when given."""
    reservations = (
        permissions.visible_reservations(actor)
        .filter(pool=pool, status=Reservation.Status.ACTIVE)
        .select_related("site", "organisation", "request")
        .order_by("starts_at", "pk")
    )
    if end is not None:
        reservations = reservations.filter(starts_at__lt=end)
    if start is not None:
        reservations = reservations.filter(ends_at__gt=start)
    return reservations


def timeline_bars(reservations: list[Reservation]) -> list[TimelineBar]:
    return [
        TimelineBar(
            label=f"Request {reservation.request.number} · {reservation.organisation.name}",
            starts_at=reservation.starts_at,
            ends_at=reservation.ends_at,
            gpus=reservation.gpus,
            site=reservation.site.name,
        )
        for reservation in reservations
    ]


def contribution_ledger(pool: Pool) -> QuerySet[Contribution]:
    return pool.contributions.select_related("organisation", "site", "recorded_by").order_by(
        "-contributed_on", "-pk"
    )


def capacity_history(pool: Pool) -> QuerySet[CapacityChange]:
    return pool.capacity_changes.select_related("site", "recorded_by").order_by(
        "-effective_at", "site__name"
    )


def loan_list(*, actor: Any, pool: Pool) -> QuerySet[Loan]:
    return (
        permissions.visible_loans(actor)
        .filter(pool=pool)
        .select_related("lender", "borrower")
        .order_by("-starts_on", "-pk")
    )


def member_organisations(consortium_id: int) -> QuerySet[Organisation]:
    """The consortium's active members: whom a contribution or a loan may name."""
    return Organisation.objects.filter(
        memberships__consortium_id=consortium_id, memberships__status=Membership.Status.ACTIVE
    ).order_by("name")


def statement_organisations(consortium_id: int) -> QuerySet[Organisation]:
    """Members that have a statement: admitted once (active, suspended or removed since)."""
    # One filter() call, so both conditions hold for the same membership: an exclude() on
    # the status would drop an organisation merely invited to some other consortium.
    return (
        Organisation.objects.filter(
            memberships__consortium_id=consortium_id,
            memberships__status__in=[
                Membership.Status.ACTIVE,
                Membership.Status.SUSPENDED,
                Membership.Status.REMOVED,
            ],
        )
        .order_by("name")
        .distinct()
    )


def consortium_datasets(*, actor: Any, consortium_id: int) -> QuerySet[Dataset]:
    return (
        agreement_permissions.visible_datasets(actor)
        .filter(consortium_id=consortium_id)
        .select_related("residency")
        .order_by("name")
    )


def usable_sites(consortium_id: int) -> QuerySet[Site]:
    return directory.usable_sites(consortium_id).select_related("provider").order_by("name")


# Requests


def request_queue(
    *, actor: Any, consortium_id: int, pool: Pool | None = None
) -> QuerySet[AllocationRequest]:
    """Open requests, the one whose window starts soonest (the board's deadline) first."""
    requests = (
        permissions.visible_requests(actor)
        .filter(consortium_id=consortium_id, status__in=AllocationRequest.OPEN)
        .select_related("pool", "organisation", "requested_by", "motion")
        .order_by("starts_at", "number")
    )
    if pool is not None:
        requests = requests.filter(pool=pool)
    return requests


def recent_decisions(
    *, actor: Any, consortium_id: int, pool: Pool | None = None, limit: int = 20
) -> list[AllocationRequest]:
    requests = (
        permissions.visible_requests(actor)
        .filter(consortium_id=consortium_id)
        .exclude(status__in=AllocationRequest.OPEN)
        .select_related("pool", "organisation")
        .order_by("-decided_at", "-number")
    )
    if pool is not None:
        requests = requests.filter(pool=pool)
    return list(requests[:limit])


def request_detail(*, actor: Any, pk: Any) -> AllocationRequest:
    request = permissions.get_request_for(actor, pk)
    return (
        permissions.visible_requests(actor)
        .select_related(
            "consortium", "pool", "organisation", "requested_by", "decided_by", "motion"
        )
        .prefetch_related(
            Prefetch("sites", queryset=Site.objects.order_by("name")),
            Prefetch("datasets", queryset=Dataset.objects.order_by("name")),
        )
        .get(pk=request.pk)
    )


def request_reservations(*, actor: Any, request: AllocationRequest) -> QuerySet[Reservation]:
    return (
        permissions.visible_reservations(actor)
        .filter(request=request)
        .select_related("site")
        .order_by("starts_at", "site__name")
    )


# Fair share


def open_alerts(
    *, actor: Any, consortium_id: int, pool: Pool | None = None
) -> QuerySet[FairShareAlert]:
    alerts = FairShareAlert.objects.filter(
        pool__in=permissions.visible_pools(actor).filter(consortium_id=consortium_id),
        cleared_at__isnull=True,
    ).select_related("pool", "organisation")
    if pool is not None:
        alerts = alerts.filter(pool=pool)
    return alerts.order_by("-raised_at")


def pool_fair_share(pool: Pool) -> list[fairshare.MemberFairShare]:
    return fairshare.fair_share(pool)


def consortium_fair_share(consortium: Consortium) -> list[fairshare.MemberFairShare]:
    return fairshare.fair_share_across_pools(consortium)


# The directory


def provider_list(*, actor: Any) -> QuerySet[Provider]:
    return (
        permissions.visible_providers(actor)
        .select_related("head_office_jurisdiction", "ultimate_parent_jurisdiction")
        .annotate(site_count=Count("sites", distinct=True))
        .prefetch_related("exposures")
        .order_by("legal_name")
    )


def provider_detail(*, actor: Any, pk: Any) -> Provider:
    provider = permissions.get_provider_for(actor, pk)
    return (
        permissions.visible_providers(actor)
        .select_related("head_office_jurisdiction", "ultimate_parent_jurisdiction")
        .prefetch_related(
            "exposures",
            Prefetch(
                "certifications",
                queryset=Certification.objects.select_related("site").order_by(
                    "scheme", "-valid_until"
                ),
            ),
            Prefetch(
                "sites",
                queryset=Site.objects.select_related("jurisdiction")
                .prefetch_related("administered_from")
                .order_by("name"),
            ),
        )
        .get(pk=provider.pk)
    )


def provider_sites(*, actor: Any, provider: Provider) -> QuerySet[Site]:
    return permissions.visible_sites(actor).filter(provider=provider).order_by("name")


def jurisdictions() -> QuerySet[Jurisdiction]:
    return Jurisdiction.objects.order_by("-kind", "name")


def countries() -> QuerySet[Jurisdiction]:
    return Jurisdiction.objects.filter(kind=Jurisdiction.Kind.COUNTRY).order_by("name")


def approval_list(*, actor: Any, consortium_id: int) -> QuerySet[Approval]:
    if not consortium_permissions.visible_consortia(actor).filter(pk=consortium_id).exists():
        return Approval.objects.none()
    return (
        Approval.objects.filter(consortium_id=consortium_id)
        .select_related("provider", "site__provider", "approved_by", "motion")
        .order_by("-valid_from", "-pk")
    )


@dataclass(frozen=True)
class ShareRow:
    """A member's line of the pool's shares table."""

    organisation: Organisation
    contributed: Decimal
    share: Decimal


def share_table(pool: Pool) -> list[ShareRow]:
    """Today's shares (from the contribution ledger) with what each member has put in."""
    current = shares.shares(pool)
    contributed = dict(
        pool.contributions.values("organisation_id")
        .annotate(total=Sum("value"))
        .order_by()
        .values_list("organisation_id", "total")
    )
    organisations = Organisation.objects.filter(pk__in=set(current) | set(contributed)).order_by(
        "name"
    )
    return [
        ShareRow(
            organisation=organisation,
            contributed=contributed.get(organisation.pk) or Decimal(0),
            share=current.get(organisation.pk, Decimal(0)),
        )
        for organisation in organisations
    ]


def all_sites(*, actor: Any) -> QuerySet[Site]:
    return (
        permissions.visible_sites(actor)
        .select_related("provider")
        .order_by("provider__legal_name", "name")
    )
