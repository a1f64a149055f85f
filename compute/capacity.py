"""Capacity over time and the one rule about it: at no instant do a site's active reservations
in a pool add up to more GPUs than the site has in that pool.

Capacity and reservations are both step functions of time, so the rule holds everywhere in a
window when it holds at every step inside it; the checks below walk those steps. Whoever adds
a reservation or lowers capacity holds the pool's row lock (``lock``) for the rest of the
transaction, so two approvals racing for the last GPUs are decided one after the other, each
seeing the other's reservation.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from alliance.errors import ConflictError
from audit.models import Action
from audit.services import audit_record
from compute import permissions
from compute.models import (
    AllocationRequest,
    CapacityChange,
    Pool,
    Reservation,
    Site,
)
from compute.permissions import ComputeAction
from consortia.models import User

Step = tuple[datetime.datetime, int]


def lock(pool: Pool) -> Pool:
    """Take the pool's row lock until the transaction ends (call inside one)."""
    return Pool.objects.select_for_update().get(pk=pool.pk)


def capacity_steps(
    pool: Pool, site: Site | int, start: datetime.datetime, end: datetime.datetime
) -> list[Step]:
    """(from, GPUs) steps of the site's capacity in the pool covering [start, end)."""
    site_id = site if isinstance(site, int) else site.pk
    # Ordered by the instant alone: the model's default ordering joins the pool's tables.
    changes = CapacityChange.objects.filter(pool=pool, site_id=site_id).order_by("effective_at")
    before = changes.filter(effective_at__lte=start).values_list("gpus", flat=True).last()
    steps: list[Step] = [(start, before or 0)]
    steps.extend(
        changes.filter(effective_at__gt=start, effective_at__lt=end).values_list(
            "effective_at", "gpus"
        )
    )
    return steps


def reserved_steps(
    pool: Pool,
    site: Site | int,
    start: datetime.datetime,
    end: datetime.datetime,
) -> list[Step]:
    """(from, GPUs reserved) steps over [start, end), from the active reservations there.
    ``pool`` must be fresh (or locked, for a check that decides): its longest reservation
    bounds the look-back."""
    site_id = site if isinstance(site, int) else site.pk
    deltas: dict[datetime.datetime, int] = defaultdict(int)
    deltas[start] += 0
    overlapping = (
        Reservation.objects.filter(
            pool=pool,
            site_id=site_id,
            status=Reservation.Status.ACTIVE,
            # Bounded on both sides of starts_at, so the index range is the window plus the
            # pool's longest reservation, however many reservations the pool has in all.
            starts_at__gt=start - pool.longest_reservation,
            starts_at__lt=end,
            ends_at__gt=start,
        )
        .order_by()  # the model's ordering joins pool and consortium; a sweep needs none
        .values_list("starts_at", "ends_at", "gpus")
    )
    for starts_at, ends_at, gpus in overlapping:
        deltas[max(starts_at, start)] += gpus
        if ends_at < end:
            deltas[ends_at] -= gpus
    level = 0
    steps: list[Step] = []
    for instant in sorted(deltas):
        level += deltas[instant]
        steps.append((instant, level))
    return steps


def _level_at(steps: list[Step], instant: datetime.datetime) -> int:
    level = 0
    for start, value in steps:
        if start > instant:
            break
        level = value
    return level


@dataclass(frozen=True)
class Squeeze:
    """The tightest instant of a window: when, how many GPUs exist and how many are held."""

    at: datetime.datetime
    capacity: int
    reserved: int
    usable: int  # what ordinary allocations may fill: capacity less the board's reserve

    @property
    def free(self) -> int:
        return self.usable - self.reserved


def tightest(
    pool: Pool,
    site: Site | int,
    start: datetime.datetime,
    end: datetime.datetime,
    *,
    from_reserve: bool = False,
) -> Squeeze:
    """The instant in [start, end) with the fewest free GPUs at the site. Ordinary allocations
    leave the board's reserve free; ``from_reserve`` (urgent work the board grants) may use it.
    ``pool`` must be fresh (or locked): its longest reservation bounds the look-back."""
    capacity = capacity_steps(pool, site, start, end)
    keep = Decimal(1) if from_reserve else Decimal(1) - pool.board_reserve
    segments = [
        (
            at,
            capacity[index + 1][0] if index + 1 < len(capacity) else end,
            gpus,
            int((gpus * keep).to_integral_value(rounding=ROUND_FLOOR)),
        )
        for index, (at, gpus) in enumerate(capacity)
    ]
    site_id = site if isinstance(site, int) else site.pk
    if connection.vendor == "postgresql":
        return _tightest_in_postgresql(pool, site_id, start, end, segments)
    return _tightest_in_python(pool, site_id, start, end, segments)


