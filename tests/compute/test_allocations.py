"""Requests, board decisions, reservations and capacity: the rule that nothing is overbooked."""

from __future__ import annotations

import datetime
import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum

from alliance.errors import AccessDeniedError, ConflictError
from audit.models import AuditEvent
from compute import allocations, capacity
from compute.models import AllocationRequest, Reservation
from consortia.governance import services as governance
from consortia.models import Motion
from tests.compute.conftest import Grid, at, make_grid
from tests.conftest import World, requires_postgres


def submit(grid: Grid, gpus: int | None = 4, **overrides: Any) -> AllocationRequest:
    values: dict[str, Any] = {
        "actor": grid.technician,
        "pool": grid.pool,
        "gpus": gpus,
        "starts_at": at("2027-01-10"),
        "ends_at": at("2027-01-20"),
        "purpose": "Fine-tune the legal-domain model",
        "sites": [grid.paris],
    }
    values.update(overrides)
    return allocations.request_submit(**values)


def test_a_request_is_numbered_audited_and_sent_to_the_board(
    grid: Grid, mailoutbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    grid.board_chair_org.email = "board@example.eu"
    grid.board_chair_org.save()
    with django_capture_on_commit_callbacks(execute=True):
        first = submit(grid)
        second = submit(grid, gpus=2)
    assert (first.number, second.number) == (1, 2)
    assert first.organisation == grid.world.org_member
    assert first.gpu_hours == Decimal("960.0")  # 4 GPUs x 240 hours
    assert (
        AuditEvent.objects.filter(object_type="compute.allocationrequest", action="create").count()
        == 2
    )
    # One e-mail per board member per request; nobody else hears of it.
    assert sorted(address for message in mailoutbox for address in message.to) == sorted(
        [grid.board.email, "board@example.eu"] * 2
    )


def test_gpu_hours_become_whole_gpus_over_the_window(grid: Grid) -> None:
    request = submit(grid, gpus=None, gpu_hours=Decimal(500))
    assert request.gpus == 3  # 500 GPU-h over 240 h needs 2.08 GPUs: rounded up


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"gpus": 0}, "gpus", "at least one GPU"),
        ({"gpus": 30}, "gpus", "16 H100 GPUs in all"),
        ({"ends_at": at("2027-01-05")}, "ends_at", "ends after it starts"),
        ({"starts_at": at("2026-06-01")}, "starts_at", "not the past"),
        ({"purpose": "  "}, "purpose", "Say what the GPUs are for"),
        ({"sites": []}, "sites", "Name the sites"),
        ({"gpus": 2, "gpu_hours": Decimal(10)}, "gpus", "not both"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    grid: Grid, unchanged: Any, overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as error, unchanged():
        submit(grid, **overrides)
    assert message in " ".join(error.value.message_dict[field])


def test_a_site_outside_the_pool_is_refused(grid: Grid, unchanged: Any) -> None:
    from compute.models import Site

    elsewhere = Site.objects.create(
        provider=grid.provider, name="Lyon-2", jurisdiction=grid.paris.jurisdiction
    )
    with pytest.raises(ValidationError) as error, unchanged():
        submit(grid, sites=[elsewhere])
    assert "Not sites of H100 pool: Lyon-2" in error.value.message_dict["sites"][0]


@pytest.mark.parametrize("persona", ["observer", "outsider", "candidate", "auditor"])
def test_only_members_people_with_a_working_role_request(
    grid: Grid, unchanged: Any, persona: str
) -> None:
    with pytest.raises(AccessDeniedError), unchanged():
        submit(grid, actor=grid.world.persona(persona))


def test_the_board_approves_and_the_request_becomes_reservations(grid: Grid) -> None:
    request = submit(grid, gpus=4)
    decided = allocations.request_decide(
        actor=grid.board_chair_org, request=request, decision="approve"
    )
    assert decided.status == AllocationRequest.Status.APPROVED
    [reservation] = decided.reservations.all()
    assert (reservation.site, reservation.gpus) == (grid.paris, 4)
    assert (reservation.starts_at, reservation.ends_at) == (request.starts_at, request.ends_at)
    assert AuditEvent.objects.filter(
        object_type="compute.allocationrequest", action="transition"
    ).exists()


def test_a_partial_approval_spreads_over_the_named_sites(grid: Grid) -> None:
    request = submit(grid, gpus=20, sites=[grid.paris, grid.frankfurt])
    decided = allocations.request_decide(
        actor=grid.board_chair_org,
        request=request,
        decision="approve",
        gpus=18,
        ends_at=at("2027-01-15"),
    )
    assert decided.status == AllocationRequest.Status.PARTLY_APPROVED
    placed = {r.site.name: r.gpus for r in decided.reservations.all()}
    # Frankfurt comes first by name: 8 GPUs less its 5% reserve (7 usable), the rest in Paris.
    assert placed == {"Frankfurt-1": 7, "Paris-1": 11}


def test_the_board_reserve_is_kept_unless_granted_from_it(grid: Grid) -> None:
    first = submit(grid, gpus=16)
    with pytest.raises(ConflictError) as error:
        allocations.request_decide(actor=grid.board_chair_org, request=first, decision="approve")
    assert "Only 15 GPUs are free" in error.value.message
    assert "the board's 5% reserve is kept" in error.value.message
    urgent = allocations.request_decide(
        actor=grid.board_chair_org, request=first, decision="approve", from_reserve=True
    )
    assert urgent.reservations.get().gpus == 16


@pytest.mark.parametrize("persona", ["chair", "member", "technician"])
def test_only_the_capacity_board_decides(grid: Grid, unchanged: Any, persona: str) -> None:
    request = submit(grid)
    actor: Any = getattr(grid, persona, None) or grid.world.persona(persona)
    with pytest.raises(AccessDeniedError), unchanged():
        allocations.request_decide(actor=actor, request=request, decision="approve")


def test_a_board_member_does_not_decide_their_own_organisations_request(
    grid: Grid, unchanged: Any
) -> None:
    request = submit(grid)  # by Member Org; grid.board is of Member Org too
    with pytest.raises(AccessDeniedError) as error, unchanged():
        allocations.request_decide(actor=grid.board, request=request, decision="approve")
    assert "own organisation" in str(error.value)


def test_reject_and_request_changes_need_a_reason_and_revision_goes_back(grid: Grid) -> None:
    request = submit(grid)
    with pytest.raises(ValidationError):
        allocations.request_decide(actor=grid.board_chair_org, request=request, decision="reject")
    asked = allocations.request_decide(
        actor=grid.board_chair_org,
        request=request,
        decision="request_changes",
        reason="Split it over two weeks",
    )
    assert asked.status == AllocationRequest.Status.CHANGES_REQUESTED
    revised = allocations.request_revise(
        actor=grid.technician,
        request=asked,
        gpus=2,
        starts_at=at("2027-01-10"),
        ends_at=at("2027-01-24"),
        purpose="Fine-tune, spread out",
        sites=[grid.paris],
    )
    assert (revised.status, revised.gpus) == (AllocationRequest.Status.SUBMITTED, 2)
    rejected = allocations.request_decide(
        actor=grid.board_chair_org, request=revised, decision="reject", reason="No data terms"
    )
    assert (rejected.status, rejected.decision_reason) == ("rejected", "No data terms")
    assert not Reservation.objects.exists()


def test_a_large_request_goes_to_the_steering_committee_and_its_vote_decides(grid: Grid) -> None:
    grid.pool.vote_above_gpu_hours = Decimal(1000)
    grid.pool.save()
    request = submit(grid, gpus=8)  # 1,920 GPU-hours
    referred = allocations.request_decide(
        actor=grid.board_chair_org,
        request=request,
        decision="approve",
        vote_closes_at=at("2026-12-31"),
    )
    assert referred.status == AllocationRequest.Status.AWAITING_VOTE
    assert not Reservation.objects.exists()
    motion = referred.motion
    assert motion is not None
    assert (motion.kind, motion.subject_id) == ("approve_allocation", str(request.pk))
    for voter in (grid.world.chair, grid.world.member):
        governance.vote_cast(actor=voter, motion=motion, choice="for")
    motion.refresh_from_db()
    assert motion.status == Motion.Status.PASSED  # closed early: the outcome cannot change
    request.refresh_from_db()
    assert request.status == AllocationRequest.Status.APPROVED
    assert request.reservations.get().gpus == 8


def test_a_failed_vote_rejects_the_referred_request(grid: Grid) -> None:
    grid.pool.vote_above_gpu_hours = Decimal(1000)
    grid.pool.save()
    request = allocations.request_decide(
        actor=grid.board_chair_org, request=submit(grid, gpus=8), decision="approve"
    )
    assert request.motion is not None
    # One of two members against: a simple majority can no longer be reached.
    governance.vote_cast(actor=grid.world.chair, motion=request.motion, choice="against")
    request.refresh_from_db()
    assert request.status == AllocationRequest.Status.REJECTED
    assert f"Motion {request.motion.number} failed" in request.decision_reason


def test_capacity_cannot_shrink_below_what_is_reserved(grid: Grid, unchanged: Any) -> None:
    request = submit(grid, gpus=12)
    allocations.request_decide(actor=grid.board_chair_org, request=request, decision="approve")
    with pytest.raises(ConflictError) as error, unchanged():
        capacity.capacity_change(
            actor=grid.board,
            pool=grid.pool,
            site=grid.paris,
            effective_at=at("2027-01-01"),
            gpus=8,
            reason="Maintenance",
        )
    assert "12 GPUs are reserved at Paris-1" in error.value.message
    assert f"request {request.number} (12 GPUs)" in error.value.message
    # After the window the racks can go.
    change = capacity.capacity_change(
        actor=grid.board,
        pool=grid.pool,
        site=grid.paris,
        effective_at=at("2027-01-20"),
        gpus=8,
        reason="Maintenance",
    )
    assert change.gpus == 8
    steps = capacity.capacity_steps(grid.pool, grid.paris, at("2027-01-01"), at("2027-02-01"))
    assert steps == [(at("2027-01-01"), 16), (at("2027-01-20"), 8)]


def test_released_gpus_can_be_granted_again(grid: Grid) -> None:
    first = allocations.request_decide(
        actor=grid.board_chair_org, request=submit(grid, gpus=15), decision="approve"
    )
    second = submit(grid, gpus=15)
    with pytest.raises(ConflictError):
        allocations.request_decide(actor=grid.board_chair_org, request=second, decision="approve")
    allocations.reservation_release(
        actor=grid.technician, reservation=first.reservations.get(), reason="Finished early"
    )
    approved = allocations.request_decide(
        actor=grid.board_chair_org, request=second, decision="approve"
    )
    assert approved.status == AllocationRequest.Status.APPROVED


def test_capacity_in_gpu_hours_integrates_changes(grid: Grid) -> None:
    capacity.capacity_change(
        actor=grid.board, pool=grid.pool, site=grid.paris, effective_at=at("2027-01-01", 12), gpus=8
    )
    # Paris: 16 GPUs for 12 h then 8 GPUs for 12 h = 288; Frankfurt 8 x 24 = 192.
    assert capacity.capacity_gpu_hours(grid.pool, at("2027-01-01"), at("2027-01-02")) == Decimal(
        "480.0"
    )


@requires_postgres
@pytest.mark.usefixtures("committed_db")
def test_twenty_concurrent_approvals_never_overbook_the_last_capacity(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty board decisions race, each in its own connection, for a site with 15 usable
    GPUs; each asks for 4. At most three fit, and at no instant does the sum exceed 15.

    Each decision pauses between reading what is free and reserving it, so that without the
    pool's lock they would all read the same free capacity (and this test fails then)."""
    grid = make_grid(world)
    check_capacity = capacity.tightest

    def slow_check(*args: Any, **kwargs: Any) -> capacity.Squeeze:
        squeeze = check_capacity(*args, **kwargs)
        time.sleep(0.05)
        return squeeze

    monkeypatch.setattr(capacity, "tightest", slow_check)
    requests = [submit(grid, gpus=4) for _ in range(20)]
    barrier = threading.Barrier(len(requests))
    outcomes: list[str] = []

    def decide(request: AllocationRequest) -> None:
        try:
            barrier.wait()
            allocations.request_decide(
                actor=grid.board_chair_org, request=request, decision="approve"
            )
            outcomes.append("approved")
        except ConflictError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["approved"] * 3 + ["refused"] * 17
    reserved = Reservation.objects.filter(pool=grid.pool, site=grid.paris, status="active")
    assert reserved.aggregate(total=Sum("gpus"))["total"] == 12
    peak = max(
        level
        for _, level in capacity.reserved_steps(
            grid.pool, grid.paris, at("2027-01-01"), at("2027-02-01")
        )
    )
    assert peak <= 15


def test_a_request_can_be_withdrawn_until_decided(grid: Grid) -> None:
    request = submit(grid)
    withdrawn = allocations.request_withdraw(actor=grid.technician, request=request)
    assert withdrawn.status == AllocationRequest.Status.WITHDRAWN
    with pytest.raises(ConflictError):
        allocations.request_withdraw(actor=grid.technician, request=withdrawn)
    assert Motion.objects.count() == 0
    assert submit(grid).number == 2


def test_a_datasets_owner_holds_a_veto_over_capacity_voted_onto_its_data(grid: Grid) -> None:
    from agreements.models import Dataset

    world = grid.world
    records = Dataset.objects.create(
        consortium=world.consortium_a,
        owner=world.org_chair,
        name="Court records",
        sensitivity="confidential",
        residency_id="FR",
    )
    grid.pool.vote_above_gpu_hours = Decimal(1000)
    grid.pool.save()
    request = allocations.request_decide(
        actor=grid.board_chair_org,
        request=submit(grid, gpus=8, datasets=[records]),
        decision="approve",
    )
    assert request.motion is not None
    voters = {voter.organisation_id: voter.veto_right for voter in request.motion.voters.all()}
    assert voters == {world.org_chair.pk: True, world.org_member.pk: False}
    governance.vote_cast(
        actor=world.chair,
        motion=request.motion,
        choice="against",
        veto=True,
        reason="Our court records are not licensed for this model",
    )
    request.refresh_from_db()
    assert request.status == AllocationRequest.Status.REJECTED


@requires_postgres
def test_the_database_sweep_finds_the_same_tightest_instant_as_python(grid: Grid) -> None:
    """PostgreSQL sums the overlapping reservations itself; the Python sweep (used on SQLite)
    is the reference. Random reservations, capacity changing mid-window, many windows."""
    import random

    from compute.models import CapacityChange

    rng = random.Random(7)  # noqa: S311 - reproducible test data
    holder = submit(grid, gpus=1)
    CapacityChange.objects.create(
        pool=grid.pool,
        site=grid.paris,
        effective_at=at("2027-01-15", 6),
        gpus=40,
        recorded_by=grid.world.chair,
    )
    for _ in range(300):
        starts = at("2027-01-01") + datetime.timedelta(hours=rng.randrange(60 * 24))
        capacity.hold(
            pool=grid.pool,
            site=grid.paris,
            request=holder,
            gpus=rng.randint(1, 3),
            starts_at=starts,
            ends_at=starts + datetime.timedelta(hours=rng.randint(1, 24 * 12)),
        )
    grid.pool.refresh_from_db()
    for _ in range(60):
        start = at("2026-12-20") + datetime.timedelta(hours=rng.randrange(80 * 24))
        end = start + datetime.timedelta(hours=rng.randint(1, 24 * 20))
        for from_reserve in (False, True):
            keep = Decimal(1) if from_reserve else 1 - grid.pool.board_reserve
            steps = capacity.capacity_steps(grid.pool, grid.paris, start, end)
            segments = [
                (
                    when,
                    steps[index + 1][0] if index + 1 < len(steps) else end,
                    gpus,
                    int(gpus * keep),
                )
                for index, (when, gpus) in enumerate(steps)
            ]
            expected = capacity._tightest_in_python(grid.pool, grid.paris.pk, start, end, segments)
            found = capacity.tightest(grid.pool, grid.paris, start, end, from_reserve=from_reserve)
            assert found == expected, (start, end, from_reserve)


def test_the_first_approved_allocation_reaches_the_plans_milestone(grid: Grid) -> None:
    from consortia.planning import Milestone

    milestone = Milestone.objects.create(
        consortium=grid.world.consortium_a,
        key="first-allocation",
        title="First allocation",
        position=5,
        target_months=9,
        due_on=datetime.date(2027, 6, 1),
    )
    rejected = submit(grid)
    allocations.request_decide(
        actor=grid.board_chair_org, request=rejected, decision="reject", reason="Not yet"
    )
    assert Milestone.objects.get(pk=milestone.pk).done_on is None
    approved = allocations.request_decide(
        actor=grid.board_chair_org, request=submit(grid), decision="approve"
    )
    reached = Milestone.objects.get(pk=milestone.pk)
    assert reached.done_on is not None
    assert f"request {approved.number}" in reached.notes
