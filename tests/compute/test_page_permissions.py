"""Every compute page from outside (STYLE 20): the outsider gets 404 on every page of
consortium A's compute, the read-only observer gets 403 on every form, the anonymous user is
sent to sign in, and no denial changes anything."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from compute import allocations, lending, shares
from compute.models import AllocationRequest, Approval, Loan, Reservation
from tests.compute.conftest import Grid


@dataclass
class Objects:
    grid: Grid
    request: AllocationRequest
    reservation: Reservation
    loan: Loan
    approval: Approval

    def args(self, kind: str) -> list[int]:
        world = self.grid.world
        return {
            "pool": [self.grid.pool.pk],
            "consortium": [world.consortium_a.pk],
            "request": [self.request.pk],
            "reservation": [self.reservation.pk],
            "loan": [self.loan.pk],
            "approval": [self.approval.pk],
            "provider": [self.grid.provider.pk],
            "none": [],
        }[kind]


def _day(days: int) -> datetime.datetime:
    day = timezone.localdate() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


@pytest.fixture
def objects(grid: Grid) -> Objects:
    world = grid.world
    shares.contribution_record(
        actor=world.chair,
        pool=grid.pool,
        organisation=world.org_chair,
        kind="capital",
        amount=Decimal(1000),
        contributed_on=datetime.date(2026, 1, 15),
    )
    granted = allocations.request_submit(
        actor=world.member,
        pool=grid.pool,
        starts_at=_day(7),
        ends_at=_day(9),
        purpose="Training",
        sites=[grid.paris],
        gpus=2,
    )
    allocations.request_decide(actor=grid.board_chair_org, request=granted, decision="approve")
    waiting = allocations.request_submit(
        actor=world.member,
        pool=grid.pool,
        starts_at=_day(10),
        ends_at=_day(12),
        purpose="Evaluation",
        sites=[grid.paris],
        gpus=2,
    )
    loan = lending.loan_grant(
        actor=world.chair,
        pool=grid.pool,
        borrower=world.org_member,
        gpu_hours=Decimal(10),
        starts_on=timezone.localdate() + datetime.timedelta(days=20),
        ends_on=timezone.localdate() + datetime.timedelta(days=30),
    )
    return Objects(
        grid=grid,
        request=waiting,
        reservation=Reservation.objects.get(),
        loan=loan,
        approval=Approval.objects.get(consortium=world.consortium_a),
    )


SETTINGS = {
    "board_reserve": "0.1",
    "gpu_hour_value": "2.50",
    "half_life_days": "14",
    "vote_above_gpu_hours": "50000",
    "overuse_multiple": "1.5",
    "starvation_fraction": "0.25",
}

# Pages every member of consortium A reads (the observer gets 200, the outsider 404).
READ_PAGES = [
    ("compute:pool", "pool"),
    ("compute:capacity-csv", "pool"),
    ("compute:reservations-csv", "pool"),
    ("compute:fair-share", "pool"),
    ("compute:fair-share-csv", "pool"),
    ("compute:pool-queue", "pool"),
    ("compute:queue", "consortium"),
    ("compute:consortium-fair-share", "consortium"),
    ("compute:request", "request"),
    ("compute:statement", "consortium"),
    ("compute:statement-csv", "consortium"),
    ("compute:statement-pdf", "consortium"),
    ("compute:approvals", "consortium"),
]

# Form pages that need a right the observer does not have.
FORM_PAGES = [
    ("compute:pool-create", "consortium"),
    ("compute:usage-upload", "pool"),
    ("compute:request-create", "pool"),
    ("compute:request-revise", "request"),
]


def _post_data(name: str, grid: Grid) -> dict[str, Any]:
    start = _day(20).strftime("%Y-%m-%dT%H:%M")
    end = _day(21).strftime("%Y-%m-%dT%H:%M")
    request_terms = {
        "gpus": "1",
        "starts_at": start,
        "ends_at": end,
        "purpose": "More",
        "sites": [grid.paris.pk],
    }
    data: dict[str, dict[str, Any]] = {
        "compute:pool-create": {
            "name": "New",
            "gpu_type": "H100",
            "sites": [grid.paris.pk],
            **SETTINGS,
        },
        "compute:pool-settings": SETTINGS,
        "compute:capacity-change": {"site": grid.paris.pk, "effective_at": start, "gpus": "40"},
        "compute:contribution-create": {
            "organisation": grid.world.org_member.pk,
            "kind": "capital",
            "amount": "50",
            "contributed_on": "2026-11-01",
        },
        "compute:loan-create": {
            "borrower": grid.world.org_chair.pk,
            "gpu_hours": "1",
            "starts_on": _day(20).date().isoformat(),
            "ends_on": _day(21).date().isoformat(),
        },
        "compute:loan-cancel": {},
        "compute:usage-upload": {
            "file": SimpleUploadedFile(
                "usage.csv",
                b"organisation,site,day,gpu_hours\nMember Org,Paris-1,2026-11-30,5\n",
                "text/csv",
            )
        },
        "compute:request-create": request_terms,
        "compute:request-revise": request_terms,
        "compute:request-decide": {"decision": "approve"},
        "compute:request-withdraw": {},
        "compute:reservation-release": {"reason": "Not needed"},
        "compute:approvals": {"site": grid.paris.pk, "valid_from": "2026-12-01"},
        "compute:approval-revoke": {"reason": "No longer"},
    }
    return data[name]


# Every form of consortium A's compute: (URL name, object kind).
POSTS = [
    ("compute:pool-create", "consortium"),
    ("compute:pool-settings", "pool"),
    ("compute:capacity-change", "pool"),
    ("compute:contribution-create", "pool"),
    ("compute:loan-create", "pool"),
    ("compute:loan-cancel", "loan"),
    ("compute:usage-upload", "pool"),
    ("compute:request-create", "pool"),
    ("compute:request-revise", "request"),
    ("compute:request-decide", "request"),
    ("compute:request-withdraw", "request"),
    ("compute:reservation-release", "reservation"),
    ("compute:approvals", "consortium"),
    ("compute:approval-revoke", "approval"),
]


@pytest.mark.parametrize(("name", "kind"), READ_PAGES)
def test_read_pages(objects: Objects, browser_as: Any, name: str, kind: str) -> None:
    world = objects.grid.world
    url = reverse(name, args=objects.args(kind))
    assert browser_as(world.observer).get(url).status_code == 200
    assert browser_as(world.member).get(url).status_code == 200
    assert browser_as(world.outsider).get(url).status_code == 404
    anonymous = browser_as(None).get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "kind"), FORM_PAGES)
def test_form_pages(objects: Objects, browser_as: Any, name: str, kind: str) -> None:
    world = objects.grid.world
    url = reverse(name, args=objects.args(kind))
    assert browser_as(world.observer).get(url).status_code == 403
    assert browser_as(world.outsider).get(url).status_code == 404
    assert browser_as(None).get(url).status_code == 302


@pytest.mark.parametrize(("name", "kind"), POSTS)
def test_forms_from_outside_change_nothing(
    objects: Objects, browser_as: Any, unchanged: Any, name: str, kind: str
) -> None:
    grid = objects.grid
    url = reverse(name, args=objects.args(kind))
    with unchanged():
        observer = browser_as(grid.world.observer).post(url, _post_data(name, grid))
        assert observer.status_code == 403, observer.content.decode()[:500]
        outsider = browser_as(grid.world.outsider).post(url, _post_data(name, grid))
        assert outsider.status_code == 404
        anonymous = browser_as(None).post(url, _post_data(name, grid))
        assert anonymous.status_code == 302


def test_a_member_reads_only_its_own_statement(objects: Objects, browser_as: Any) -> None:
    world = objects.grid.world
    url = reverse("compute:statement", args=[world.consortium_a.pk])
    for name in ("compute:statement", "compute:statement-csv", "compute:statement-pdf"):
        other = reverse(name, args=[world.consortium_a.pk])
        query = {"organisation": world.org_chair.pk}
        assert browser_as(world.observer).get(other, query).status_code == 403
        assert browser_as(world.auditor).get(other, query).status_code == 200
    # A statement of an organisation that is no member of A is not there at all.
    assert (
        browser_as(world.auditor).get(url, {"organisation": world.org_outsider.pk}).status_code
        == 404
    )
    page = browser_as(world.observer).get(url).content.decode()
    assert "Statement of Member Org" in page
    assert "Chair Org</option>" not in page


def test_the_board_member_of_the_requester_cannot_decide(
    objects: Objects, browser_as: Any, unchanged: Any
) -> None:
    url = reverse("compute:request-decide", args=[objects.request.pk])
    with unchanged():
        assert browser_as(objects.grid.board).post(url, {"decision": "approve"}).status_code == 403


def test_another_member_cannot_withdraw_or_revise(
    objects: Objects, browser_as: Any, unchanged: Any
) -> None:
    chair = browser_as(objects.grid.world.chair)  # may request, but for Chair Org
    with unchanged():
        assert (
            chair.post(reverse("compute:request-withdraw", args=[objects.request.pk])).status_code
            == 403
        )
        assert (
            chair.get(reverse("compute:request-revise", args=[objects.request.pk])).status_code
            == 403
        )


@pytest.mark.parametrize(
    "name", ["compute:site-create", "compute:certification-create", "compute:exposure-create"]
)
def test_directory_forms_need_an_editor(
    objects: Objects, browser_as: Any, unchanged: Any, name: str
) -> None:
    url = reverse(name, args=[objects.grid.provider.pk])
    with unchanged():
        assert browser_as(objects.grid.world.observer).post(url, {"name": "X"}).status_code == 403
        assert browser_as(None).post(url, {"name": "X"}).status_code == 302
    assert (
        browser_as(objects.grid.world.observer).get(reverse("compute:provider-create")).status_code
        == 403
    )
    missing = reverse("compute:provider", args=[objects.grid.provider.pk + 1000])
    assert browser_as(objects.grid.world.observer).get(missing).status_code == 404