Segment = tuple[datetime.datetime, datetime.datetime, int, int]  # from, until, GPUs, usable


def _tightest_in_python(
    pool: Pool,
    site_id: int,
    start: datetime.datetime,
    end: datetime.datetime,
    segments: list[Segment],
) -> Squeeze:
    reserved = reserved_steps(pool, site_id, start, end)
    instants = sorted({at for at, *_ in segments} | {at for at, _ in reserved})
    squeezes = []
    for at in instants:
        _, _, gpus, usable = next(s for s in reversed(segments) if s[0] <= at)
        squeezes.append(Squeeze(at, gpus, _level_at(reserved, at), usable))
    return min(squeezes, key=lambda squeeze: (squeeze.free, squeeze.at))


# The same sweep as reserved_steps + tightest, done by PostgreSQL: with hundreds of
# reservations overlapping any window, shipping them to Python costs far more than summing
# them where they are (see `make bench`). Only the tightest instant comes back.
_TIGHTEST_SQL = """
WITH overlapping AS (
    SELECT starts_at, ends_at, gpus FROM {reservation}
    WHERE pool_id = %(pool)s AND site_id = %(site)s AND status = 'active'
      AND starts_at > %(look_back)s AND starts_at < %(end)s AND ends_at > %(start)s
), segment AS (
    SELECT * FROM unnest(
        %(segment_starts)s::timestamptz[], %(segment_ends)s::timestamptz[],
        %(capacities)s::int[], %(usables)s::int[]
    ) AS s(starts_at, ends_at, capacity, usable)
), event AS (
    SELECT greatest(starts_at, %(start)s) AS at, gpus AS delta FROM overlapping
    UNION ALL SELECT ends_at, -gpus FROM overlapping WHERE ends_at < %(end)s
    UNION ALL SELECT starts_at, 0 FROM segment
), level AS (
    SELECT at, sum(sum(delta)) OVER (ORDER BY at) AS reserved FROM event GROUP BY at
)
SELECT level.at, segment.capacity, level.reserved::int, segment.usable
FROM level JOIN segment ON level.at >= segment.starts_at AND level.at < segment.ends_at
ORDER BY segment.usable - level.reserved, level.at
LIMIT 1
"""


def _tightest_in_postgresql(
    pool: Pool,
    site_id: int,
    start: datetime.datetime,
    end: datetime.datetime,
    segments: list[Segment],
) -> Squeeze:
    with connection.cursor() as cursor:
        cursor.execute(
            _TIGHTEST_SQL.format(reservation=Reservation._meta.db_table),
            {
                "pool": pool.pk,
                "site": site_id,
                "look_back": start - pool.longest_reservation,
                "start": start,
                "end": end,
                "segment_starts": [segment[0] for segment in segments],
                "segment_ends": [segment[1] for segment in segments],
                "capacities": [segment[2] for segment in segments],
                "usables": [segment[3] for segment in segments],
            },
        )
        at, gpus, reserved, usable = cursor.fetchone()
    return Squeeze(at, gpus, reserved, usable)


def free_gpus(
    pool: Pool,
    site: Site | int,
    start: datetime.datetime,
    end: datetime.datetime,
    *,
    from_reserve: bool = False,
) -> int:
    return max(0, tightest(pool, site, start, end, from_reserve=from_reserve).free)


def reserve(
    *,
    pool: Pool,
    site: Site,
    request: AllocationRequest,
    gpus: int,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    from_reserve: bool = False,
) -> Reservation:
    """Hold ``gpus`` at ``site`` over the window, or refuse naming the tightest instant. The
    caller holds the pool's lock (``lock``) inside the transaction that records the decision."""
    errors: dict[str, str] = {}
    if gpus <= 0:
        errors["gpus"] = "Reserve at least one GPU."
    if ends_at <= starts_at:
        errors["ends_at"] = "A reservation ends after it starts."
    if not pool.sites.filter(pk=site.pk).exists():
        errors["site"] = f"{site} is not one of the sites of {pool}."
    if errors:
        raise ValidationError(errors)
    squeeze = tightest(pool, site, starts_at, ends_at, from_reserve=from_reserve)
    if squeeze.free < gpus:
        kept = "" if from_reserve else f", {squeeze.capacity - squeeze.usable} kept in reserve"
        raise ConflictError(
            f"{site.name} has {max(squeeze.free, 0)} of {squeeze.capacity} GPUs free at "
            f"{squeeze.at:%Y-%m-%d %H:%M} UTC ({squeeze.reserved} reserved{kept}); "
            f"{gpus} cannot be reserved over this window.",
            code="capacity_exhausted",
        )
    return hold(
        pool=pool, site=site, request=request, gpus=gpus, starts_at=starts_at, ends_at=ends_at
    )


