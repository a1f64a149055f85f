"""The steering committee's browser: the home page lists what waits on the person, and the
consortium page charts agreements, capacity, shares and findings, each chart's numbers as a
table and as CSV behind the page's own gate. Query counts stay the same as the data grows."""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements import services as agreement_services
from compute import selectors
from compute.compliance.models import Finding
from compute.models import AllocationRequest
from consortia.governance import services as governance
from consortia.models import Consortium, Motion, Role
from tests.agreements.conftest import make_deal
from tests.compute.conftest import Grid
from tests.compute.test_pages import contribute, report_usage, submit
from tests.consortia.factories import (
    MembershipFactory,
    OrganisationFactory,
    RoleAssignmentFactory,
    UserFactory,
)

_keys = itertools.count()


def _motion(world: Any, title: str, *, days: int = 5, hidden: bool = False) -> Motion:
    return governance.motion_propose(
        actor=world.chair,
        consortium=world.consortium_a,
        kind="general",
        title=title,
        closes_at=timezone.now() + datetime.timedelta(days=days),
        results_hidden=hidden,
    )


def _finding(grid: Grid, allocation: AllocationRequest, severity: str, status: str) -> Finding:
    now = timezone.now()
    return Finding.objects.create(
        consortium=grid.world.consortium_a,
        allocation=allocation,
        owner=grid.world.org_member,
        key=f"key-{next(_keys)}",
        code="SITE_NOT_APPROVED",
        severity=severity,
        message=f"A {severity} rule is broken.",
        status=status,
        opened_at=now,
        last_seen_at=now,
    )


def _rows(client: Any) -> list[tuple[str, str]]:
    html = client.get("/").content.decode()
    return re.findall(
        r'<span class="badge waiting-kind">(.*?)</span></td>\s*<td><a href="(.*?)">', html
    )


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


# Home -------------------------------------------------------------------------------------


def test_home_sends_the_anonymous_to_sign_in(client: Any) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_home_says_when_nothing_waits(world: Any, browser_as: Any) -> None:
    html = browser_as(world.observer).get("/").content.decode()
    assert "Nothing is waiting on you" in html


def test_home_lists_each_persons_work_nearest_deadline_first(grid: Grid, browser_as: Any) -> None:
    world = grid.world
    later = _motion(world, "Adopt the roadmap", days=9)
    sooner = _motion(world, "Adopt the budget", days=2)
    request = submit(grid)
    _finding(grid, request, "high", Finding.Status.OPEN)
    _finding(grid, request, "medium", Finding.Status.RESOLVED)
    deal = make_deal(world)
    agreement_services.version_submit(actor=deal.legal_chair_org, version=deal.version)

    findings = reverse("compute:compliance", args=[world.consortium_a.pk]) + "#findings"
    # A steering member of Member Org votes, and (requesting capacity) handles its findings.
    member = browser_as(world.member)
    assert _rows(member) == [
        ("Vote", reverse("consortia:motion", args=[sooner.pk])),
        ("Vote", reverse("consortia:motion", args=[later.pk])),
        ("Handle finding", findings),
    ]
    governance.vote_cast(actor=world.member, motion=sooner, choice="for")
    assert ("Vote", reverse("consortia:motion", args=[sooner.pk])) not in _rows(member)

    # The board decides the request (its deadline, the window's start, puts it first); the
    # technician of the finding's owner handles it; each party's legal person approves.
    assert _rows(browser_as(grid.board)) == [
        ("Decide", reverse("compute:request", args=[request.pk])),
        ("Handle finding", findings),
    ]
    assert _rows(browser_as(grid.technician)) == [("Handle finding", findings)]
    detail = reverse("agreements:detail", args=[deal.agreement.pk])
    assert _rows(browser_as(deal.legal_member_org))[0] == ("Approve", detail)
    agreement_services.approval_give(actor=deal.legal_member_org, version=deal.version)
    assert ("Approve", detail) not in _rows(browser_as(deal.legal_member_org))

    # Out for signature: each signatory is asked once it is their turn.
    agreement_services.approval_give(actor=deal.legal_chair_org, version=deal.version)
    agreement_services.agreement_send_for_signature(actor=world.chair, agreement=deal.agreement)
    sign = reverse("agreements:sign", args=[deal.version.pk])
    assert ("Sign", sign) in _rows(member)
    # Nothing of consortium A reaches another organisation's people.
    assert _rows(browser_as(world.outsider)) == []


def test_home_costs_the_same_queries_for_one_item_as_for_many(grid: Grid, browser_as: Any) -> None:
    world = grid.world
    _motion(world, "First")
    request = submit(grid)
    _finding(grid, request, "high", Finding.Status.OPEN)
    people = (world.member, grid.board, grid.technician)

    def queries() -> list[int]:
        counts = []
        for person in people:
            client = browser_as(person)
            client.get("/")
            with CaptureQueriesContext(connection) as captured:
                assert client.get("/").status_code == 200
            counts.append(len(captured))
        return counts

    few = queries()
    for number in range(4):
        _motion(world, f"More {number}")
        more = submit(grid)
        _finding(grid, more, "critical", Finding.Status.ACKNOWLEDGED)
    assert queries() == few


# The consortium page ----------------------------------------------------------------------


def _busy(grid: Grid) -> AllocationRequest:
    contribute(grid)
    report_usage(grid)
    request = submit(grid)
    _finding(grid, request, "critical", Finding.Status.OPEN)
    _finding(grid, request, "high", Finding.Status.ACKNOWLEDGED)
    _finding(grid, request, "high", Finding.Status.RESOLVED)
    return request


