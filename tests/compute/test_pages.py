"""The compute pages in the browser: each renders for a member with its figures; the board
approves a request through the page and the timeline shows it; usage CSV upload; statements
as CSV and PDF."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from compute import allocations, shares, usage
from compute.models import AllocationRequest, Contribution, Pool, Provider, Reservation, UsageRecord
from consortia.models import Role
from tests.compute.conftest import Grid, at
from tests.consortia.factories import RoleAssignmentFactory

TODAY = timezone.localdate


def contribute(grid: Grid) -> None:
    world = grid.world
    for organisation, amount in ((world.org_chair, 3000), (world.org_member, 1000)):
        shares.contribution_record(
            actor=world.chair,
            pool=grid.pool,
            organisation=organisation,
            kind="capital",
            amount=Decimal(amount),
            contributed_on=datetime.date(2026, 1, 15),
            reference=f"Invoice {amount}",
        )


def future(days: int, hour: int = 0) -> datetime.datetime:
    day = TODAY() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


def submit(grid: Grid, gpus: int = 4) -> AllocationRequest:
    return allocations.request_submit(
        actor=grid.world.member,
        pool=grid.pool,
        starts_at=future(7),
        ends_at=future(17),
        purpose="Fine-tune the radiology model",
        sites=[grid.paris, grid.frankfurt],
        gpus=gpus,
    )


def report_usage(grid: Grid) -> None:
    yesterday = (TODAY() - datetime.timedelta(days=1)).isoformat()
    usage.usage_ingest(
        actor=grid.technician,
        pool=grid.pool,
        rows=[
            {"organisation": "Member Org", "site": "Paris-1", "day": yesterday, "gpu_hours": "96"},
            {
                "organisation": "Chair Org",
                "site": "Frankfurt-1",
                "day": yesterday,
                "gpu_hours": "24",
            },
        ],
    )


def page(client: Any, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return str(response.content.decode())


def test_the_consortium_page_shows_the_pools(grid: Grid, browser_as: Any) -> None:
    world = grid.world
    submit(grid)
    detail = reverse("consortia:detail", args=[world.consortium_a.pk])
    text = page(browser_as(world.observer), detail)
    assert "Shared compute" in text
    assert "H100 pool" in text
    assert "NVIDIA H100" in text
    assert "Frankfurt-1, Paris-1" in text
    assert "<td>24</td>" in text  # GPUs now: 16 + 8
    assert reverse("compute:pool", args=[grid.pool.pk]) in text
    assert "New GPU pool" not in text
    assert "New GPU pool" in page(browser_as(world.chair), detail)


def test_the_pool_page_shows_its_figures(grid: Grid, browser_as: Any) -> None:
    contribute(grid)
    report_usage(grid)
    text = page(browser_as(grid.world.observer), reverse("compute:pool", args=[grid.pool.pk]))
    assert "Paris-1" in text
    assert "Sovereign Compute SAS" in text
    assert "<svg" in text
    assert 'role="img"' in text
    # 24 GPUs all day: 576 GPU-hours per day; usage yesterday 96 + 24.
    assert "<td>576.0</td>" in text
    assert "<td>120.0</td>" in text
    assert "75% <span" in text  # Chair Org's share: 3000 of 4000
    assert "Invoice 3000" in text
    assert "Download these numbers (CSV)" in text
    # Observers see no forms.
    assert "Record a capacity change" not in text
    assert "Record a contribution" not in text
    assert "Change the rules" not in text
    chair_page = page(browser_as(grid.world.chair), reverse("compute:pool", args=[grid.pool.pk]))
    assert "Record a contribution" in chair_page
    assert "Change the rules" in chair_page
    assert "Record a capacity change" in chair_page


def test_chart_csv_has_the_numbers_of_the_chart(grid: Grid, browser_as: Any) -> None:
    report_usage(grid)
    response = browser_as(grid.world.observer).get(
        reverse("compute:capacity-csv", args=[grid.pool.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "day,capacity_gpu_hours,reserved_gpu_hours,used_gpu_hours"
    yesterday = (TODAY() - datetime.timedelta(days=1)).isoformat()
    assert f"{yesterday},576.0,0.0,120.0" in lines
    assert len(lines) == 1 + 181


def test_the_chair_creates_a_pool_and_records_in_it(grid: Grid, browser_as: Any) -> None:
    world = grid.world
    client = browser_as(world.chair)
    create = reverse("compute:pool-create", args=[world.consortium_a.pk])
    assert "Paris-1" in page(client, create)
    response = client.post(
        create,
        {
            "name": "B200 pool",
            "gpu_type": "B200",
            "sites": [grid.paris.pk],
            "initial_gpus": "8",
            "board_reserve": "0.1",
            "gpu_hour_value": "3.00",
            "half_life_days": "7",
            "vote_above_gpu_hours": "10000",
            "overuse_multiple": "2",
            "starvation_fraction": "0.25",
        },
    )
    pool = Pool.objects.get(name="B200 pool")
    assert response.status_code == 302
    assert response["Location"] == reverse("compute:pool", args=[pool.pk])
    settings = client.post(
        reverse("compute:pool-settings", args=[pool.pk]),
        {
            "board_reserve": "0.2",
            "gpu_hour_value": "3.00",
            "half_life_days": "7",
            "vote_above_gpu_hours": "10000",
            "overuse_multiple": "2",
            "starvation_fraction": "0.25",
        },
    )
    assert settings.status_code == 302
    assert Pool.objects.get(pk=pool.pk).board_reserve == Decimal("0.2")
    contribution = client.post(
        reverse("compute:contribution-create", args=[pool.pk]),
        {
            "organisation": world.org_member.pk,
            "kind": "in_kind",
            "amount": "100",
            "contributed_on": "2026-11-01",
            "site": grid.paris.pk,
            "reference": "Racks",
        },
        follow=True,
    )
    assert "Contribution of Member Org recorded (counts 300.00)." in contribution.content.decode()
    bad = client.post(
        reverse("compute:contribution-create", args=[pool.pk]),
        {
            "organisation": world.org_member.pk,
            "kind": "in_kind",
            "amount": "5",
            "contributed_on": "2026-11-01",
        },
    )
    assert bad.status_code == 400
    assert "Say at which site the in-kind GPU-hours are provided." in bad.content.decode()
    assert Contribution.objects.filter(pool=pool).count() == 1


def test_capacity_change_through_the_page(grid: Grid, browser_as: Any) -> None:
    client = browser_as(grid.board)
    url = reverse("compute:capacity-change", args=[grid.pool.pk])
    response = client.post(
        url,
        {
            "site": grid.paris.pk,
            "effective_at": "2027-01-10T00:00",
            "gpus": "32",
            "reason": "New racks",
        },
        follow=True,
    )
    assert "Paris-1 has 32 GPUs from 10 Jan 2027 00:00 UTC." in response.content.decode()
    assert "New racks" in response.content.decode()
    # Below what is reserved: refused with the reservations named, nothing written.
    request = submit(grid, gpus=16)
    allocations.request_decide(actor=grid.board_chair_org, request=request, decision="approve")
    refused = client.post(
        url,
        {"site": grid.paris.pk, "effective_at": future(8).strftime("%Y-%m-%dT%H:%M"), "gpus": "2"},
    )
    assert refused.status_code == 409
    assert f"request {request.number}" in refused.content.decode()


def test_the_board_approves_a_request_and_the_timeline_shows_it(
    grid: Grid, browser_as: Any
) -> None:
    world = grid.world
    requester = browser_as(world.member)
    form_url = reverse("compute:request-create", args=[grid.pool.pk])
    assert "Send to the capacity board" in page(requester, form_url)
    starts, ends = future(7).strftime("%Y-%m-%dT%H:%M"), future(17).strftime("%Y-%m-%dT%H:%M")
    created = requester.post(
        form_url,
        {
            "gpus": "6",
            "starts_at": starts,
            "ends_at": ends,
            "purpose": "Evaluate the federated model",
            "sites": [grid.paris.pk],
        },
    )
    request = AllocationRequest.objects.get()
    assert created.status_code == 302
    assert created["Location"] == reverse("compute:request", args=[request.pk])
    queue = page(
        browser_as(grid.board_chair_org), reverse("compute:pool-queue", args=[grid.pool.pk])
    )
    assert f"Request {request.number}" in queue
    detail = reverse("compute:request", args=[request.pk])
    board_page = page(browser_as(grid.board_chair_org), detail)
    assert "Decide for the capacity board" in board_page
    # The board member of the requesting organisation does not decide it.
    assert "Decide for the capacity board" not in page(browser_as(grid.board), detail)
    decided = browser_as(grid.board_chair_org).post(
        reverse("compute:request-decide", args=[request.pk]),
        {"decision": "approve", "gpus": "4", "reason": "Four is what the window allows."},
        follow=True,
    )
    text = decided.content.decode()
    assert "Request 1: partly approved." in text
    reservation = Reservation.objects.get()
    assert (reservation.gpus, reservation.site) == (4, grid.paris)
    pool_page = page(browser_as(world.observer), reverse("compute:pool", args=[grid.pool.pk]))
    assert "Request 1 · Member Org" in pool_page  # the timeline's row
    assert "4 GPUs · Paris-1" in pool_page
    timeline_csv = browser_as(world.observer).get(
        reverse("compute:reservations-csv", args=[grid.pool.pk])
    )
    assert "1,Member Org,Paris-1,4," in timeline_csv.content.decode()


def test_deciding_needs_a_reason_to_reject(grid: Grid, browser_as: Any, unchanged: Any) -> None:
    request = submit(grid)
    with unchanged():
        response = browser_as(grid.board_chair_org).post(
            reverse("compute:request-decide", args=[request.pk]), {"decision": "reject"}
        )
    assert response.status_code == 400
    assert "Say why, so the member knows what to do next." in response.content.decode()


def test_the_requester_revises_and_withdraws(grid: Grid, browser_as: Any) -> None:
    request = submit(grid)
    allocations.request_decide(
        actor=grid.board_chair_org,
        request=request,
        decision="request_changes",
        reason="Name the datasets.",
    )
    client = browser_as(grid.world.member)
    detail = page(client, reverse("compute:request", args=[request.pk]))
    assert "Name the datasets." in detail
    assert "Revise the request" in detail
    revise = reverse("compute:request-revise", args=[request.pk])
    assert "Fine-tune the radiology model" in page(client, revise)
    revised = client.post(
        revise,
        {
            "gpus": "2",
            "starts_at": future(8).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": future(10).strftime("%Y-%m-%dT%H:%M"),
            "purpose": "Fine-tune, smaller",
            "sites": [grid.frankfurt.pk],
        },
    )
    assert revised.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.gpus) == ("submitted", 2)
    withdrawn = client.post(reverse("compute:request-withdraw", args=[request.pk]), follow=True)
    assert "Request 1 is withdrawn." in withdrawn.content.decode()
    assert AllocationRequest.objects.get().status == "withdrawn"


def test_consortium_queue_and_htmx_partial(grid: Grid, browser_as: Any) -> None:
    submit(grid)
    client = browser_as(grid.world.observer)
    url = reverse("compute:queue", args=[grid.world.consortium_a.pk])
    text = page(client, url)
    assert "1 open request" in text
    assert "<html" in text
    partial = client.get(url + f"?pool={grid.pool.pk}", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    assert "Request 1" in partial.content.decode()


def test_usage_upload_success(grid: Grid, browser_as: Any) -> None:
    client = browser_as(grid.technician)
    url = reverse("compute:usage-upload", args=[grid.pool.pk])
    assert "organisation,site,day,gpu_hours" in page(client, url)
    report_usage(grid)  # one row already there: it is replaced
    yesterday = (TODAY() - datetime.timedelta(days=1)).isoformat()
    before = (TODAY() - datetime.timedelta(days=2)).isoformat()
    body = (
        "organisation,site,day,gpu_hours\n"
        f"Member Org,Paris-1,{yesterday},100\n"
        f"Member Org,Paris-1,{before},50.5\n"
    )
    response = client.post(
        url, {"file": SimpleUploadedFile("usage.csv", body.encode(), "text/csv")}, follow=True
    )
    text = response.content.decode()
    assert "2 rows recorded: 1 new, 1 replaced (150.50 GPU-hours)." in text
    assert UsageRecord.objects.get(day=yesterday, site=grid.paris).gpu_hours == Decimal("100.00")


def test_usage_upload_failure_writes_nothing(grid: Grid, browser_as: Any, unchanged: Any) -> None:
    client = browser_as(grid.technician)
    url = reverse("compute:usage-upload", args=[grid.pool.pk])
    yesterday = (TODAY() - datetime.timedelta(days=1)).isoformat()
    body = (
        "organisation,site,day,gpu_hours\n"
        f"Member Org,Paris-1,{yesterday},10\n"
        f"Nobody Ltd,Paris-1,{yesterday},10\n"
        f"Member Org,Atlantis,{yesterday},abc\n"
    )
    with unchanged():
        response = client.post(
            url, {"file": SimpleUploadedFile("usage.csv", body.encode(), "text/csv")}
        )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Nothing was recorded" in text
    assert "row 2: no member organisation is named &#x27;Nobody Ltd&#x27;" in text
    assert "row 3: site Atlantis is not one of this pool&#x27;s sites" in text
    assert "row 3: gpu_hours &#x27;abc&#x27; is not a number" in text
    assert not UsageRecord.objects.exists()


def test_fair_share_pages(grid: Grid, browser_as: Any) -> None:
    contribute(grid)
    report_usage(grid)
    client = browser_as(grid.world.observer)
    text = page(client, reverse("compute:fair-share", args=[grid.pool.pk]))
    assert "Chair Org" in text
    assert "Member Org" in text
    assert "share 75.0%" in text  # the chart's direct labels
    assert "usage 80.0%" in text  # Member Org used 96 of 120
    assert "75% <span" in text
    csv_text = client.get(reverse("compute:fair-share-csv", args=[grid.pool.pk])).content.decode()
    assert csv_text.splitlines()[0].startswith("rank,organisation,share")
    assert "Chair Org,0.750000" in csv_text
    across = page(
        client, reverse("compute:consortium-fair-share", args=[grid.world.consortium_a.pk])
    )
    assert "across Consortium A's pools" in across
    assert "share 75.0%" in across


def test_statement_page_csv_and_pdf(grid: Grid, browser_as: Any) -> None:
    contribute(grid)
    report_usage(grid)
    client = browser_as(grid.world.member)
    url = reverse("compute:statement", args=[grid.world.consortium_a.pk])
    month = TODAY().strftime("%Y-%m")
    text = page(client, url)
    assert "Statement of Member Org" in text
    assert "H100 pool" in text
    assert "Download CSV" in text
    csv_response = client.get(
        reverse("compute:statement-csv", args=[grid.world.consortium_a.pk]),
        {"organisation": grid.world.org_member.pk, "period": month},
    )
    assert csv_response.status_code == 200
    lines = csv_response.content.decode().splitlines()
    assert lines[0].startswith("organisation,period,consortium,pool")
    assert lines[1].startswith("Member Org,")
    assert ",0.250000," in lines[1]
    pdf = client.get(
        reverse("compute:statement-pdf", args=[grid.world.consortium_a.pk]),
        {"organisation": grid.world.org_member.pk, "period": "2026-Q4"},
    )
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    bad = client.get(url, {"period": "November"})
    assert bad.status_code == 400
    assert "is not a period" in bad.content.decode()


def test_the_board_reads_every_statement(grid: Grid, browser_as: Any) -> None:
    url = reverse("compute:statement", args=[grid.world.consortium_a.pk])
    text = page(browser_as(grid.board), url + f"?organisation={grid.world.org_chair.pk}")
    assert "Statement of Chair Org" in text


def test_directory_pages(grid: Grid, browser_as: Any) -> None:
    world = grid.world
    client = browser_as(grid.technician)
    listing = page(client, reverse("compute:providers"))
    assert "Sovereign Compute SAS" in listing
    assert "Register a provider" in listing
    created = client.post(
        reverse("compute:provider-create"),
        {
            "legal_name": "Nordic GPU Oy",
            "head_office_jurisdiction": "FI",
            "ultimate_parent_jurisdiction": "US",
        },
    )
    provider = Provider.objects.get(legal_name="Nordic GPU Oy")
    assert created.status_code == 302
    detail = reverse("compute:provider", args=[provider.pk])
    site = client.post(
        reverse("compute:site-create", args=[provider.pk]),
        {"name": "Kajaani-1", "jurisdiction": "FI", "administered_from": ["FI", "US"]},
        follow=True,
    )
    assert "Kajaani-1 is registered." in site.content.decode()
    exposure = client.post(
        reverse("compute:exposure-create", args=[provider.pk]),
        {"law": "us_cloud_act", "basis": "parent", "assessed_on": "2026-11-01"},
        follow=True,
    )
    assert "US CLOUD Act" in exposure.content.decode()
    certification = client.post(
        reverse("compute:certification-create", args=[provider.pk]),
        {
            "scheme": "iso_27001",
            "valid_from": "2026-01-01",
            "valid_until": "2029-01-01",
            "evidence": "Cert 42",
        },
        follow=True,
    )
    assert "Cert 42" in certification.content.decode()
    assert "In force" in page(client, detail)
    # The chair approves the new provider for consortium A.
    approvals = reverse("compute:approvals", args=[world.consortium_a.pk])
    assert "Approve a provider or a site" not in page(browser_as(world.observer), approvals)
    approved = browser_as(world.chair).post(
        approvals,
        {"provider": provider.pk, "valid_from": TODAY().isoformat(), "conditions": "EU data only"},
        follow=True,
    )
    text = approved.content.decode()
    assert "Nordic GPU Oy is approved from" in text
    assert "Kajaani-1" in text  # usable today
    approval = provider.approvals.get()
    revoked = browser_as(world.chair).post(
        reverse("compute:approval-revoke", args=[approval.pk]),
        {"reason": "Parent in the US"},
        follow=True,
    )
    assert "is revoked" in revoked.content.decode()
    approval.refresh_from_db()
    assert approval.revoked_at is not None


def test_a_technical_person_of_another_role_sees_the_upload_link(
    grid: Grid, browser_as: Any
) -> None:
    RoleAssignmentFactory.create(
        consortium=grid.world.consortium_a, user=grid.world.member, role=Role.TECHNICAL
    )
    text = page(browser_as(grid.world.member), reverse("compute:pool", args=[grid.pool.pk]))
    assert "Upload usage (CSV)" in text
    assert at("2026-01-01") < timezone.now()


def test_a_large_request_goes_to_the_vote_from_the_page(grid: Grid, browser_as: Any) -> None:
    Pool.objects.filter(pk=grid.pool.pk).update(vote_above_gpu_hours=Decimal(100))
    client = browser_as(grid.world.member)
    created = client.post(
        reverse("compute:request-create", args=[grid.pool.pk]),
        {
            "gpu_hours": "480",
            "starts_at": future(7).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": future(9).strftime("%Y-%m-%dT%H:%M"),
            "purpose": "Pre-train",
            "sites": [grid.paris.pk, grid.frankfurt.pk],
        },
    )
    assert created.status_code == 302
    request = AllocationRequest.objects.get()
    assert request.gpus == 10  # 480 GPU-hours over 48 hours
    decided = browser_as(grid.board_chair_org).post(
        reverse("compute:request-decide", args=[request.pk]),
        {"decision": "approve", "reason": "Worth it."},
        follow=True,
    )
    text = decided.content.decode()
    request.refresh_from_db()
    assert request.status == "awaiting_vote"
    assert request.motion is not None
    assert f"motion {request.motion.number}" in text
    assert reverse("consortia:motion", args=[request.motion.pk]) in text
    assert not Reservation.objects.exists()


def test_the_chair_lends_and_the_statements_show_it(grid: Grid, browser_as: Any) -> None:
    contribute(grid)
    client = browser_as(grid.world.chair)
    starts = TODAY() + datetime.timedelta(days=1)
    response = client.post(
        reverse("compute:loan-create", args=[grid.pool.pk]),
        {
            "borrower": grid.world.org_member.pk,
            "gpu_hours": "100",
            "starts_on": starts.isoformat(),
            "ends_on": (starts + datetime.timedelta(days=10)).isoformat(),
            "note": "For the demo",
        },
        follow=True,
    )
    assert "100 GPU-hours lent to Member Org" in response.content.decode()
    assert "Cancel the loan" in response.content.decode()
    too_much = client.post(
        reverse("compute:loan-create", args=[grid.pool.pk]),
        {
            "borrower": grid.world.org_member.pk,
            "gpu_hours": "99999",
            "starts_on": starts.isoformat(),
            "ends_on": (starts + datetime.timedelta(days=10)).isoformat(),
        },
    )
    assert too_much.status_code == 400
    assert "can lend at most" in too_much.content.decode()
    period = {"period": starts.strftime("%Y-%m"), "organisation": grid.world.org_chair.pk}
    if starts.month == TODAY().month:
        csv_text = client.get(
            reverse("compute:statement-csv", args=[grid.world.consortium_a.pk]), period
        ).content.decode()
        assert ",100.00," in csv_text.splitlines()[1]  # lent in full within the month


def test_a_member_invited_elsewhere_still_reads_its_own_statement(
    grid: Grid, browser_as: Any
) -> None:
    """An organisation's invitation to another consortium must not hide it here."""
    from tests.consortia.factories import MembershipFactory

    world = grid.world
    MembershipFactory.create(
        consortium=world.consortium_b, organisation=world.org_chair, status="invited"
    )
    response = browser_as(world.chair).get(
        f"/compute/consortia/{world.consortium_a.pk}/statements/?period=2026-11"
    )
    assert response.status_code == 200
    assert "Chair Org" in response.content.decode()


def test_the_pool_index_lists_only_pools_the_reader_sees(grid: Grid, browser_as: Any) -> None:
    member_page = browser_as(grid.world.member).get("/compute/pools/")
    assert member_page.status_code == 200
    assert "H100 pool" in member_page.content.decode()
    outsider_page = browser_as(grid.world.outsider).get("/compute/pools/")
    assert outsider_page.status_code == 200
    assert "H100 pool" not in outsider_page.content.decode()
