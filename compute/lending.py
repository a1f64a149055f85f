"""Members lending part of their entitlement to another member for a period.

A member can lend only what it is entitled to and has not already spoken for: its share of
the pool's capacity over the period (less the board reserve), less its active reservations
in the period, less what it already lends then. A loan moves share from lender to borrower
while it runs (see ``fairshare``) and appears on both members' statements.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_FLOOR, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alliance.errors import AccessDeniedError, ConflictError
from audit.models import Action
from audit.services import audit_record
from compute import permissions
from compute.capacity import lock
from compute.models import Loan, Pool
from compute.permissions import ComputeAction
from compute.shares import shares
from compute.statements import (
    entitlement_gpu_hours,
    lent_gpu_hours,
    reserved_gpu_hours,
)
from consortia.models import Membership, Organisation, User


def lendable_gpu_hours(
    pool: Pool, lender_id: int, starts_on: datetime.date, ends_on: datetime.date
) -> Decimal:
    """What the member may still lend over [starts_on, ends_on): its entitlement (today's
    share, the latest the ledger knows) less its reservations and loans in the period."""
    share = shares(pool).get(lender_id, Decimal(0))
    available = (
        entitlement_gpu_hours(pool, share, starts_on, ends_on)
        - reserved_gpu_hours(pool, lender_id, starts_on, ends_on)
        - lent_gpu_hours(pool, lender_id, starts_on, ends_on)
    )
    return max(Decimal(0), available).quantize(Decimal("0.1"), rounding=ROUND_FLOOR)


def _is_active_member(consortium_id: int, organisation_id: int) -> bool:
    return Membership.objects.filter(
        consortium_id=consortium_id,
        organisation_id=organisation_id,
        status=Membership.Status.ACTIVE,
    ).exists()


@transaction.atomic
def loan_grant(
    *,
    actor: User,
    pool: Pool,
    borrower: Organisation,
    gpu_hours: Decimal,
    starts_on: datetime.date,
    ends_on: datetime.date,
    note: str = "",
) -> Loan:
    """Lend ``gpu_hours`` of the actor's organisation's entitlement to ``borrower`` over
    [starts_on, ends_on). Refused, with the figure available, beyond what the lender may
    still lend; the pool's lock makes two loans by one lender take turns."""
    permissions.require(actor, ComputeAction.LEND, pool.consortium_id, pool)
    lender_id = actor.organisation_id
    errors: dict[str, str] = {}
    if lender_id is None or not _is_active_member(pool.consortium_id, lender_id):
        raise ValidationError(
            {"lender": "Loans are made by an active member: you lend your organisation's share."}
        )
    if borrower.pk == lender_id:
        errors["borrower"] = "A member cannot lend to itself."
    elif not _is_active_member(pool.consortium_id, borrower.pk):
        errors["borrower"] = f"{borrower} is not an active member of this consortium."
    gpu_hours = Decimal(gpu_hours)
    if not gpu_hours.is_finite() or gpu_hours <= 0:
        errors["gpu_hours"] = "Lend a positive number of GPU-hours."
    elif gpu_hours != gpu_hours.quantize(Decimal("0.1")):
        errors["gpu_hours"] = "Loans are in tenths of a GPU-hour."
    today = timezone.localdate()
    if starts_on < today:
        errors["starts_on"] = f"A loan starts today ({today}) or later, not in the past."
    if ends_on <= starts_on:
        errors["ends_on"] = "A loan ends (its first day no longer lent) after it starts."
    note = note.strip()
    if len(note) > 300:
        errors["note"] = "Keep the note to 300 characters."
    if errors:
        raise ValidationError(errors)
    pool = lock(pool)
    available = lendable_gpu_hours(pool, lender_id, starts_on, ends_on)
    if gpu_hours > available:
        raise ValidationError(
            {
                "gpu_hours": (
                    f"Your organisation can lend at most {available} GPU-hours of {pool.name} "
                    f"from {starts_on} to {ends_on}: its entitlement over the period, less its "
                    f"reservations and what it already lends then."
                )
            }
        )
    loan = Loan.objects.create(
        pool=pool,
        lender_id=lender_id,
        borrower=borrower,
        gpu_hours=gpu_hours,
        starts_on=starts_on,
        ends_on=ends_on,
        note=note,
        created_by=actor,
    )
    audit_record(
        action=Action.CREATE,
        actor=actor,
        consortium_id=pool.consortium_id,
        target=loan,
        related=pool,
        changes={
            "lender": {"before": None, "after": str(actor.organisation)},
            "borrower": {"before": None, "after": str(borrower)},
            "gpu_hours": {"before": None, "after": str(gpu_hours)},
            "starts_on": {"before": None, "after": starts_on.isoformat()},
            "ends_on": {"before": None, "after": ends_on.isoformat()},
        },
    )
    return loan


@transaction.atomic
def loan_cancel(*, actor: User, loan: Loan) -> Loan:
    """Take a loan back before it starts. Only the lender's chair or steering
    representatives may; once it runs the borrower may already be using it."""
    permissions.require(actor, ComputeAction.LEND, loan.pool.consortium_id, loan)
    if actor.organisation_id != loan.lender_id:
        raise AccessDeniedError(
            "Only the lending organisation's people may cancel its loan.",
            consortium_id=loan.pool.consortium_id,
            object_type=loan._meta.label_lower,
            object_id=str(loan.pk),
            action=ComputeAction.LEND.value,
        )
    loan = Loan.objects.select_for_update().select_related("pool").get(pk=loan.pk)
    if loan.cancelled_at is not None:
        raise ConflictError("This loan is already cancelled.", code="loan_cancelled")
    if loan.starts_on <= timezone.localdate():
        raise ConflictError(
            f"This loan started on {loan.starts_on}: a running loan cannot be taken back.",
            code="loan_started",
        )
    loan.cancelled_at = timezone.now()
    loan.save(update_fields=["cancelled_at"])
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        consortium_id=loan.pool.consortium_id,
        target=loan,
        related=loan.pool,
        changes={"cancelled_at": {"before": None, "after": loan.cancelled_at}},
    )
    return loan
