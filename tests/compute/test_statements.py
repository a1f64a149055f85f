"""Statements for a period against figures worked out by hand; periods; the CSV.

March 2026 has 31 days: the pool's 24 GPUs offer 24 x 24 x 31 = 17856 GPU-hours. Chair Org
contributed 300 and Member Org 100 before March (shares 0.75 and 0.25); Chair Org's further
400 in April does not change March's shares.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest

from compute.models import AllocationRequest, Loan, Pool, Reservation, UsageRecord
from compute.shares import contribution_record
from compute.statements import (
    CSV_HEADER,
    Statement,
    parse_period,
    period_bounds,
    statement,
    statement_csv,
)
from consortia.models import Organisation
from tests.compute.conftest import Grid, at

MARCH = (datetime.date(2026, 3, 1), datetime.date(2026, 4, 1))


def contribute(grid: Grid, organisation: Organisation, amount: str, on: datetime.date) -> None:
    contribution_record(
        actor=grid.world.chair,
        pool=grid.pool,
        organisation=organisation,
        kind="capital",
        amount=Decimal(amount),
        contributed_on=on,
    )


def use(grid: Grid, organisation: Organisation, gpu_hours: str, day: str) -> None:
    UsageRecord.objects.create(
        pool=grid.pool,
        site=grid.paris,
        organisation=organisation,
        day=datetime.date.fromisoformat(day),
        gpu_hours=Decimal(gpu_hours),
        reported_by=grid.technician,
    )


@pytest.fixture
def march(grid: Grid) -> Grid:
    world = grid.world
    contribute(grid, world.org_chair, "300", datetime.date(2026, 2, 1))
    contribute(grid, world.org_member, "100", datetime.date(2026, 2, 1))
    contribute(grid, world.org_chair, "400", datetime.date(2026, 4, 1))
    request = AllocationRequest.objects.create(
        consortium=world.consortium_a,
        number=1,
        pool=grid.pool,
        organisation=world.org_member,
        requested_by=world.member,
        gpus=4,
        starts_at=at("2026-03-30"),
        ends_at=at("2026-04-02"),
        purpose="Evaluation",
        status=AllocationRequest.Status.APPROVED,
    )
    for status in (Reservation.Status.ACTIVE, Reservation.Status.RELEASED):
        Reservation.objects.create(
            pool=grid.pool,
            site=grid.paris,
            request=request,
            organisation=world.org_member,
            gpus=4,
            starts_at=at("2026-03-30"),
            ends_at=at("2026-04-02"),
            status=status,
        )
    for day, gpu_hours in (
        ("2026-02-28", "30"),
        ("2026-03-05", "100"),
        ("2026-03-31", "50.25"),
        ("2026-04-01", "70"),
    ):
        use(grid, world.org_member, gpu_hours, day)
    for cancelled_at in (None, at("2026-03-01")):
        Loan.objects.create(
            pool=grid.pool,
            lender=world.org_member,
            borrower=world.org_chair,
            gpu_hours=Decimal("620"),
            starts_on=datetime.date(2026, 3, 25),
            ends_on=datetime.date(2026, 4, 4),
            created_by=world.member,
            cancelled_at=cancelled_at,
        )
    return grid


def test_month_by_hand(march: Grid) -> None:
    result = statement(march.pool, march.world.org_member, *MARCH, label="March 2026")
    (row,) = result.rows
    assert (row.pool_name, row.gpu_type, row.share) == ("H100 pool", "H100", Decimal("0.25"))
    assert row.capacity_gpu_hours == Decimal("17856.00")
    # 0.25 x (1 - 0.05) x 17856 = 4240.80
    assert row.entitlement_gpu_hours == Decimal("4240.80")
    # The active reservation's 4 GPUs from 30 March to 1 April (48 hours) = 192; the
    # released one does not count.
    assert row.reserved_gpu_hours == Decimal("192.00")
    # 100 (5 March) + 50.25 (31 March); not 28 February nor 1 April.
    assert row.used_gpu_hours == Decimal("150.25")
    # 620 GPU-hours over 25 March - 4 April (10 days), 7 of them in March: 434; the cancelled
    # twin does not count.
    assert (row.lent_gpu_hours, row.borrowed_gpu_hours) == (Decimal("434.00"), Decimal(0))
    # 4240.80 + 0 - 434 - 150.25
    assert row.balance_gpu_hours == Decimal("3656.55")
    assert result.label == "March 2026"
    assert result.last_day == datetime.date(2026, 3, 31)

    (chair,) = statement(march.pool, march.world.org_chair, *MARCH).rows
    # 0.75 x 0.95 x 17856 = 12722.40, plus 434 borrowed.
    assert chair.share == Decimal("0.75")
    assert (chair.entitlement_gpu_hours, chair.borrowed_gpu_hours) == (
        Decimal("12722.40"),
        Decimal("434.00"),
    )
    assert chair.balance_gpu_hours == Decimal("13156.40")


def test_quarter_and_every_pool(march: Grid) -> None:
    world = march.world
    idle = Pool.objects.create(
        consortium=world.consortium_a, name="A100 pool", gpu_type="A100", created_by=world.chair
    )
    start, end, label = parse_period("2026-Q1")
    result = statement(None, world.org_member, start, end, label=label)
    assert [row.pool_name for row in result.rows] == ["A100 pool", "H100 pool"]
    idle_row, h100 = result.rows
    assert idle_row.pool_id == idle.pk
    assert idle_row.entitlement_gpu_hours == idle_row.balance_gpu_hours == 0
    # Q1: 90 days x 576 = 51840 GPU-hours; 0.25 x 0.95 x 51840 = 12312.
    assert h100.entitlement_gpu_hours == Decimal("12312.00")
    # 30 (28 February) + 100 + 50.25
    assert h100.used_gpu_hours == Decimal("180.25")
    assert result.totals.entitlement_gpu_hours == Decimal("12312.00")
    assert result.totals.balance_gpu_hours == Decimal("12312.00") - Decimal("434.00") - Decimal(
        "180.25"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03", (datetime.date(2026, 3, 1), datetime.date(2026, 4, 1), "March 2026")),
        ("2026-12", (datetime.date(2026, 12, 1), datetime.date(2027, 1, 1), "December 2026")),
        (" 2026-Q1 ", (datetime.date(2026, 1, 1), datetime.date(2026, 4, 1), "Q1 2026")),
        ("2026-q4", (datetime.date(2026, 10, 1), datetime.date(2027, 1, 1), "Q4 2026")),
    ],
)
def test_parse_period(text: str, expected: tuple[datetime.date, datetime.date, str]) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-13", "There is no month 13: months are 01 to 12."),
        ("2026-00", "There is no month 0"),
        ("2026-Q5", "There is no quarter Q5: quarters are Q1 to Q4."),
        ("March", "'March' is not a period. Write a period as YYYY-MM"),
        ("2026/03", "'2026/03' is not a period."),
        ("", "An empty period is not a period."),
    ],
)
def test_parse_period_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_period(text)


def test_period_bounds() -> None:
    assert period_bounds("quarter", 2026, 2) == (
        datetime.date(2026, 4, 1),
        datetime.date(2026, 7, 1),
    )
    with pytest.raises(ValueError, match="month or a quarter"):
        period_bounds("week", 2026, 1)


def test_csv(march: Grid) -> None:
    Pool.objects.create(
        consortium=march.world.consortium_a,
        name="=HYPERLINK(1)",
        gpu_type="A100",
        created_by=march.world.chair,
    )
    result: Statement = statement(None, march.world.org_member, *MARCH, label="March 2026")
    lines = list(csv.reader(io.StringIO(statement_csv(result))))
    assert lines[0] == list(CSV_HEADER)
    assert lines[0][:5] == ["organisation", "period", "consortium", "pool", "gpu_type"]
    # A name that a spreadsheet would run as a formula is written as text.
    assert lines[1][3] == "'=HYPERLINK(1)"
    assert lines[2] == [
        "Member Org",
        "March 2026",
        "Consortium A",
        "H100 pool",
        "H100",
        "0.250000",
        "17856.00",
        "4240.80",
        "192.00",
        "150.25",
        "434.00",
        "0.00",
        "3656.55",
    ]
    assert lines[3][3] == "Total"
    assert lines[3][-1] == "3656.55"
    assert len(lines) == 4
