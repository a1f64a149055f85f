"""The contribution ledger and the shares it sets.

A member's share of a pool on a day is the value of its contributions up to that day over the
value of all active members' contributions up to that day. Nothing else sets a share: there is
no field to type one into. Entries are never edited; a mistake is corrected by a negative
entry that names the one it corrects, so every past share can be recomputed.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from audit.models import Action
from audit.services import audit_record
from compute import permissions
from compute.models import Contribution, Pool, Site
from compute.permissions import ComputeAction
from consortia.models import Membership, Organisation, User

SHARE_PLACES = Decimal("0.000001")


def contribution_value(pool: Pool, kind: str, amount: Decimal) -> Decimal:
    """Money counts as itself; in-kind GPU-hours at the pool's GPU-hour value."""
    if kind == Contribution.Kind.IN_KIND:
        return (amount * pool.gpu_hour_value).quantize(Decimal("0.01"))
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def contribution_record(
    *,
    actor: User,
    pool: Pool,
    organisation: Organisation,
    kind: str,
    amount: Decimal,
    contributed_on: datetime.date,
    site: Site | None = None,
    reference: str = "",
    corrects: Contribution | None = None,
) -> Contribution:
    permissions.require(actor, ComputeAction.RECORD_CONTRIBUTIONS, pool.consortium_id, pool)
    errors: dict[str, str] = {}
    if kind not in Contribution.Kind.values:
        errors["kind"] = "A contribution is capital or in kind."
    if amount == 0:
        errors["amount"] = "A contribution of nothing changes nothing."
    if contributed_on > timezone.localdate():
        errors["contributed_on"] = "A contribution is recorded once made, not in advance."
    if not Membership.objects.filter(
        consortium_id=pool.consortium_id,
        organisation=organisation,
        status=Membership.Status.ACTIVE,
    ).exists():
        errors["organisation"] = f"{organisation} is not an active member of this consortium."
    if kind == Contribution.Kind.IN_KIND:
        if site is None:
            errors["site"] = "Say at which site the in-kind GPU-hours are provided."
        elif not pool.sites.filter(pk=site.pk).exists():
            errors["site"] = f"{site} is not one of this pool's sites."
    elif site is not None:
        errors["site"] = "Only in-kind contributions are provided at a site."
    if corrects is not None:
        if corrects.pool_id != pool.pk or corrects.organisation_id != organisation.pk:
            errors["corrects"] = "A correction is to an entry of the same member and pool."
        elif amount > 0 or corrects.kind != kind:
            errors["corrects"] = "A correction takes back part of an entry: a negative amount."
    elif amount < 0:
        errors["amount"] = "A negative amount corrects an earlier entry: name that entry."
    if not errors and amount < 0 and corrects is not None:
        already = corrects.corrections.aggregate(total=Sum("amount"))["total"] or Decimal(0)
        if corrects.amount + already + amount < 0:
            errors["amount"] = (
                f"That takes back more than the entry left: at most {corrects.amount + already}."
            )
    if errors:
        raise ValidationError(errors)
    contribution = Contribution.objects.create(
        pool=pool,
        organisation=organisation,
        kind=kind,
        amount=amount,
        value=contribution_value(pool, kind, amount),
        site=site,
        contributed_on=contributed_on,
        reference=reference.strip(),
        corrects=corrects,
        recorded_by=actor,
    )
    audit_record(
        action=Action.CREATE,
        actor=actor,
        consortium_id=pool.consortium_id,
        target=contribution,
        related=pool,
        changes={
            "organisation": {"before": None, "after": str(organisation)},
            "kind": {"before": None, "after": kind},
            "amount": {"before": None, "after": str(amount)},
            "value": {"before": None, "after": str(contribution.value)},
            "contributed_on": {"before": None, "after": contributed_on.isoformat()},
        },
    )
    return contribution


def shares(pool: Pool, on: datetime.date | None = None) -> dict[int, Decimal]:
    """Each active member's share of ``pool`` on ``on`` (today by default), by organisation id.
    Members with nothing contributed are absent; the shares sum to 1 (or the dict is empty)."""
    on = on or timezone.localdate()
    active = Membership.objects.filter(
        consortium_id=pool.consortium_id, status=Membership.Status.ACTIVE
    ).values("organisation_id")
    totals = {
        row["organisation_id"]: row["value"]
        for row in Contribution.objects.filter(
            pool=pool, contributed_on__lte=on, organisation_id__in=active
        )
        .values("organisation_id")
        .annotate(value=Sum("value"))
        .order_by()
        if row["value"] > 0
    }
    whole = sum(totals.values(), Decimal(0))
    if not whole:
        return {}
    return {
        organisation: (value / whole).quantize(SHARE_PLACES)
        for organisation, value in sorted(totals.items())
    }


def share_history(pool: Pool, organisation_id: int) -> list[tuple[datetime.date, Decimal]]:
    """(day, share) on every day the pool's ledger changed, for the member's share chart."""
    days = sorted(set(pool.contributions.values_list("contributed_on", flat=True)))
    return [(day, shares(pool, day).get(organisation_id, Decimal(0))) for day in days]
