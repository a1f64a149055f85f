"""Fair share: who has used more, or less, of a pool than its share, and alerts when it is far.

The figures are Slurm's (https://slurm.schedmd.com/fair_tree.html, classic fair share):

- S, the entitlement share: the contribution ledger's share (``shares.shares``), moved by the
  loans running that day: a loan moves ``gpu_hours / entitled capacity over the loan`` from
  lender to borrower, where entitled capacity is the pool's capacity over the loan's period
  less the board reserve (what shares divide), so lending one's whole entitlement moves one's
  whole share;
- U_H, decayed usage: every reported GPU-hour counted at 0.5^(age in days / half-life), so
  last month's heavy user is not punished forever;
- U = U_H / (U_H of all listed members), 0 when nobody used anything;
- F = 2^(-U/S), the classic factor (0 without a share, 1 while unused);
- LF = S/U, Fair Tree's level fair share; None stands for "infinite" (a share and no
  usage) and ranks first. Without a share LF is 0, whatever the usage.

The decay is summed in the database, in one aggregate query over the pool's usage: the
ledger grows by members * sites rows a day, and only the members (a few hundred at most) are
looped over in Python. Floats are used for these figures throughout; they are rounded for
display only.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.db import NotSupportedError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import DateField, F, FloatField, Func, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Power
from django.db.models.sql.compiler import SQLCompiler
from django.urls import reverse
from django.utils import timezone

from audit.models import Action
from audit.services import audit_record
from compute.capacity import capacity_gpu_hours, lock
from compute.models import AllocationRequest, FairShareAlert, Loan, Pool, UsageRecord
from compute.shares import shares
from consortia.inbox import Notification, deliver
from consortia.models import Consortium, Membership, Role, User

UTC = datetime.UTC
# Past this many half-lives a GPU-hour weighs under 1e-18 of a fresh one: leaving it out
# changes no figure but keeps the aggregate on the (pool, day) index range.
DECAY_HORIZON_HALF_LIVES = 60
LISTED_STATUSES = (Membership.Status.ACTIVE, Membership.Status.SUSPENDED)
RATIO_LIMIT = Decimal("9999999.999")  # FairShareAlert.ratio's largest value


class DaysBefore(Func):
    """Days from a date column to a given day, as a float: ``on - day``.

    PostgreSQL subtracts dates into whole days (cast so a division by the half-life is not
    integer division); SQLite has no date type and goes through Julian day numbers."""

    output_field = FloatField()

    def __init__(self, on: datetime.date, column: str) -> None:
        super().__init__(Value(on, output_field=DateField()), F(column))

    def _operands(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, str, list[Any]]:
        on_sql, on_params = compiler.compile(self.source_expressions[0])
        day_sql, day_params = compiler.compile(self.source_expressions[1])
        return on_sql, day_sql, [*on_params, *day_params]

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, list[Any]]:
        on_sql, day_sql, params = self._operands(compiler, connection)
        return f"CAST(({on_sql})::date - {day_sql} AS double precision)", params

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, list[Any]]:
        on_sql, day_sql, params = self._operands(compiler, connection)
        return f"(julianday({on_sql}) - julianday({day_sql}))", params

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, list[Any]]:
        raise NotSupportedError(
            f"DaysBefore is written for PostgreSQL and SQLite, not {connection.vendor}."
        )


def decayed_gpu_hours(on: datetime.date, half_life_days: int) -> Sum:
    """sum of gpu_hours * 0.5^((on - day) / half-life), as an aggregate over UsageRecord rows."""
    weight = Power(Value(0.5), DaysBefore(on, "day") / Value(float(half_life_days)))
    return Sum(Cast("gpu_hours", FloatField()) * weight, output_field=FloatField())


@dataclass(frozen=True)
class MemberFairShare:
    """One member's fair-share figures in a pool (or across a consortium's pools) on a day."""

    organisation_id: int
    organisation_name: str
    contribution_share: float  # S before loans, from the contribution ledger
    share: float  # S, after the loans running that day
    decayed_gpu_hours: float  # U_H
    usage_fraction: float  # U
    factor: float  # F = 2^(-U/S)
    level: float | None  # LF = S/U; None when U = 0 and S > 0 (infinite)
    rank: int  # 1 = most under-served (highest LF)
    used_gpu_hours_30d: Decimal  # raw GPU-hours reported for the 30 days ending that day

    @property
    def usage_over_share(self) -> float | None:
        """U/S, what the alerts compare with the pool's thresholds; None without a share."""
        return self.usage_fraction / self.share if self.share > 0 else None