def hold(
    *,
    pool: Pool,
    site: Site,
    request: AllocationRequest,
    gpus: int,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
) -> Reservation:
    """Record a reservation whose room the caller has found (``tightest``) under the pool's
    lock, in the same transaction. Keeps the pool's longest reservation up to date, which
    bounds how far back ``reserved_steps`` looks."""
    reservation = Reservation.objects.create(
        pool=pool,
        site=site,
        request=request,
        organisation_id=request.organisation_id,
        gpus=gpus,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    if ends_at - starts_at > pool.longest_reservation:
        pool.longest_reservation = ends_at - starts_at
        Pool.objects.filter(pk=pool.pk).update(longest_reservation=pool.longest_reservation)
    return reservation


@transaction.atomic
def capacity_change(
    *,
    actor: User,
    pool: Pool,
    site: Site,
    effective_at: datetime.datetime,
    gpus: int,
    reason: str = "",
) -> CapacityChange:
    """From ``effective_at`` the site has ``gpus`` GPUs in the pool (until the next recorded
    change). Lowering it below what is reserved is refused, naming the reservations in the way:
    the board releases or moves them first, so no member's approved capacity silently vanishes."""
    permissions.require(actor, ComputeAction.CHANGE_CAPACITY, pool.consortium_id, pool)
    pool = lock(pool)
    errors: dict[str, str] = {}
    if gpus < 0:
        errors["gpus"] = "Capacity is a number of GPUs, zero or more."
    if not pool.sites.filter(pk=site.pk).exists():
        errors["site"] = f"{site} is not one of the sites of {pool}."
    if CapacityChange.objects.filter(pool=pool, site=site, effective_at=effective_at).exists():
        errors["effective_at"] = (
            "A change is already recorded for that instant; record a later one."
        )
    if errors:
        raise ValidationError(errors)
    following = (
        CapacityChange.objects.filter(pool=pool, site=site, effective_at__gt=effective_at)
        .order_by("effective_at")
        .values_list("effective_at", flat=True)
        .first()
    )
    until = following or max(effective_at, timezone.now()) + datetime.timedelta(days=3650)
    reserved = reserved_steps(pool, site, effective_at, until)
    over = [(at, level) for at, level in reserved if level > gpus]
    if over:
        at, level = over[0]
        in_the_way = (
            Reservation.objects.filter(
                pool=pool,
                site=site,
                status=Reservation.Status.ACTIVE,
                starts_at__lt=until,
                ends_at__gt=effective_at,
            )
            .filter(Q(starts_at__lte=at) & Q(ends_at__gt=at))
            .select_related("request")
            .order_by("starts_at")
        )
        names = ", ".join(
            f"request {reservation.request.number} ({reservation.gpus} GPUs)"
            for reservation in in_the_way
        )
        raise ConflictError(
            f"{level} GPUs are reserved at {site.name} on {at:%Y-%m-%d %H:%M} UTC, more than "
            f"{gpus}: {names}. Release or move them before lowering capacity.",
            code="capacity_below_reserved",
        )
    previous = _level_at(capacity_steps(pool, site, effective_at, until), effective_at)
    change = CapacityChange.objects.create(
        pool=pool,
        site=site,
        effective_at=effective_at,
        gpus=gpus,
        reason=reason.strip(),
        recorded_by=actor,
    )
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        consortium_id=pool.consortium_id,
        target=change,
        related=pool,
        changes={
            "site": {"before": None, "after": site.name},
            "gpus": {"before": previous, "after": gpus},
            "effective_at": {"before": None, "after": effective_at.isoformat()},
        },
        reason=reason.strip(),
    )
    return change


def capacity_gpu_hours(
    pool: Pool, start: datetime.datetime, end: datetime.datetime, site: Site | int | None = None
) -> Decimal:
    """GPU-hours the pool (or one of its sites) offers over [start, end): capacity integrated
    over time."""
    site_ids = (
        [site if isinstance(site, int) else site.pk]
        if site is not None
        else list(pool.sites.values_list("pk", flat=True))
    )
    total = Decimal(0)
    for site_id in site_ids:
        steps = capacity_steps(pool, site_id, start, end)
        for index, (at, gpus) in enumerate(steps):
            until = steps[index + 1][0] if index + 1 < len(steps) else end
            total += gpus * Decimal((until - at).total_seconds()) / Decimal(3600)
    return total.quantize(Decimal("0.1"))
