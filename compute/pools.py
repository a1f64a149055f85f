"""Setting up a capacity pool: its GPU type, its sites (approved ones only) and its rules."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import audit_record
from compute import directory, permissions
from compute.capacity import capacity_change
from compute.models import GPUType, Pool, Site
from compute.permissions import ComputeAction
from consortia.models import Consortium, User

# Settings the chair may change after creation, with the range each must stay in.
SETTINGS: dict[str, tuple[Decimal, Decimal]] = {
    "board_reserve": (Decimal(0), Decimal("0.5")),
    "gpu_hour_value": (Decimal("0.01"), Decimal("100000")),
    "half_life_days": (Decimal(1), Decimal(365)),
    "vote_above_gpu_hours": (Decimal(1), Decimal("100000000")),
    "overuse_multiple": (Decimal("1.01"), Decimal(100)),
    "starvation_fraction": (Decimal("0.01"), Decimal("0.99")),
}


def _check_settings(values: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, value in values.items():
        low, high = SETTINGS[name]
        if not low <= Decimal(value) <= high:
            errors[name] = f"Choose a value from {low} to {high}."
    return errors


def _check_sites(consortium: Consortium, sites: list[Site]) -> dict[str, str]:
    if not sites:
        return {"sites": "A pool is at one site at least."}
    usable = set(directory.usable_sites(consortium.pk).values_list("pk", flat=True))
    refused = [site.name for site in sites if site.pk not in usable]
    if refused:
        return {
            "sites": f"Not approved for this consortium today: {', '.join(refused)}. Approve the "
            "site or its provider first."
        }
    return {}


@transaction.atomic
def pool_create(
    *,
    actor: User,
    consortium: Consortium,
    name: str,
    gpu_type: str,
    sites: Iterable[Site],
    initial_gpus: dict[int, int] | None = None,
    **settings: Any,
) -> Pool:
    """A new pool at approved sites; ``initial_gpus`` (site id → GPUs) records each site's
    capacity from now."""
    permissions.require(actor, ComputeAction.MANAGE_POOLS, consortium.pk)
    chosen = list(sites)
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = "A pool needs a name."
    elif Pool.objects.filter(consortium=consortium, name__iexact=name).exists():
        errors["name"] = f"This consortium already has a pool called {name}."
    if gpu_type not in GPUType.values:
        errors["gpu_type"] = f"Choose one of: {', '.join(GPUType.values)}."
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        errors["settings"] = f"Unknown settings: {', '.join(sorted(unknown))}."
    else:
        errors |= _check_settings(settings)
    errors |= _check_sites(consortium, chosen)
    for site_id, gpus in (initial_gpus or {}).items():
        if site_id not in {site.pk for site in chosen}:
            errors["initial_gpus"] = "Give initial capacity only for the pool's own sites."
        elif gpus < 0:
            errors["initial_gpus"] = "Capacity is a number of GPUs, zero or more."
    if errors:
        raise ValidationError(errors)
    pool = Pool.objects.create(
        consortium=consortium, name=name, gpu_type=gpu_type, created_by=actor, **settings
    )
    pool.sites.set(chosen)
    audit_record(
        action=Action.CREATE,
        actor=actor,
        consortium_id=consortium.pk,
        target=pool,
        changes={
            "name": {"before": None, "after": name},
            "gpu_type": {"before": None, "after": gpu_type},
            "sites": {"before": None, "after": sorted(site.name for site in chosen)},
            **{key: {"before": None, "after": str(value)} for key, value in settings.items()},
        },
    )
    now = timezone.now().replace(microsecond=0)
    for site in chosen:
        initial = (initial_gpus or {}).get(site.pk)
        if initial:
            capacity_change(
                actor=actor, pool=pool, site=site, effective_at=now, gpus=initial, reason="Initial"
            )
    return pool


@transaction.atomic
def pool_update(*, actor: User, pool: Pool, **values: Any) -> Pool:
    """Change the pool's rules. Changes apply from now: shares follow the ledger anyway, and
    fair share is recomputed from usage each time."""
    permissions.require(actor, ComputeAction.MANAGE_POOLS, pool.consortium_id, pool)
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise ValidationError({"settings": f"Unknown settings: {', '.join(sorted(unknown))}."})
    errors = _check_settings(values)
    if errors:
        raise ValidationError(errors)
    changes = {
        key: {"before": str(getattr(pool, key)), "after": str(value)}
        for key, value in values.items()
        if Decimal(getattr(pool, key)) != Decimal(value)
    }
    for key, value in values.items():
        setattr(pool, key, value)
    pool.save(update_fields=list(values))
    if changes:
        audit_record(
            action=Action.UPDATE,
            actor=actor,
            consortium_id=pool.consortium_id,
            target=pool,
            changes=changes,
        )
    return pool


@transaction.atomic
def pool_add_site(
    *, actor: User, pool: Pool, site: Site, gpus: int, effective_at: datetime.datetime
) -> Pool:
    permissions.require(actor, ComputeAction.MANAGE_POOLS, pool.consortium_id, pool)
    errors = _check_sites(pool.consortium, [site])
    if pool.sites.filter(pk=site.pk).exists():
        errors["site"] = f"{site.name} is already one of this pool's sites."
    if errors:
        raise ValidationError(errors)
    pool.sites.add(site)
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        consortium_id=pool.consortium_id,
        target=pool,
        changes={"sites": {"before": None, "after": site.name}},
    )
    if gpus:
        capacity_change(
            actor=actor, pool=pool, site=site, effective_at=effective_at, gpus=gpus, reason="Added"
        )
    return pool
