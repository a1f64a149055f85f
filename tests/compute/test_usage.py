"""Usage reports: idempotent, all-or-nothing, checked against membership, sites and capacity.

``unchanged()`` is entered before ``pytest.raises`` so that it sees the exception already
caught and compares the database afterwards (entered the other way round, the exception
passes through it and its check never runs).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db.models import Sum

from alliance.errors import AccessDeniedError
from audit.models import AuditEvent
from compute.capacity import capacity_gpu_hours
from compute.models import CapacityChange, Site, UsageRecord
from compute.usage import MAX_ROWS, usage_from_csv, usage_ingest
from consortia.models import Membership
from tests.compute.conftest import Grid, at
from tests.consortia.factories import MembershipFactory, OrganisationFactory

TODAY = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)
DAY = "2026-11-30"

Rows = list[dict[str, Any]]


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


def row(organisation: Any, site: Any, gpu_hours: Any, day: Any = DAY) -> dict[str, Any]:
    return {"organisation": organisation, "site": site, "day": day, "gpu_hours": gpu_hours}


def ledger_total(grid: Grid) -> Decimal:
    return UsageRecord.objects.filter(pool=grid.pool).aggregate(total=Sum("gpu_hours"))[
        "total"
    ] or Decimal(0)


def messages(error: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return list(error.value.message_dict["rows"])


def test_resending_a_report_replaces_it(grid: Grid) -> None:
    world = grid.world
    rows = [
        row(world.org_chair.pk, grid.paris.pk, "100"),
        row(world.org_member.pk, grid.frankfurt.pk, Decimal("50.5")),
    ]
    first = usage_ingest(actor=grid.technician, pool=grid.pool, rows=rows)
    assert (first.created, first.replaced, first.total_gpu_hours) == (2, 0, Decimal("150.5"))

    second = usage_ingest(actor=grid.board, pool=grid.pool, rows=rows)
    assert (second.created, second.replaced, second.total_gpu_hours) == (0, 2, Decimal("150.5"))
    assert UsageRecord.objects.filter(pool=grid.pool).count() == 2
    assert ledger_total(grid) == Decimal("150.50")
    assert set(UsageRecord.objects.values_list("reported_by__username", flat=True)) == {"board"}

    # A corrected figure replaces the old one; a new day adds a row.
    third = usage_ingest(
        actor=grid.technician,
        pool=grid.pool,
        rows=[
            row(world.org_chair.pk, grid.paris.pk, "80"),
            row(world.org_chair.pk, grid.paris.pk, "10", day=datetime.date(2026, 12, 1)),
        ],
    )
    assert (third.created, third.replaced) == (1, 1)
    assert ledger_total(grid) == Decimal("140.50")


def test_one_audit_event_per_batch(grid: Grid) -> None:
    world = grid.world
    rows = [
        row(world.org_chair.pk, grid.paris.pk, "1"),
        row(world.org_member.pk, grid.paris.pk, "2"),
    ]
    usage_ingest(actor=grid.technician, pool=grid.pool, rows=rows)
    usage_ingest(actor=grid.technician, pool=grid.pool, rows=rows)
    events = list(
        AuditEvent.objects.filter(object_type="compute.pool", object_id=str(grid.pool.pk))
        .order_by("sequence")
        .values_list("action", "changes")
    )
    assert [action for action, _ in events] == ["create", "create"]
    assert '"created":0' in events[1][1].replace(" ", "")
    assert '"replaced":2' in events[1][1].replace(" ", "")
    assert '"gpu_hours":"3.00"' in events[1][1].replace(" ", "")


def test_names_are_resolved_against_the_pool(grid: Grid) -> None:
    world = grid.world
    result = usage_ingest(
        actor=grid.technician,
        pool=grid.pool,
        rows=[row("Chair Org", "Paris-1", "4"), row(str(world.org_member.pk), "Frankfurt-1", "2")],
    )
    assert result.created == 2
    assert set(UsageRecord.objects.values_list("organisation_id", "site_id")) == {
        (world.org_chair.pk, grid.paris.pk),
        (world.org_member.pk, grid.frankfurt.pk),
    }


def test_a_suspended_member_still_reports(grid: Grid) -> None:
    world = grid.world
    Membership.objects.filter(pk=world.membership_member.pk).update(
        status=Membership.Status.SUSPENDED
    )
    result = usage_ingest(
        actor=grid.board_chair_org, pool=grid.pool, rows=[row(world.org_member.pk, "Paris-1", "3")]
    )
    assert result.created == 1


def test_json_numbers_are_read_as_written(grid: Grid) -> None:
    usage_ingest(
        actor=grid.technician, pool=grid.pool, rows=[row(grid.world.org_chair.pk, "Paris-1", 0.1)]
    )
    assert UsageRecord.objects.get().gpu_hours == Decimal("0.10")


def test_amounts_are_kept_to_the_hundredth(grid: Grid) -> None:
    usage_ingest(
        actor=grid.technician,
        pool=grid.pool,
        rows=[row(grid.world.org_chair.pk, "Paris-1", "1.005")],
    )
    assert UsageRecord.objects.get().gpu_hours == Decimal("1.01")


def _other_site(grid: Grid) -> Site:
    return Site.objects.create(
        provider=grid.provider, name="Lyon-1", jurisdiction=grid.paris.jurisdiction
    )


def _removed_member(grid: Grid) -> int:
    organisation = OrganisationFactory.create(name="Gone Org")
    MembershipFactory.create(
        consortium=grid.world.consortium_a,
        organisation=organisation,
        status=Membership.Status.REMOVED,
        left_on=datetime.date(2026, 6, 1),
    )
    return organisation.pk


BAD_ROWS: list[tuple[str, Callable[[Grid], Rows], str]] = [
    (
        "unknown site",
        lambda g: [row(g.world.org_chair.pk, 999999, "1")],
        "row 1: site 999999 is not one of this pool's sites",
    ),
    (
        "site outside the pool",
        lambda g: [row(g.world.org_chair.pk, _other_site(g).pk, "1")],
        "is not one of this pool's sites",
    ),
    (
        "unknown organisation name",
        lambda g: [row("Nobody Ltd", g.paris.pk, "1")],
        "row 1: no member organisation is named 'Nobody Ltd'",
    ),
    (
        "organisation of another consortium",
        lambda g: [row(g.world.org_outsider.pk, g.paris.pk, "1")],
        "is not a member of this consortium",
    ),
    (
        "removed member",
        lambda g: [row(_removed_member(g), g.paris.pk, "1")],
        "row 1: Gone Org is not an active or suspended member (it is removed)",
    ),
    (
        "negative amount",
        lambda g: [row(g.world.org_chair.pk, g.paris.pk, "-1")],
        "row 1: gpu_hours -1.00 is negative",
    ),
    (
        "not a number",
        lambda g: [row(g.world.org_chair.pk, g.paris.pk, "lots")],
        "row 1: gpu_hours 'lots' is not a number",
    ),
    (
        "not finite",
        lambda g: [row(g.world.org_chair.pk, g.paris.pk, "Infinity")],
        "row 1: gpu_hours 'Infinity' is not a number",
    ),
    (
        # 16 GPUs at Paris x 24 h = 384 GPU-hours a day.
        "more than the site's GPUs for 24 hours",
        lambda g: [row(g.world.org_chair.pk, g.paris.pk, "384.01")],
        "row 1: 384.01 GPU-hours is more than Paris-1 could deliver on 2026-11-30 (384.0 GPU-hours)",
    ),
    (
        "before the pool had capacity",
        lambda g: [row(g.world.org_chair.pk, g.paris.pk, "1", day="2025-12-31")],
        "could deliver on 2025-12-31 (0.0 GPU-hours)",
    ),
    (
        "absurdly large",
        lambda g: [row(g.world.org_chair.pk, g.paris.pk, "1e40")],
        "row 1: 1E+40 GPU-hours is more than Paris-1 could deliver",
    ),
    (
        "future day",
        lambda g: [row(g.world.org_chair.pk, g.paris.pk, "1", day="2026-12-04")],
        "row 1: day 2026-12-04 is in the future",
    ),
    (
        "impossible date",
        lambda g: [row(g.world.org_chair.pk, g.paris.pk, "1", day="2026-02-30")],
        "row 1: day '2026-02-30' is not a date (YYYY-MM-DD)",
    ),
    (
        "missing column",
        lambda g: [{"organisation": g.world.org_chair.pk, "site": g.paris.pk, "day": DAY}],
        "row 1: gpu_hours missing",
    ),
    (
        "the same organisation, site and day twice",
        lambda g: [
            row(g.world.org_chair.pk, g.paris.pk, "1"),
            row("Chair Org", "Paris-1", "2"),
        ],
        "row 2: repeats row 1 (same organisation, site and day)",
    ),
    (
        # 200 + 200 = 400 GPU-hours at Paris on one day, more than 384.
        "two members together beyond the site's capacity",
        lambda g: [
            row(g.world.org_chair.pk, g.paris.pk, "200"),
            row(g.world.org_member.pk, g.paris.pk, "200"),
        ],
        "rows 1, 2: with usage already recorded, 400.00 GPU-hours at Paris-1 on 2026-11-30 is "
        "more than the site could deliver (384.0 GPU-hours)",
    ),
    ("no rows at all", lambda g: [], "The report has no rows."),
]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [pytest.param(rows, expected, id=name) for name, rows, expected in BAD_ROWS],
)
def test_bad_rows_refuse_the_batch(
    grid: Grid, unchanged: Callable[[], Any], rows: Callable[[Grid], Rows], expected: str
) -> None:
    batch = rows(grid)
    with unchanged(), pytest.raises(ValidationError) as error:
        usage_ingest(actor=grid.technician, pool=grid.pool, rows=batch)
    assert any(expected in message for message in messages(error)), messages(error)


def test_every_bad_row_is_named_and_good_rows_are_not_written(
    grid: Grid, unchanged: Callable[[], Any]
) -> None:
    world = grid.world
    rows = [
        row(world.org_chair.pk, grid.paris.pk, "10"),
        row(world.org_member.pk, grid.paris.pk, "-2"),
        row(world.org_outsider.pk, 424242, "1", day="2027-01-01"),
    ]
    with unchanged(), pytest.raises(ValidationError) as error:
        usage_ingest(actor=grid.technician, pool=grid.pool, rows=rows)
    assert messages(error) == [
        "row 2: gpu_hours -2.00 is negative: report what was used, 0 or more",
        f"row 3: organisation {world.org_outsider.pk} is not a member of this consortium",
        "row 3: site 424242 is not one of this pool's sites",
        "row 3: day 2027-01-01 is in the future: report usage once it happened",
    ]


def test_usage_already_recorded_counts_towards_the_day(
    grid: Grid, unchanged: Callable[[], Any]
) -> None:
    world = grid.world
    usage_ingest(
        actor=grid.technician, pool=grid.pool, rows=[row(world.org_chair.pk, "Paris-1", "300")]
    )
    # 300 (Chair Org, kept) + 100 (Member Org) = 400 > 384.
    with unchanged(), pytest.raises(ValidationError) as error:
        usage_ingest(
            actor=grid.technician, pool=grid.pool, rows=[row(world.org_member.pk, "Paris-1", "100")]
        )
    assert "400.00 GPU-hours at Paris-1" in messages(error)[0]
    # A re-sent row replaces its own figure, so 84 + 300 = 384 is within capacity.
    result = usage_ingest(
        actor=grid.technician,
        pool=grid.pool,
        rows=[
            row(world.org_chair.pk, "Paris-1", "284"),
            row(world.org_member.pk, "Paris-1", "100"),
        ],
    )
    assert (result.created, result.replaced) == (1, 1)


def test_capacity_of_a_day_with_maintenance(grid: Grid, unchanged: Callable[[], Any]) -> None:
    # Paris drops from 16 to 8 GPUs at noon on 10 June and is back to 16 the next midnight:
    # 16 x 12 + 8 x 12 = 288 GPU-hours that day.
    for effective_at, gpus in ((at("2026-06-10", 12), 8), (at("2026-06-11"), 16)):
        CapacityChange.objects.create(
            pool=grid.pool,
            site=grid.paris,
            effective_at=effective_at,
            gpus=gpus,
            recorded_by=grid.world.chair,
        )
    assert capacity_gpu_hours(grid.pool, at("2026-06-10"), at("2026-06-11"), grid.paris) == Decimal(
        "288.0"
    )
    chair_org = grid.world.org_chair.pk
    with unchanged(), pytest.raises(ValidationError) as error:
        usage_ingest(
            actor=grid.technician,
            pool=grid.pool,
            rows=[row(chair_org, "Paris-1", "288.01", day="2026-06-10")],
        )
    assert "(288.0 GPU-hours)" in messages(error)[0]
    usage_ingest(
        actor=grid.technician,
        pool=grid.pool,
        rows=[
            row(chair_org, "Paris-1", "288", day="2026-06-10"),
            row(chair_org, "Paris-1", "384", day="2026-06-11"),
        ],
    )


def test_too_many_rows(grid: Grid, unchanged: Callable[[], Any]) -> None:
    rows = [row(grid.world.org_chair.pk, grid.paris.pk, "0")] * (MAX_ROWS + 1)
    with unchanged(), pytest.raises(ValidationError) as error:
        usage_ingest(actor=grid.technician, pool=grid.pool, rows=rows)
    assert "at most 50,000 rows" in messages(error)[0]


@pytest.mark.parametrize("persona", ["observer", "outsider", "member", "auditor"])
def test_only_technical_people_and_the_board_report(
    grid: Grid, unchanged: Callable[[], Any], persona: str
) -> None:
    actor = getattr(grid.world, persona)
    rows = [row(grid.world.org_chair.pk, grid.paris.pk, "1")]
    with unchanged(), pytest.raises(AccessDeniedError):
        usage_ingest(actor=actor, pool=grid.pool, rows=rows)
    assert not UsageRecord.objects.exists()


def test_csv_upload(grid: Grid) -> None:
    world = grid.world
    text = (
        "\ufefforganisation,site,day,gpu_hours\r\n"
        "Chair Org,Paris-1,2026-11-30,12.5\r\n"
        "\r\n"
        f"{world.org_member.pk},{grid.frankfurt.pk},2026-11-29,3\r\n"
    )
    rows = usage_from_csv(text)
    assert rows == [
        {"organisation": "Chair Org", "site": "Paris-1", "day": "2026-11-30", "gpu_hours": "12.5"},
        {
            "organisation": str(world.org_member.pk),
            "site": str(grid.frankfurt.pk),
            "day": "2026-11-29",
            "gpu_hours": "3",
        },
    ]
    result = usage_ingest(actor=grid.technician, pool=grid.pool, rows=rows)
    assert (result.created, result.total_gpu_hours) == (2, Decimal("15.50"))


def test_csv_columns_in_any_order(grid: Grid) -> None:
    rows = usage_from_csv("day,gpu_hours,site,organisation\n2026-11-30,1,Paris-1,Chair Org\n")
    assert rows == [
        {"organisation": "Chair Org", "site": "Paris-1", "day": "2026-11-30", "gpu_hours": "1"}
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "The file is empty"),
        ("org,site,day,hours\n", "expected organisation,site,day,gpu_hours"),
        (
            "organisation,site,day,gpu_hours\nChair Org,Paris-1,2026-11-30\n",
            "row 1: 3 values, expected 4",
        ),
    ],
)
def test_csv_errors(text: str, expected: str) -> None:
    with pytest.raises(ValidationError) as error:
        usage_from_csv(text)
    assert expected in messages(error)[0]


def test_csv_unknown_names_are_row_errors(grid: Grid, unchanged: Callable[[], Any]) -> None:
    rows = usage_from_csv(
        "organisation,site,day,gpu_hours\nChair Org,Paris-1,2026-11-30,1\nChair Org,Oslo-9,2026-11-30,1\n"
    )
    with unchanged(), pytest.raises(ValidationError) as error:
        usage_ingest(actor=grid.technician, pool=grid.pool, rows=rows)
    assert messages(error) == ["row 2: site Oslo-9 is not one of this pool's sites"]
