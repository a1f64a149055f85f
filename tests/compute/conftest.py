"""A GPU pool of consortium A at two approved sites, with the people who run it.

``board`` (capacity board, Member Org) and ``board_chair_org`` (capacity board, Chair Org)
decide requests; ``technician`` (technical, Member Org) reports usage and requests capacity.
The pool has 16 GPUs at Paris and 8 at Frankfurt from 2026-01-01, a 5% board reserve and a
14-day half-life; nobody has contributed yet.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest

from compute.models import AllocationRequest, Approval, CapacityChange, Pool, Provider, Site
from consortia.models import Jurisdiction, Role, User
from tests.conftest import World
from tests.consortia.factories import RoleAssignmentFactory, UserFactory

UTC = datetime.UTC
START = datetime.datetime(2026, 1, 1, tzinfo=UTC)


def at(day: str, hour: int = 0) -> datetime.datetime:
    """An instant in UTC from 'YYYY-MM-DD'."""
    return datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@dataclass
class Grid:
    world: World
    provider: Provider
    paris: Site
    frankfurt: Site
    pool: Pool
    board: User
    board_chair_org: User
    technician: User


@pytest.fixture
def grid(world: World) -> Grid:
    return make_grid(world)


def make_grid(world: World) -> Grid:
    fr, de = Jurisdiction.objects.get(pk="FR"), Jurisdiction.objects.get(pk="DE")
    provider = Provider.objects.create(
        legal_name="Sovereign Compute SAS",
        head_office_jurisdiction=fr,
        ultimate_parent_jurisdiction=fr,
        registered_by=world.chair,
    )
    paris = Site.objects.create(provider=provider, name="Paris-1", jurisdiction=fr)
    paris.administered_from.set([fr])
    frankfurt = Site.objects.create(provider=provider, name="Frankfurt-1", jurisdiction=de)
    frankfurt.administered_from.set([de, fr])
    Approval.objects.create(
        consortium=world.consortium_a,
        provider=provider,
        valid_from=datetime.date(2025, 1, 1),
        approved_by=world.chair,
    )
    pool = Pool.objects.create(
        consortium=world.consortium_a,
        name="H100 pool",
        gpu_type="H100",
        board_reserve=Decimal("0.05"),
        half_life_days=14,
        created_by=world.chair,
    )
    pool.sites.set([paris, frankfurt])
    for site, gpus in ((paris, 16), (frankfurt, 8)):
        CapacityChange.objects.create(
            pool=pool, site=site, effective_at=START, gpus=gpus, recorded_by=world.chair
        )
    board = UserFactory.create(username="board", organisation=world.org_member)
    board_chair_org = UserFactory.create(username="board_c", organisation=world.org_chair)
    technician = UserFactory.create(username="technician", organisation=world.org_member)
    for user, role in (
        (board, Role.CAPACITY_BOARD),
        (board_chair_org, Role.CAPACITY_BOARD),
        (technician, Role.TECHNICAL),
    ):
        RoleAssignmentFactory.create(consortium=world.consortium_a, user=user, role=role)
    return Grid(world, provider, paris, frankfurt, pool, board, board_chair_org, technician)


def request_gpus(grid: Grid, gpus: int = 6, in_days: int = 3, days: int = 7) -> AllocationRequest:
    """The technician asks the pool for GPUs at Paris, from ``in_days`` days from now."""
    from django.utils import timezone

    from compute import allocations

    starts = timezone.now().replace(microsecond=0) + datetime.timedelta(days=in_days)
    return allocations.request_submit(
        actor=grid.technician,
        pool=grid.pool,
        gpus=gpus,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(days=days),
        purpose="Evaluation sweep",
        sites=[grid.paris],
    )