def _figures(
    members: Iterable[tuple[int, str]],
    contribution_share: dict[int, float],
    share: dict[int, float],
    decayed: dict[int, float],
    used_30d: dict[int, Decimal],
) -> list[MemberFairShare]:
    members = list(members)
    whole = sum(decayed.get(pk, 0.0) for pk, _ in members)
    rows: list[MemberFairShare] = []
    for pk, name in members:
        s = share.get(pk, 0.0)
        u_h = decayed.get(pk, 0.0)
        u = u_h / whole if whole > 0 else 0.0
        factor = 2 ** (-u / s) if s > 0 else 0.0
        level = (s / u if u > 0 else None) if s > 0 else 0.0
        rows.append(
            MemberFairShare(
                organisation_id=pk,
                organisation_name=name,
                contribution_share=contribution_share.get(pk, 0.0),
                share=s,
                decayed_gpu_hours=u_h,
                usage_fraction=u,
                factor=factor,
                level=level,
                rank=0,
                used_gpu_hours_30d=used_30d.get(pk, Decimal(0)),
            )
        )
    rows.sort(
        key=lambda row: (
            row.level is not None,
            -(row.level or 0.0),
            row.organisation_name,
            row.organisation_id,
        )
    )
    return [replace(row, rank=index) for index, row in enumerate(rows, start=1)]


def _members(consortium_id: int) -> list[tuple[int, str]]:
    return list(
        Membership.objects.filter(consortium_id=consortium_id, status__in=LISTED_STATUSES)
        .order_by("organisation__name")
        .values_list("organisation_id", "organisation__name")
    )


def _entitled_capacity(pool: Pool, starts_on: datetime.date, ends_on: datetime.date) -> Decimal:
    start = datetime.datetime.combine(starts_on, datetime.time(), tzinfo=UTC)
    end = datetime.datetime.combine(ends_on, datetime.time(), tzinfo=UTC)
    return capacity_gpu_hours(pool, start, end) * (1 - pool.board_reserve)


def loan_share_shifts(pool: Pool, on: datetime.date) -> dict[int, float]:
    """How much share each member gains (borrowers) or gives up (lenders) through the loans
    running on ``on``."""
    shift: dict[int, float] = {}
    for loan in Loan.objects.filter(
        pool=pool, cancelled_at__isnull=True, starts_on__lte=on, ends_on__gt=on
    ):
        entitled = _entitled_capacity(pool, loan.starts_on, loan.ends_on)
        if entitled <= 0:
            continue
        moved = float(loan.gpu_hours / entitled)
        shift[loan.borrower_id] = shift.get(loan.borrower_id, 0.0) + moved
        shift[loan.lender_id] = shift.get(loan.lender_id, 0.0) - moved
    return shift


def _pool_inputs(
    pool: Pool, on: datetime.date
) -> tuple[dict[int, float], dict[int, float], dict[int, float], dict[int, Decimal]]:
    contribution_share = {pk: float(value) for pk, value in shares(pool, on).items()}
    share = dict(contribution_share)
    for pk, moved in loan_share_shifts(pool, on).items():
        # A loan is bounded by the lender's entitlement when granted; capacity cut later
        # could push the arithmetic below zero, and a negative share means nothing.
        share[pk] = max(0.0, share.get(pk, 0.0) + moved)
    horizon = on - datetime.timedelta(days=DECAY_HORIZON_HALF_LIVES * pool.half_life_days)
    decayed: dict[int, float] = {}
    used_30d: dict[int, Decimal] = {}
    for row in (
        UsageRecord.objects.filter(pool=pool, day__lte=on, day__gte=horizon)
        .values("organisation_id")
        .annotate(
            decayed=decayed_gpu_hours(on, pool.half_life_days),
            recent=Sum("gpu_hours", filter=Q(day__gt=on - datetime.timedelta(days=30))),
        )
        .order_by()
    ):
        decayed[row["organisation_id"]] = float(row["decayed"] or 0.0)
        # SQLite sums decimals as floats; the ledger keeps hundredths.
        used_30d[row["organisation_id"]] = Decimal(row["recent"] or 0).quantize(Decimal("0.01"))
    return contribution_share, share, decayed, used_30d


