"""Loans: bounded by the lender's unused entitlement, shown on both members' statements.

Today is 2026-12-03. Chair Org contributed 300 and Member Org 100 (shares 0.75 and 0.25).
The pool has 24 GPUs, so from 10 to 20 December (10 days) it offers 24 x 24 x 10 = 5760
GPU-hours; Member Org's entitlement then is 0.25 x (1 - 0.05) x 5760 = 1368 GPU-hours.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from alliance.errors import AccessDeniedError, ConflictError
from audit.models import AuditEvent
from compute.lending import lendable_gpu_hours, loan_cancel, loan_grant
from compute.models import AllocationRequest, Loan, Reservation
from compute.shares import contribution_record
from compute.statements import statement
from consortia.models import Organisation, User
from tests.compute.conftest import Grid, at

NOW = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)
STARTS, ENDS = datetime.date(2026, 12, 10), datetime.date(2026, 12, 20)


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def shared(grid: Grid) -> Grid:
    for organisation, amount in ((grid.world.org_chair, "300"), (grid.world.org_member, "100")):
        contribution_record(
            actor=grid.world.chair,
            pool=grid.pool,
            organisation=organisation,
            kind="capital",
            amount=Decimal(amount),
            contributed_on=datetime.date(2026, 1, 15),
        )
    return grid


def lend(
    grid: Grid,
    gpu_hours: str,
    *,
    actor: User | None = None,
    borrower: Organisation | None = None,
    starts_on: datetime.date = STARTS,
    ends_on: datetime.date = ENDS,
) -> Loan:
    return loan_grant(
        actor=actor or grid.world.member,
        pool=grid.pool,
        borrower=borrower or grid.world.org_chair,
        gpu_hours=Decimal(gpu_hours),
        starts_on=starts_on,
        ends_on=ends_on,
        note="For the December training run",
    )


def test_refused_beyond_entitlement_with_the_figure(
    shared: Grid, unchanged: Callable[[], Any]
) -> None:
    with unchanged(), pytest.raises(ValidationError) as error:
        lend(shared, "1368.1")
    assert "at most 1368.0 GPU-hours" in error.value.message_dict["gpu_hours"][0]


def test_accepted_within_and_counted_against_the_next(
    shared: Grid, unchanged: Callable[[], Any]
) -> None:
    loan = lend(shared, "1000")
    assert (loan.lender_id, loan.borrower_id) == (
        shared.world.org_member.pk,
        shared.world.org_chair.pk,
    )
    assert AuditEvent.objects.filter(
        object_type="compute.loan", object_id=str(loan.pk), action="create"
    ).exists()
    # 1368 - 1000 = 368 left.
    with unchanged(), pytest.raises(ValidationError) as error:
        lend(shared, "368.1")
    assert "at most 368.0 GPU-hours" in error.value.message_dict["gpu_hours"][0]
    lend(shared, "368")
    assert lendable_gpu_hours(shared.pool, shared.world.org_member.pk, STARTS, ENDS) == 0


def test_reservations_and_overlapping_loans_reduce_what_can_be_lent(shared: Grid) -> None:
    world = shared.world
    request = AllocationRequest.objects.create(
        consortium=world.consortium_a,
        number=1,
        pool=shared.pool,
        organisation=world.org_member,
        requested_by=world.member,
        gpus=4,
        starts_at=at("2026-12-12"),
        ends_at=at("2026-12-14"),
        purpose="Evaluation",
        status=AllocationRequest.Status.APPROVED,
    )
    # 4 GPUs for 48 hours = 192 GPU-hours reserved in the period.
    Reservation.objects.create(
        pool=shared.pool,
        site=shared.paris,
        request=request,
        organisation=world.org_member,
        gpus=4,
        starts_at=at("2026-12-12"),
        ends_at=at("2026-12-14"),
    )
    assert lendable_gpu_hours(shared.pool, world.org_member.pk, STARTS, ENDS) == Decimal("1176.0")
    # A loan of 500 over 15-25 December overlaps the period for 5 of its 10 days: 250.
    lend(shared, "500", starts_on=datetime.date(2026, 12, 15), ends_on=datetime.date(2026, 12, 25))
    assert lendable_gpu_hours(shared.pool, world.org_member.pk, STARTS, ENDS) == Decimal("926.0")


def test_visible_on_both_statements(shared: Grid) -> None:
    world = shared.world
    lend(shared, "1000")
    december = (datetime.date(2026, 12, 1), datetime.date(2027, 1, 1))
    (lender_row,) = statement(shared.pool, world.org_member, *december).rows
    (borrower_row,) = statement(shared.pool, world.org_chair, *december).rows
    assert (lender_row.lent_gpu_hours, lender_row.borrowed_gpu_hours) == (Decimal(1000), Decimal(0))
    assert (borrower_row.lent_gpu_hours, borrower_row.borrowed_gpu_hours) == (
        Decimal(0),
        Decimal(1000),
    )
    # December: 24 x 24 x 31 = 17856 GPU-hours; Member Org 0.25 x 0.95 x 17856 = 4240.80,
    # less 1000 lent; Chair Org 0.75 x 0.95 x 17856 = 12722.40, plus 1000 borrowed.
    assert lender_row.balance_gpu_hours == Decimal("3240.80")
    assert borrower_row.balance_gpu_hours == Decimal("13722.40")


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"borrower": "org_member"}, "borrower"),
        ({"borrower": "org_outsider"}, "borrower"),
        ({"gpu_hours": "0"}, "gpu_hours"),
        ({"gpu_hours": "-5"}, "gpu_hours"),
        ({"gpu_hours": "1.25"}, "gpu_hours"),
        ({"starts_on": datetime.date(2026, 12, 2)}, "starts_on"),
        ({"ends_on": STARTS}, "ends_on"),
    ],
)
def test_bad_loans(
    shared: Grid, unchanged: Callable[[], Any], arguments: dict[str, Any], field: str
) -> None:
    values = dict(arguments)
    if "borrower" in values:
        values["borrower"] = getattr(shared.world, values["borrower"])
    values.setdefault("gpu_hours", "10")
    with unchanged(), pytest.raises(ValidationError) as error:
        lend(shared, **values)
    assert field in error.value.message_dict


@pytest.mark.parametrize("persona", ["observer", "auditor", "outsider", "technician"])
def test_only_chair_and_steering_lend(
    shared: Grid, unchanged: Callable[[], Any], persona: str
) -> None:
    actor = getattr(shared, persona, None) or getattr(shared.world, persona)
    with unchanged(), pytest.raises(AccessDeniedError):
        lend(shared, "10", actor=actor)


def test_cancel_before_it_starts(shared: Grid, unchanged: Callable[[], Any]) -> None:
    loan = lend(shared, "1368")
    # The borrower's chair may lend, but not take back someone else's loan.
    with unchanged(), pytest.raises(AccessDeniedError):
        loan_cancel(actor=shared.world.chair, loan=loan)
    cancelled = loan_cancel(actor=shared.world.member, loan=loan)
    assert cancelled.cancelled_at == NOW
    assert AuditEvent.objects.filter(
        object_type="compute.loan", object_id=str(loan.pk), action="update"
    ).exists()
    # Its hours are free to lend again; cancelling twice is refused.
    assert lendable_gpu_hours(shared.pool, shared.world.org_member.pk, STARTS, ENDS) == 1368
    with unchanged(), pytest.raises(ConflictError):
        loan_cancel(actor=shared.world.member, loan=loan)


def test_a_running_loan_cannot_be_cancelled(shared: Grid, unchanged: Callable[[], Any]) -> None:
    loan = lend(shared, "100")
    started = datetime.datetime(2026, 12, 10, 9, tzinfo=datetime.UTC)
    with (
        time_machine.travel(started, tick=False),
        unchanged(),
        pytest.raises(ConflictError) as error,
    ):
        loan_cancel(actor=shared.world.member, loan=loan)
    assert "started on 2026-12-10" in str(error.value)
