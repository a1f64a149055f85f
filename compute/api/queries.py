"""Reads the compute API needs beyond ``compute.permissions``: scoped querysets for the rows
the policy module has no ``visible_*`` for (approvals, contributions), the ``get_*_for`` of
those and of reservations, and the look-ups that turn ids in a request body into objects,
each failing as a field error that names the field.

Everything here starts from a ``visible_*`` queryset (or the consortium's own visibility),
so an id of another consortium's object answers exactly like an id that does not exist.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from agreements.models import Dataset
from alliance.compiled import CompiledQuery, Read, column_names, instances
from compute import capacity, permissions
from compute.models import (
    AllocationRequest,
    Contribution,
    Pool,
    Provider,
    Site,
)
from compute.shares import shares
from consortia.models import Membership, Organisation
from consortia.permissions import ConsortiumAction, consortium_rights

ModelT = TypeVar("ModelT", bound=models.Model)


# Ids in a request body. A wrong id is bad input (400 on its field), not a missing page.


def _ids_error(field: str, what: str, missing: Iterable[int]) -> ValidationError:
    listed = ", ".join(str(pk) for pk in sorted(set(missing)))
    return ValidationError({field: f"No {what} has id {listed}."})


def provider_by_id(pk: int, field: str = "provider") -> Provider:
    provider = Provider.objects.filter(pk=pk).first()
    if provider is None:
        raise _ids_error(field, "provider of the directory", [pk])
    return provider


def site_by_id(pk: int, field: str = "site") -> Site:
    site = Site.objects.select_related("provider").filter(pk=pk).first()
    if site is None:
        raise _ids_error(field, "site of the directory", [pk])
    return site


def sites_by_ids(ids: Iterable[int], field: str = "sites") -> list[Site]:
    """The sites in the order given (the directory is shared: any site may be named; the
    services say whether it belongs to the pool)."""
    wanted = list(dict.fromkeys(ids))
    found = {site.pk: site for site in Site.objects.filter(pk__in=wanted)}
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise _ids_error(field, "site of the directory", missing)
    return [found[pk] for pk in wanted]


# Every decision at the gate reads its data sets: prepared, like the standing it is sent with.
_DATASETS = CompiledQuery(
    lambda ids: Dataset.objects.filter(pk__in=ids).order_by().values_list(*column_names(Dataset)),
    prepared=True,
)


def datasets_read(ids: Iterable[int]) -> Read | None:
    """The read ``datasets_by_ids`` makes, for a caller that sends it together with others
    (``alliance.compiled.read_together``)."""
    wanted = list(dict.fromkeys(ids))
    return _DATASETS.read(ids=wanted) if wanted else None


def datasets_by_ids(user: Any, ids: Iterable[int], field: str = "datasets") -> list[Dataset]:
    """Data sets the user sees (those of other consortia do not exist for them): read by id,
    then kept when the user sees their consortium, a standing the request has mostly read
    already (the compliance gate asks this on every decision)."""
    wanted = list(dict.fromkeys(ids))
    rows = instances(Dataset, _DATASETS.rows(ids=wanted)) if wanted else []
    found = {
        dataset.pk: dataset
        for dataset in rows
        if ConsortiumAction.VIEW in consortium_rights(user, dataset.consortium_id)
    }
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise _ids_error(field, "data set you can see", missing)
    return [found[pk] for pk in wanted]


def organisation_of_consortium(consortium_id: int, pk: int, field: str) -> Organisation:
    """An organisation admitted to the consortium at some point (active, suspended or
    removed): the services say when its status is the wrong one."""
    organisation = (
        Organisation.objects.filter(
            pk=pk,
            memberships__consortium_id=consortium_id,
            memberships__status__in=[
                Membership.Status.ACTIVE,
                Membership.Status.SUSPENDED,
                Membership.Status.REMOVED,
            ],
        )
        .distinct()
        .first()
    )
    if organisation is None:
        raise ValidationError({field: f"No member organisation of this consortium has id {pk}."})
    return organisation


def contribution_of_pool(pool: Pool, pk: int, field: str = "corrects") -> Contribution:
    contribution = Contribution.objects.filter(pool=pool, pk=pk).first()
    if contribution is None:
        raise ValidationError({field: f"No entry of this pool's ledger has id {pk}."})
    return contribution


# Read models.


def provider_detail(user: Any, pk: Any) -> Provider:
    provider = permissions.get_provider_for(user, pk)
    return (
        permissions.visible_providers(user)
        .select_related("registered_by")
        .prefetch_related("exposures", "certifications", "sites")
        .get(pk=provider.pk)
    )


def site_detail(user: Any, pk: Any) -> Site:
    site = permissions.get_site_for(user, pk)
    return (
        permissions.visible_sites(user)
        .select_related("provider")
        .prefetch_related("administered_from", "certifications")
        .get(pk=site.pk)
    )


def pool_detail(pool: Pool, now: datetime.datetime | None = None) -> dict[str, Any]:
    """The pool with its settings, each site's capacity now and today's shares."""
    now = now or timezone.now()
    sites = list(pool.sites.select_related("provider").order_by("name"))
    site_rows = [
        {
            "id": site.pk,
            "name": site.name,
            "provider": site.provider_id,
            "provider_name": site.provider.legal_name,
            "jurisdiction": site.jurisdiction_id,
            "gpus": capacity.capacity_steps(pool, site, now, now)[0][1],
        }
        for site in sites
    ]
    current = shares(pool)
    names = dict(Organisation.objects.filter(pk__in=list(current)).values_list("pk", "name"))
    return {
        "id": pool.pk,
        "consortium_id": pool.consortium_id,
        "name": pool.name,
        "gpu_type": pool.gpu_type,
        "currency": pool.currency,
        "board_reserve": pool.board_reserve,
        "gpu_hour_value": pool.gpu_hour_value,
        "half_life_days": pool.half_life_days,
        "vote_above_gpu_hours": pool.vote_above_gpu_hours,
        "overuse_multiple": pool.overuse_multiple,
        "starvation_fraction": pool.starvation_fraction,
        "created_at": pool.created_at,
        "sites": site_rows,
        "gpus": sum(row["gpus"] for row in site_rows),
        "shares": [
            {"organisation": pk, "organisation_name": names.get(pk, ""), "share": share}
            for pk, share in current.items()
        ],
    }


def capacity_window(pool: Pool, start: datetime.datetime, end: datetime.datetime) -> dict[str, Any]:
    """Each site's capacity and reserved GPUs as steps over [start, end)."""
    rows = []
    for site in pool.sites.order_by("name"):
        rows.append(
            {
                "site": site.pk,
                "site_name": site.name,
                "capacity": [
                    {"at": at, "gpus": gpus}
                    for at, gpus in capacity.capacity_steps(pool, site, start, end)
                ],
                "reserved": [
                    {"at": at, "gpus": gpus}
                    for at, gpus in capacity.reserved_steps(pool, site, start, end)
                ],
            }
        )
    return {
        "pool": pool.pk,
        "from": start,
        "to": end,
        "capacity_gpu_hours": capacity.capacity_gpu_hours(pool, start, end),
        "sites": rows,
    }


def contribution_ledger(user: Any, pool: Pool) -> models.QuerySet[Contribution]:
    return permissions.visible_contributions(user).filter(pool=pool)


def usage_of_pool(user: Any, pool: Pool) -> models.QuerySet[Any]:
    return permissions.visible_usage(user).filter(pool=pool)


def total_gpu_hours(queryset: models.QuerySet[Any]) -> Decimal:
    total = queryset.order_by().aggregate(total=models.Sum("gpu_hours"))["total"]
    return (total or Decimal(0)).quantize(Decimal("0.01"))


def request_extras(user: Any, request: AllocationRequest, columns: list[str]) -> dict[str, Any]:
    """What a request's detail adds to its row: its sites, data sets and reservations (as
    ``.values(*columns)`` rows)."""
    return {
        "sites": list(request.sites.order_by("name").values("id", "name")),
        "datasets": sorted(request.datasets.values_list("pk", flat=True)),
        "reservations": list(
            permissions.visible_reservations(user)
            .filter(request=request)
            .order_by("starts_at", "pk")
            .values(*columns)
        ),
    }
