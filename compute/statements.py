"""A member's statement for a period: what it was entitled to in each pool, and what it did
with it.

Per pool: the share at the period's end; the entitlement (share * capacity over the period,
less the board reserve); what was reserved for it; what it used (the usage ledger's days in
the period); what it lent and borrowed (each loan counted for the days it overlaps the
period); and the balance, entitlement + borrowed - lent - used. Reserved GPU-hours are shown
but not subtracted: a reservation is a promise of capacity, usage is what was consumed.

Periods are half-open, like loans: ``period_end`` is the first day after the period.
"""

from __future__ import annotations

import calendar
import csv
import datetime
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from decimal import Decimal

from django.db.models import QuerySet, Sum

from compute.capacity import capacity_gpu_hours
from compute.models import Loan, Pool, Reservation, UsageRecord
from compute.shares import shares
from consortia.models import Consortium, Membership, Organisation

UTC = datetime.UTC
CENTS = Decimal("0.01")
ZERO = Decimal("0.00")


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=UTC)


def entitlement_gpu_hours(
    pool: Pool, share: Decimal, start: datetime.date, end: datetime.date
) -> Decimal:
    """share * (1 - board reserve) * the pool's capacity over [start, end)."""
    capacity = capacity_gpu_hours(pool, _midnight(start), _midnight(end))
    return (share * (1 - pool.board_reserve) * capacity).quantize(CENTS)


def reserved_gpu_hours(
    pool: Pool, organisation_id: int, start: datetime.date, end: datetime.date
) -> Decimal:
    """GPU-hours of the member's active reservations in the pool, clipped to [start, end)."""
    period_start, period_end = _midnight(start), _midnight(end)
    total = Decimal(0)
    for gpus, starts_at, ends_at in Reservation.objects.filter(
        pool=pool,
        organisation_id=organisation_id,
        status=Reservation.Status.ACTIVE,
        starts_at__lt=period_end,
        ends_at__gt=period_start,
    ).values_list("gpus", "starts_at", "ends_at"):
        seconds = (min(ends_at, period_end) - max(starts_at, period_start)).total_seconds()
        total += gpus * Decimal(seconds) / Decimal(3600)
    return total.quantize(CENTS)


def prorated_loan_gpu_hours(
    loans: Iterable[Loan], start: datetime.date, end: datetime.date
) -> Decimal:
    """Each loan's GPU-hours times the part of its days that fall in [start, end)."""
    total = Decimal(0)
    for loan in loans:
        length = (loan.ends_on - loan.starts_on).days
        total += loan.gpu_hours * loan.days_in(start, end) / length
    return total.quantize(CENTS)


def _running_loans(pool: Pool, start: datetime.date, end: datetime.date) -> QuerySet[Loan]:
    return Loan.objects.filter(
        pool=pool, cancelled_at__isnull=True, starts_on__lt=end, ends_on__gt=start
    )


def lent_gpu_hours(
    pool: Pool, organisation_id: int, start: datetime.date, end: datetime.date
) -> Decimal:
    loans = _running_loans(pool, start, end).filter(lender_id=organisation_id)
    return prorated_loan_gpu_hours(loans, start, end)


def borrowed_gpu_hours(
    pool: Pool, organisation_id: int, start: datetime.date, end: datetime.date
) -> Decimal:
    loans = _running_loans(pool, start, end).filter(borrower_id=organisation_id)
    return prorated_loan_gpu_hours(loans, start, end)


def used_gpu_hours(
    pool: Pool, organisation_id: int, start: datetime.date, end: datetime.date
) -> Decimal:
    total = UsageRecord.objects.filter(
        pool=pool, organisation_id=organisation_id, day__gte=start, day__lt=end
    ).aggregate(total=Sum("gpu_hours"))["total"]
    return (total or Decimal(0)).quantize(CENTS)


@dataclass(frozen=True)
class StatementTotals:
    """GPU-hour figures added up over a statement's pools (shares do not add up)."""

    capacity_gpu_hours: Decimal
    entitlement_gpu_hours: Decimal
    reserved_gpu_hours: Decimal
    used_gpu_hours: Decimal
    lent_gpu_hours: Decimal
    borrowed_gpu_hours: Decimal
    balance_gpu_hours: Decimal


@dataclass(frozen=True)
class StatementRow(StatementTotals):
    """One pool's line of a statement."""

    pool_id: int
    pool_name: str
    gpu_type: str
    consortium_name: str
    share: Decimal


@dataclass(frozen=True)
class Statement:
    """A member's figures for a period, ready to render: one row per pool and the totals."""

    organisation_id: int
    organisation_name: str
    period_start: datetime.date
    period_end: datetime.date  # the first day after the period
    label: str
    rows: list[StatementRow]
    totals: StatementTotals

    @property
    def last_day(self) -> datetime.date:
        return self.period_end - datetime.timedelta(days=1)


TOTAL_FIELDS = tuple(field.name for field in fields(StatementTotals))