def test_the_consortium_page_charts_each_figure_with_its_numbers(
    grid: Grid, browser_as: Any
) -> None:
    world = grid.world
    _busy(grid)
    make_deal(world)
    counted = _motion(world, "Counted")
    _motion(world, "Secret ballot", hidden=True)
    governance.vote_cast(actor=world.member, motion=counted, choice="for")
    html = (
        browser_as(world.observer)
        .get(reverse("consortia:detail", args=[world.consortium_a.pk]))
        .content.decode()
    )
    titles = re.findall(r"<svg\b[^>]*>\s*<title[^>]*>(.*?)</title>", html)
    assert titles == [
        "Consortium A: agreements by status",
        "Consortium A: capacity, reserved and used GPU-hours per day, all pools",
        "Consortium A: each member&#x27;s share and usage, all pools",
        "Consortium A: compliance findings still to put right, by severity",
    ]
    assert html.count("<details>") >= 4
    for name in ("agreements:by-status-csv", "compute:consortium-capacity-csv"):
        assert reverse(name, args=[world.consortium_a.pk]) in html
    assert reverse("compute:findings-csv", args=[world.consortium_a.pk]) in html
    # The open motion's live tally; the one that hides its results says so.
    assert re.search(r"Motion \d+: Counted</a></td>\s*<td>.*?</td>\s*<td>1</td>", html)
    assert "Hidden until the motion closes" in html


def test_chart_csvs_hold_the_charted_numbers(grid: Grid, browser_as: Any) -> None:
    world = grid.world
    _busy(grid)
    deal = make_deal(world)
    agreement_services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    make_deal_second = agreement_services.agreement_create(
        actor=deal.legal_chair_org,
        consortium=world.consortium_a,
        kind="nda",
        title="Mutual NDA",
        governing_law=deal.agreement.governing_law,
    )
    assert make_deal_second.status == "draft"
    client = browser_as(world.observer)
    pk = world.consortium_a.pk

    agreements = _csv(client.get(reverse("agreements:by-status-csv", args=[pk])))
    assert agreements[0] == ["status", "label", "agreements"]
    by_status = {row[0]: int(row[2]) for row in agreements[1:]}
    assert by_status["draft"] == 1
    assert by_status["in_review"] == 1
    assert sum(by_status.values()) == 2

    findings = _csv(client.get(reverse("compute:findings-csv", args=[pk])))
    assert findings[0] == ["severity", "open", "acknowledged", "resolved", "unresolved"]
    assert findings[1:] == [
        ["critical", "1", "0", "0", "1"],
        ["high", "0", "1", "1", "1"],
        ["medium", "0", "0", "0", "0"],
    ]

    capacity = _csv(client.get(reverse("compute:consortium-capacity-csv", args=[pk])))
    first, last = selectors.chart_window()
    series = selectors.capacity_series(actor=world.observer, pool=grid.pool, first=first, last=last)
    # One pool: the consortium's figures are the pool's.
    assert capacity[1:] == [
        [
            point.day.isoformat(),
            str(point.capacity),
            str(point.reserved),
            "" if point.used is None else str(point.used),
        ]
        for point in series
    ]
    assert any(row[3] not in ("", "0.0") for row in capacity[1:])  # the reported usage


@pytest.mark.parametrize(
    "name", ["agreements:by-status-csv", "compute:consortium-capacity-csv", "compute:findings-csv"]
)
def test_chart_csvs_are_not_there_for_outsiders(world: Any, browser_as: Any, name: str) -> None:
    url = reverse(name, args=[world.consortium_a.pk])
    assert browser_as(world.outsider).get(url).status_code == 404
    assert browser_as(world.candidate).get(url).status_code == 404
    assert browser_as(None).get(url).status_code == 302
    assert browser_as(world.observer).get(url).status_code == 200


def _grow(consortium: Consortium, grid: Grid, size: int) -> None:
    """``size`` more members (each with a person), agreements, motions, findings and events."""
    world = grid.world
    for _ in range(size):
        number = next(_keys)
        organisation = OrganisationFactory.create(name=f"Grown {consortium.pk}-{number}")
        MembershipFactory.create(consortium=consortium, organisation=organisation)
        person = UserFactory.create(
            username=f"grown-{consortium.pk}-{number}", organisation=organisation
        )
        RoleAssignmentFactory.create(consortium=consortium, user=person, role=Role.OBSERVER)
        agreement_services.agreement_create(
            actor=world.chair,
            consortium=consortium,
            kind="nda",
            title=f"NDA {number}",
            governing_law=world.org_chair.home_jurisdiction,
        )
        _motion(world, f"Motion {number}")
        _finding(grid, submit(grid), ("critical", "high", "medium")[number % 3], "open")


def _page_queries(client: Any, consortium: Consortium) -> int:
    url = reverse("consortia:detail", args=[consortium.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_consortium_page_costs_the_same_queries_at_four_times_the_size(
    grid: Grid, browser_as: Any
) -> None:
    world = grid.world
    _busy(grid)
    client = browser_as(world.chair)
    _grow(world.consortium_a, grid, 2)
    small = _page_queries(client, world.consortium_a)
    _grow(world.consortium_a, grid, 6)
    assert _page_queries(client, world.consortium_a) == small


def test_a_non_member_gets_404_for_the_consortium_page(world: Any, browser_as: Any) -> None:
    url = reverse("consortia:detail", args=[world.consortium_a.pk])
    assert browser_as(world.outsider).get(url).status_code == 404
