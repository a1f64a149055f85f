"""Fair share against figures worked out by hand, and the alerts it raises and clears.

The grid's pool has 16 GPUs at Paris and 8 at Frankfurt (24 GPUs, 576 GPU-hours a day), a
5% board reserve and a 14-day half-life. Chair Org contributes 300 and Member Org 100, so
their shares are 0.75 and 0.25.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from compute.fairshare import (
    MemberFairShare,
    alert_people,
    check_alerts,
    fair_share,
    fair_share_across_pools,
)
from compute.models import (
    AllocationRequest,
    CapacityChange,
    FairShareAlert,
    Loan,
    Pool,
    UsageRecord,
)
from compute.shares import contribution_record
from consortia.models import Organisation, Role
from tests.compute.conftest import START, Grid, at
from tests.consortia.factories import (
    MembershipFactory,
    OrganisationFactory,
    RoleAssignmentFactory,
    UserFactory,
)

ON = datetime.date(2026, 6, 30)
NOW = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def contribute(
    grid: Grid, organisation: Organisation, amount: str, pool: Pool | None = None
) -> None:
    contribution_record(
        actor=grid.world.chair,
        pool=pool or grid.pool,
        organisation=organisation,
        kind="capital",
        amount=Decimal(amount),
        contributed_on=datetime.date(2026, 1, 15),
    )


def use(
    grid: Grid,
    organisation: Organisation,
    gpu_hours: str,
    day: datetime.date,
    pool: Pool | None = None,
) -> None:
    UsageRecord.objects.create(
        pool=pool or grid.pool,
        site=grid.paris,
        organisation=organisation,
        day=day,
        gpu_hours=Decimal(gpu_hours),
        reported_by=grid.technician,
    )


def by_name(rows: list[MemberFairShare]) -> dict[str, MemberFairShare]:
    return {row.organisation_name: row for row in rows}


@pytest.fixture
def shared(grid: Grid) -> Grid:
    contribute(grid, grid.world.org_chair, "300")
    contribute(grid, grid.world.org_member, "100")
    return grid


def test_figures_by_hand(shared: Grid) -> None:
    world = shared.world
    use(shared, world.org_chair, "100", ON - datetime.timedelta(days=14))
    use(shared, world.org_member, "50", ON)
    chair, member = fair_share(shared.pool, on=ON)
    # Decayed: 100 x 0.5^(14/14) = 50 and 50 x 0.5^0 = 50, so U = 50/100 = 0.5 each.
    # F = 2^(-0.5/0.75) = 0.62996 and 2^(-0.5/0.25) = 0.25; LF = 0.75/0.5 = 1.5 and 0.25/0.5 = 0.5.
    assert chair.organisation_name == "Chair Org"
    assert (chair.share, member.share) == (0.75, 0.25)
    assert chair.decayed_gpu_hours == pytest.approx(50.0)
    assert member.decayed_gpu_hours == pytest.approx(50.0)
    assert chair.usage_fraction == pytest.approx(0.5)
    assert member.usage_fraction == pytest.approx(0.5)
    assert chair.factor == pytest.approx(0.62996, abs=1e-5)
    assert member.factor == pytest.approx(0.25)
    assert chair.level == pytest.approx(1.5)
    assert member.level == pytest.approx(0.5)
    assert (chair.rank, member.rank) == (1, 2)
    assert (chair.used_gpu_hours_30d, member.used_gpu_hours_30d) == (Decimal(100), Decimal(50))


def test_half_life_decay(shared: Grid) -> None:
    member = shared.world.org_member
    for days_ago, gpu_hours in ((0, "80"), (7, "80"), (28, "80"), (-1, "999")):
        use(shared, member, gpu_hours, ON - datetime.timedelta(days=days_ago))
    # 80 + 80 x 0.5^(7/14) + 80 x 0.5^(28/14) = 80 + 56.5685 + 20 = 156.5685; the day after
    # ``on`` is not counted yet.
    assert by_name(fair_share(shared.pool, on=ON))["Member Org"].decayed_gpu_hours == (
        pytest.approx(156.5685, abs=1e-4)
    )
    # With a 7-day half-life: 80 + 80 x 0.5 + 80 x 0.5^4 = 80 + 40 + 5 = 125.
    shared.pool.half_life_days = 7
    shared.pool.save()
    assert by_name(fair_share(shared.pool, on=ON))["Member Org"].decayed_gpu_hours == (
        pytest.approx(125.0)
    )
    # 30-day raw usage: the three days inside (on - 30, on] and none after.
    assert by_name(fair_share(shared.pool, on=ON))["Member Org"].used_gpu_hours_30d == 240


def test_decay_is_one_aggregate_query(shared: Grid) -> None:
    for days_ago in range(40):
        use(shared, shared.world.org_member, "10", ON - datetime.timedelta(days=days_ago))
        use(shared, shared.world.org_chair, "10", ON - datetime.timedelta(days=days_ago))
    with CaptureQueriesContext(connection) as queries:
        fair_share(shared.pool, on=ON)
    usage_queries = [
        q["sql"] for q in queries.captured_queries if "compute_usagerecord" in q["sql"]
    ]
    assert len(usage_queries) == 1
    assert "GROUP BY" in usage_queries[0]


def test_zero_usage_and_no_share(shared: Grid) -> None:
    # A third member that has contributed nothing: S = 0, so F = 0 and LF = 0, ranked last
    # even though its name sorts first.
    another = OrganisationFactory.create(name="Another Org")
    MembershipFactory.create(consortium=shared.world.consortium_a, organisation=another)
    rows = fair_share(shared.pool, on=ON)
    assert [row.organisation_name for row in rows] == ["Chair Org", "Member Org", "Another Org"]
    chair, member, third = rows
    # Nobody used anything: U = 0, F = 1, LF infinite (None), tied and ordered by name.
    assert (chair.usage_fraction, chair.factor, chair.level) == (0.0, 1.0, None)
    assert (member.usage_fraction, member.factor, member.level) == (0.0, 1.0, None)
    assert (third.share, third.factor, third.level, third.rank) == (0.0, 0.0, 0.0, 3)


def test_ranking(shared: Grid) -> None:
    world = shared.world
    use(shared, world.org_chair, "100", ON)
    # Member Org used nothing: LF infinite, first; Chair Org: U = 1, LF = 0.75.
    member, chair = fair_share(shared.pool, on=ON)
    assert (member.organisation_name, member.level, member.rank) == ("Member Org", None, 1)
    assert (chair.organisation_name, chair.rank) == ("Chair Org", 2)
    assert chair.level == pytest.approx(0.75)
    # Member Org now uses 300: U = 0.75 against 0.25, LF = 1/3; Chair Org U = 0.25, LF = 3.
    use(shared, world.org_member, "300", ON)
    ranked = [(row.organisation_name, row.rank) for row in fair_share(shared.pool, on=ON)]
    assert ranked == [("Chair Org", 1), ("Member Org", 2)]


def test_loans_shift_shares_while_they_run(shared: Grid) -> None:
    world = shared.world
    # Ten days of 24 GPUs = 5760 GPU-hours, less the 5% reserve = 5472 entitled; a loan of
    # 547.2 GPU-hours moves 547.2 / 5472 = 0.1 of the share from Member Org to Chair Org.
    Loan.objects.create(
        pool=shared.pool,
        lender=world.org_member,
        borrower=world.org_chair,
        gpu_hours=Decimal("547.2"),
        starts_on=datetime.date(2026, 6, 1),
        ends_on=datetime.date(2026, 6, 11),
        created_by=world.member,
    )
    use(shared, world.org_chair, "100", datetime.date(2026, 6, 5))
    use(shared, world.org_member, "100", datetime.date(2026, 6, 5))
    chair, member = fair_share(shared.pool, on=datetime.date(2026, 6, 5))
    assert chair.share == pytest.approx(0.85)
    assert member.share == pytest.approx(0.15)
    assert (chair.contribution_share, member.contribution_share) == (0.75, 0.25)
    # U = 0.5 each: F = 2^(-0.5/0.85) = 0.66516 and 2^(-0.5/0.15) = 0.09921.
    assert chair.factor == pytest.approx(0.66516, abs=1e-5)
    assert member.factor == pytest.approx(0.09921, abs=1e-5)
    # On 11 June the loan has ended ("ends_on" is the first day it no longer runs).
    after = by_name(fair_share(shared.pool, on=datetime.date(2026, 6, 11)))
    assert (after["Chair Org"].share, after["Member Org"].share) == (0.75, 0.25)
    # A cancelled loan moves nothing.
    Loan.objects.update(cancelled_at=at("2026-05-30"))
    during = by_name(fair_share(shared.pool, on=datetime.date(2026, 6, 5)))
    assert during["Chair Org"].share == 0.75


def test_across_pools(shared: Grid) -> None:
    world = shared.world
    small = Pool.objects.create(
        consortium=world.consortium_a,
        name="A100 pool",
        gpu_type="A100",
        half_life_days=7,
        created_by=world.chair,
    )
    small.sites.set([shared.paris])
    CapacityChange.objects.create(
        pool=small, site=shared.paris, effective_at=START, gpus=8, recorded_by=world.chair
    )
    contribute(shared, world.org_member, "100", pool=small)
    use(shared, world.org_chair, "100", ON)
    use(shared, world.org_member, "60", ON - datetime.timedelta(days=7), pool=small)
    rows = by_name(fair_share_across_pools(world.consortium_a, on=ON))
    # Weights: the H100 pool's 24 GPUs over its 14-day half-life = 8064 GPU-hours, the A100
    # pool's 8 GPUs over 7 days = 1344. S(Chair) = (8064 x 0.75 + 1344 x 0) / 9408 = 0.642857,
    # S(Member) = (8064 x 0.25 + 1344 x 1) / 9408 = 0.357143.
    assert rows["Chair Org"].share == pytest.approx(0.642857, abs=1e-6)
    assert rows["Member Org"].share == pytest.approx(0.357143, abs=1e-6)
    # U_H: Chair 100; Member 60 x 0.5^(7/7) = 30. U = 100/130 and 30/130.
    assert rows["Chair Org"].usage_fraction == pytest.approx(100 / 130)
    assert rows["Member Org"].usage_fraction == pytest.approx(30 / 130)
    assert rows["Member Org"].rank == 1


def _open_request(grid: Grid, organisation: Organisation) -> AllocationRequest:
    return AllocationRequest.objects.create(
        consortium=grid.world.consortium_a,
        number=1,
        pool=grid.pool,
        organisation=organisation,
        requested_by=grid.world.chair,
        gpus=4,
        starts_at=at("2026-07-01"),
        ends_at=at("2026-07-08"),
        purpose="Pre-training run",
    )


def test_alerts_raised_once_and_cleared(
    shared: Grid, django_capture_on_commit_callbacks: Any
) -> None:
    world = shared.world
    request = _open_request(shared, world.org_chair)
    use(shared, world.org_member, "100", ON)
    # Member Org: U = 1 against S = 0.25, 4 times its share (> 1.5): overuse.
    # Chair Org waits for capacity with U = 0 < 0.25 x 0.75: starved.
    with django_capture_on_commit_callbacks(execute=True):
        raised = check_alerts(shared.pool, on=ON)
    assert sorted((alert.organisation.name, alert.kind, alert.ratio) for alert in raised) == [
        ("Chair Org", "starved", Decimal("0.000")),
        ("Member Org", "overuse", Decimal("4.000")),
    ]
    events = AuditEvent.objects.filter(object_type="compute.fairsharealert", action="create")
    assert events.count() == 2
    assert set(events.values_list("actor_kind", flat=True)) == {"system"}
    sent = {(message.to[0], message.subject) for message in mail.outbox}
    assert {to for to, subject in sent if "Member Org is using more" in subject} == {
        "member@example.org",
        "board@example.org",
        "board_c@example.org",
    }
    assert {to for to, subject in sent if "Chair Org is starved" in subject} == {
        "chair@example.org",
        "board@example.org",
        "board_c@example.org",
    }

    # A second check while nothing changed raises nothing and sends nothing.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert check_alerts(shared.pool, on=ON) == []
    assert FairShareAlert.objects.count() == 2
    assert not mail.outbox

    # Chair Org uses 300: U = 0.75 and 0.25, each at its share: both alerts clear.
    use(shared, world.org_chair, "300", ON)
    assert check_alerts(shared.pool, on=ON) == []
    assert not FairShareAlert.objects.filter(cleared_at__isnull=True).exists()
    assert (
        AuditEvent.objects.filter(object_type="compute.fairsharealert", action="update").count()
        == 2
    )

    # Overuse again later: a new alert, the old one stays cleared.
    use(shared, world.org_member, "900", ON + datetime.timedelta(days=1))
    request.status = AllocationRequest.Status.APPROVED
    request.save()
    raised = check_alerts(shared.pool, on=ON + datetime.timedelta(days=1))
    assert [(alert.organisation_id, alert.kind) for alert in raised] == [
        (world.org_member.pk, "overuse")
    ]
    assert FairShareAlert.objects.count() == 3


def test_members_without_a_share_raise_no_alert(grid: Grid) -> None:
    contribute(grid, grid.world.org_chair, "100")
    use(grid, grid.world.org_member, "100", ON)
    assert check_alerts(grid.pool, on=ON) == []


def test_alert_recipients_are_this_consortiums_people(grid: Grid) -> None:
    world = grid.world
    # On the capacity board of consortium B and only an observer in A: not told about A.
    elsewhere = UserFactory.create(username="elsewhere", organisation=world.org_member)
    RoleAssignmentFactory.create(
        consortium=world.consortium_b, user=elsewhere, role=Role.CAPACITY_BOARD
    )
    RoleAssignmentFactory.create(consortium=world.consortium_a, user=elsewhere, role=Role.OBSERVER)
    assert sorted({person.email for person in alert_people(grid.pool, world.org_member.pk)}) == [
        "board@example.org",
        "board_c@example.org",
        "member@example.org",
    ]