def fair_share(pool: Pool, on: datetime.date | None = None) -> list[MemberFairShare]:
    """Every active or suspended member's fair share of ``pool`` on ``on`` (today by
    default), most under-served first. U is normalised over the members listed: usage of
    organisations that have left drops out of the comparison, as their shares did."""
    on = on or timezone.localdate()
    contribution_share, share, decayed, used_30d = _pool_inputs(pool, on)
    return _figures(_members(pool.consortium_id), contribution_share, share, decayed, used_30d)


def fair_share_across_pools(
    consortium: Consortium, on: datetime.date | None = None
) -> list[MemberFairShare]:
    """Each member's fair share over all of the consortium's pools together.

    S is each pool's S weighted by the pool's capacity (GPU-hours) over its own last
    half-life ending on ``on``: the window the decayed usage mostly reflects, so a pool that
    is large now counts for more than one that was large a year ago (pools nobody has paid
    into yet are left out of the weights, so the shares still sum to 1). U_H is the sum of the
    pools' decayed GPU-hours (each decayed with its own pool's half-life), normalised over
    all members like a single pool's. GPU-hours of different GPU types are added as they
    are: the pools' own figures are the place to compare like with like."""
    on = on or timezone.localdate()
    end = datetime.datetime.combine(on + datetime.timedelta(days=1), datetime.time(), tzinfo=UTC)
    weighted_contribution: dict[int, float] = {}
    weighted_share: dict[int, float] = {}
    decayed: dict[int, float] = {}
    used_30d: dict[int, Decimal] = {}
    total_weight = 0.0
    for pool in Pool.objects.filter(consortium=consortium).order_by("pk"):
        start = end - datetime.timedelta(days=pool.half_life_days)
        weight = float(capacity_gpu_hours(pool, start, end))
        contribution_share, share, pool_decayed, pool_used = _pool_inputs(pool, on)
        if contribution_share:  # a pool nobody has paid into yet divides nothing
            total_weight += weight
        for pk, value in contribution_share.items():
            weighted_contribution[pk] = weighted_contribution.get(pk, 0.0) + weight * value
        for pk, value in share.items():
            weighted_share[pk] = weighted_share.get(pk, 0.0) + weight * value
        for pk, value in pool_decayed.items():
            decayed[pk] = decayed.get(pk, 0.0) + value
        for pk, amount in pool_used.items():
            used_30d[pk] = used_30d.get(pk, Decimal(0)) + amount
    if total_weight > 0:
        contribution = {pk: value / total_weight for pk, value in weighted_contribution.items()}
        share = {pk: value / total_weight for pk, value in weighted_share.items()}
    else:
        contribution, share = {}, {}
    return _figures(_members(consortium.pk), contribution, share, decayed, used_30d)


def _ratio(row: MemberFairShare) -> Decimal:
    over = row.usage_over_share or 0.0
    return min(Decimal(str(round(over, 3))), RATIO_LIMIT)