def _statement_row(
    pool: Pool, organisation: Organisation, start: datetime.date, end: datetime.date
) -> StatementRow:
    share = shares(pool, end - datetime.timedelta(days=1)).get(organisation.pk, Decimal(0))
    capacity = capacity_gpu_hours(pool, _midnight(start), _midnight(end)).quantize(CENTS)
    entitlement = (share * (1 - pool.board_reserve) * capacity).quantize(CENTS)
    used = used_gpu_hours(pool, organisation.pk, start, end)
    lent = lent_gpu_hours(pool, organisation.pk, start, end)
    borrowed = borrowed_gpu_hours(pool, organisation.pk, start, end)
    return StatementRow(
        pool_id=pool.pk,
        pool_name=pool.name,
        gpu_type=pool.gpu_type,
        consortium_name=pool.consortium.name,
        share=share,
        capacity_gpu_hours=capacity,
        entitlement_gpu_hours=entitlement,
        reserved_gpu_hours=reserved_gpu_hours(pool, organisation.pk, start, end),
        used_gpu_hours=used,
        lent_gpu_hours=lent,
        borrowed_gpu_hours=borrowed,
        balance_gpu_hours=entitlement + borrowed - lent - used,
    )


def statement(
    pool: Pool | None,
    organisation: Organisation,
    period_start: datetime.date,
    period_end: datetime.date,
    *,
    consortium: Consortium | None = None,
    label: str = "",
) -> Statement:
    """The member's statement over [period_start, period_end): for ``pool``, or for every pool
    of ``consortium`` (or, without one, of every consortium it has been admitted to).

    Callers check ``permissions.can_read_statement`` first: this only computes."""
    if period_end <= period_start:
        raise ValueError("A period ends after it starts.")
    if pool is not None:
        pools = [pool]
    else:
        queryset = Pool.objects.select_related("consortium").order_by("consortium__name", "name")
        if consortium is not None:
            queryset = queryset.filter(consortium=consortium)
        else:
            admitted = Membership.objects.filter(organisation=organisation).exclude(
                status=Membership.Status.INVITED
            )
            queryset = queryset.filter(consortium_id__in=admitted.values("consortium_id"))
        pools = list(queryset)
    rows = [_statement_row(item, organisation, period_start, period_end) for item in pools]
    totals = StatementTotals(
        **{name: sum((getattr(row, name) for row in rows), ZERO) for name in TOTAL_FIELDS}
    )
    last_day = period_end - datetime.timedelta(days=1)
    return Statement(
        organisation_id=organisation.pk,
        organisation_name=organisation.name,
        period_start=period_start,
        period_end=period_end,
        label=label or f"{period_start.isoformat()} to {last_day.isoformat()}",
        rows=rows,
        totals=totals,
    )


PERIOD_KINDS = ("month", "quarter")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_QUARTER = re.compile(r"(\d{4})-[Qq](\d+)")
PERIOD_HINT = "Write a period as YYYY-MM for a month (2026-03) or YYYY-QN for a quarter (2026-Q1)."


def period_bounds(kind: str, year: int, index: int) -> tuple[datetime.date, datetime.date]:
    """[start, end) of month ``index`` (1-12) or quarter ``index`` (1-4) of ``year``."""
    if not 1 <= year <= 9998:
        raise ValueError(f"Year {year} is out of range.")
    if kind == "month":
        if not 1 <= index <= 12:
            raise ValueError(f"There is no month {index}: months are 01 to 12.")
        first_month, months = index, 1
    elif kind == "quarter":
        if not 1 <= index <= 4:
            raise ValueError(f"There is no quarter Q{index}: quarters are Q1 to Q4.")
        first_month, months = 3 * (index - 1) + 1, 3
    else:
        raise ValueError(f"A period is a month or a quarter, not {kind!r}.")
    start = datetime.date(year, first_month, 1)
    end_month = first_month + months
    end = datetime.date(year + 1, 1, 1) if end_month > 12 else datetime.date(year, end_month, 1)
    return start, end


def parse_period(text: str) -> tuple[datetime.date, datetime.date, str]:
    """(start, end, label) of "2026-03" (March 2026) or "2026-Q1"; ValueError says how to
    write it otherwise."""
    cleaned = text.strip()
    if match := _MONTH.fullmatch(cleaned):
        year, month = int(match[1]), int(match[2])
        start, end = period_bounds("month", year, month)
        return start, end, f"{calendar.month_name[month]} {year}"
    if match := _QUARTER.fullmatch(cleaned):
        year, quarter = int(match[1]), int(match[2])
        start, end = period_bounds("quarter", year, quarter)
        return start, end, f"Q{quarter} {year}"
    shown = repr(cleaned) if cleaned else "An empty period"
    raise ValueError(f"{shown} is not a period. {PERIOD_HINT}")


CSV_HEADER = (
    "organisation",
    "period",
    "consortium",
    "pool",
    "gpu_type",
    "share",
    "capacity_gpu_hours",
    "entitlement_gpu_hours",
    "reserved_gpu_hours",
    "used_gpu_hours",
    "lent_gpu_hours",
    "borrowed_gpu_hours",
    "balance_gpu_hours",
)


def _text_cell(value: str) -> str:
    # A cell starting like a formula runs as one in a spreadsheet; names come from users.
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def statement_csv(statement: Statement) -> str:
    """The statement as CSV: a header, one line per pool, then a "Total" line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    organisation = _text_cell(statement.organisation_name)
    for row in statement.rows:
        writer.writerow(
            [
                organisation,
                statement.label,
                _text_cell(row.consortium_name),
                _text_cell(row.pool_name),
                row.gpu_type,
                str(row.share),
                *(str(getattr(row, name)) for name in TOTAL_FIELDS),
            ]
        )
    writer.writerow(
        [
            organisation,
            statement.label,
            "",
            "Total",
            "",
            "",
            *(str(getattr(statement.totals, name)) for name in TOTAL_FIELDS),
        ]
    )
    return buffer.getvalue()