@transaction.atomic
def check_alerts(pool: Pool, on: datetime.date | None = None) -> list[FairShareAlert]:
    """Raise the alerts whose condition holds on ``on`` and clear those that no longer hold;
    return the alerts raised now. Running it twice raises nothing the second time.

    Overuse: U/S above the pool's ``overuse_multiple``. Starved: an open allocation request
    in the pool and U below ``starvation_fraction`` * S. Members without a share get
    neither: there is nothing to over- or under-use (the fair-share page shows F = 0)."""
    pool = lock(pool)  # two runs at once would both see no open alert and both raise one
    rows = {row.organisation_id: row for row in fair_share(pool, on)}
    waiting = set(
        AllocationRequest.objects.filter(pool=pool, status__in=AllocationRequest.OPEN).values_list(
            "organisation_id", flat=True
        )
    )
    overuse_multiple = float(pool.overuse_multiple)
    starvation_fraction = float(pool.starvation_fraction)
    holds: set[tuple[int, str]] = set()
    for pk, row in rows.items():
        if row.share <= 0:
            continue
        if row.usage_fraction / row.share > overuse_multiple:
            holds.add((pk, FairShareAlert.Kind.OVERUSE))
        if pk in waiting and row.usage_fraction < starvation_fraction * row.share:
            holds.add((pk, FairShareAlert.Kind.STARVED))
    open_alerts = {
        (alert.organisation_id, alert.kind): alert
        for alert in FairShareAlert.objects.filter(pool=pool, cleared_at__isnull=True)
    }
    now = timezone.now()
    for key, alert in sorted(open_alerts.items()):
        if key in holds:
            continue
        alert.cleared_at = now
        alert.save(update_fields=["cleared_at"])
        audit_record(
            action=Action.UPDATE,
            actor=None,
            consortium_id=pool.consortium_id,
            target=alert,
            related=pool,
            changes={"cleared_at": {"before": None, "after": now}},
        )
    raised: list[FairShareAlert] = []
    for organisation_id, kind in sorted(holds - set(open_alerts)):
        row = rows[organisation_id]
        alert = FairShareAlert.objects.create(
            pool=pool, organisation_id=organisation_id, kind=kind, ratio=_ratio(row)
        )
        # This event is what webhooks will carry: keep its changes self-explanatory.
        audit_record(
            action=Action.CREATE,
            actor=None,
            consortium_id=pool.consortium_id,
            target=alert,
            related=pool,
            changes={
                "organisation": {"before": None, "after": row.organisation_name},
                "kind": {"before": None, "after": kind},
                "ratio": {"before": None, "after": str(alert.ratio)},
                "share": {"before": None, "after": f"{row.share:.6f}"},
                "usage_fraction": {"before": None, "after": f"{row.usage_fraction:.6f}"},
            },
        )
        _notify(pool, alert, row)
        raised.append(alert)
    return raised


def alert_people(pool: Pool, organisation_id: int) -> QuerySet[User]:
    """The member's chair and steering representatives, and the pool's capacity board."""
    consortium_id = pool.consortium_id
    # One filter() call, so each branch constrains a single role assignment row.
    return User.objects.filter(
        Q(
            role_assignments__consortium_id=consortium_id,
            role_assignments__role__in=[Role.CHAIR, Role.STEERING_MEMBER],
            organisation_id=organisation_id,
        )
        | Q(
            role_assignments__consortium_id=consortium_id,
            role_assignments__role=Role.CAPACITY_BOARD,
            organisation__memberships__consortium_id=consortium_id,
            organisation__memberships__status=Membership.Status.ACTIVE,
        ),
        is_active=True,
    )


def _notify(pool: Pool, alert: FairShareAlert, row: MemberFairShare) -> None:
    if alert.kind == FairShareAlert.Kind.OVERUSE:
        subject = f"Fair share: {row.organisation_name} is using more than its share of {pool.name}"
        why = f"more than {pool.overuse_multiple}x its share"
    else:
        subject = f"Fair share: {row.organisation_name} is starved in {pool.name}"
        why = f"less than {pool.starvation_fraction}x its share while a request of it waits"
    deliver(
        alert_people(pool, alert.organisation_id),
        kind=Notification.Kind.FAIR_SHARE_ALERT,
        subject=subject,
        body=f"{row.organisation_name} has used {row.usage_fraction:.1%} of the recent (decayed) "
        f"usage of {pool.name} for a share of {row.share:.1%}: {alert.ratio}x its share, {why}.\n"
        f"Its fair-share factor is {row.factor:.3f}.",
        url=reverse("compute:pool", args=[pool.pk]),
        consortium=pool.consortium_id,
    )
