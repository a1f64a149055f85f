"""Compute's part of the partnership health check: each finding appears when its mistake is
present, goes away when it is fixed, and links to a page the chair can open to fix it.

The grid's pool runs at Paris-1 and Frankfurt-1 of Sovereign Compute SAS, approved for the
consortium since 2025. "Today" is 2026-12-03.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from compute import allocations, directory
from compute.fairshare import check_alerts
from compute.models import AllocationRequest, Approval, Pool, Provider, Site, UsageRecord
from compute.shares import contribution_record
from consortia import health
from consortia.health import Finding
from consortia.models import Jurisdiction, Organisation
from tests.compute.conftest import Grid, at

NOW = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()
COMPUTE_CODES = {
    "pool_site_not_approved",
    "pool_site_exposed",
    "certification_lapsed",
    "certification_expiring",
    "fair_share_overuse",
    "fair_share_starved",
    "capacity_requests_waiting",
}


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def found(grid: Grid, code: str) -> list[Finding]:
    return [finding for finding in health.run(grid.world.consortium_a)[1] if finding.code == code]


def assert_fixable_by_the_chair(grid: Grid, browser_as: Any, findings: list[Finding]) -> None:
    """Every finding links to a page that opens for the chair, who can act on it there."""
    assert findings
    client = browser_as(grid.world.chair)
    for finding in findings:
        assert client.get(finding.url).status_code == 200, finding.url


def provider_approval(grid: Grid) -> Approval:
    return Approval.objects.get(consortium=grid.world.consortium_a, provider=grid.provider)


def test_a_healthy_grid_has_no_compute_findings(grid: Grid) -> None:
    codes = {finding.code for finding in health.run(grid.world.consortium_a)[1]}
    assert not codes & COMPUTE_CODES


# Sites ---------------------------------------------------------------------------------------


def test_a_pool_at_a_site_no_longer_approved(grid: Grid, browser_as: Any) -> None:
    world = grid.world
    directory.approval_revoke(
        actor=world.chair, approval=provider_approval(grid), reason="Contract ended"
    )
    (finding,) = found(grid, "pool_site_not_approved")
    assert finding.severity == "high"
    assert finding.title == (
        "H100 pool runs at sites the consortium no longer approves: Frankfurt-1, Paris-1."
    )
    assert finding.url == reverse("compute:pool", args=[grid.pool.pk])
    assert_fixable_by_the_chair(grid, browser_as, [finding])

    directory.approve(
        actor=world.chair, consortium=world.consortium_a, provider=grid.provider, valid_from=TODAY
    )
    assert found(grid, "pool_site_not_approved") == []


def test_a_pool_at_a_site_a_foreign_law_can_reach(grid: Grid, browser_as: Any) -> None:
    world = grid.world
    # A second pool, at a provider without exposure, stays out of it.
    de = Jurisdiction.objects.get(pk="DE")
    clean = Provider.objects.create(
        legal_name="Rechenzentrum GmbH",
        head_office_jurisdiction=de,
        ultimate_parent_jurisdiction=de,
        registered_by=world.chair,
    )
    munich = Site.objects.create(provider=clean, name="Munich-1", jurisdiction=de)
    munich.administered_from.set([de])
    directory.approve(
        actor=world.chair, consortium=world.consortium_a, provider=clean, valid_from=TODAY
    )
    other = Pool.objects.create(
        consortium=world.consortium_a, name="L40S pool", gpu_type="L40S", created_by=world.chair
    )
    other.sites.set([munich])
    assert found(grid, "pool_site_exposed") == []

    directory.exposure_record(
        actor=world.chair,
        provider=grid.provider,
        law="us_cloud_act",
        basis="parent",
        assessed_on=TODAY - datetime.timedelta(days=10),
    )
    findings = found(grid, "pool_site_exposed")
    assert sorted(finding.title for finding in findings) == [
        "H100 pool runs at Frankfurt-1 of Sovereign Compute SAS, which is exposed to US CLOUD Act.",
        "H100 pool runs at Paris-1 of Sovereign Compute SAS, which is exposed to US CLOUD Act.",
    ]
    assert {finding.severity for finding in findings} == {"high"}
    assert {finding.url for finding in findings} == {reverse("compute:pool", args=[grid.pool.pk])}
    assert_fixable_by_the_chair(grid, browser_as, findings)

    # An approval without conditions says nothing about the exposure: re-approving with the
    # legal assessment and its conditions written down settles it.
    directory.approval_revoke(
        actor=world.chair, approval=provider_approval(grid), reason="Re-assessed"
    )
    directory.approve(
        actor=world.chair,
        consortium=world.consortium_a,
        provider=grid.provider,
        valid_from=TODAY,
        conditions="Legal opinion of 2026-11-20: CLOUD Act exposure accepted for non-personal "
        "data only; keys held by the consortium in the EU.",
    )
    assert found(grid, "pool_site_exposed") == []

    # A later assessment (a second law) was not weighed by that approval.
    later = NOW + datetime.timedelta(days=5)
    with time_machine.travel(later, tick=False):
        directory.exposure_record(
            actor=world.chair,
            provider=grid.provider,
            law="us_fisa_702",
            basis="parent",
            assessed_on=later.date(),
        )
        titles = [finding.title for finding in found(grid, "pool_site_exposed")]
    assert len(titles) == 2
    assert all("US CLOUD Act, US FISA section 702" in title for title in titles)


# Certificates --------------------------------------------------------------------------------


def certify(
    grid: Grid,
    valid_from: datetime.date,
    valid_until: datetime.date,
    site: Site | None = None,
    scheme: str = "secnumcloud",
) -> None:
    directory.certification_record(
        actor=grid.world.chair,
        provider=grid.provider,
        scheme=scheme,
        valid_from=valid_from,
        valid_until=valid_until,
        evidence=f"ANSSI-{valid_from.year}-{site.pk if site else 0}",
        site=site,
    )


def days(count: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=count)


def test_a_lapsed_certificate(grid: Grid, browser_as: Any) -> None:
    certify(grid, days(-3 * 365), days(-1))
    (finding,) = found(grid, "certification_lapsed")
    assert finding.severity == "high"
    assert finding.title == (
        f"Sovereign Compute SAS's SecNumCloud certificate lapsed on {days(-1)} — H100 pool "
        "depends on it."
    )
    assert finding.url == reverse("compute:provider", args=[grid.provider.pk])
    assert found(grid, "certification_expiring") == []
    assert_fixable_by_the_chair(grid, browser_as, [finding])

    # A renewal of another scheme does not stand in for it; the same scheme does.
    certify(grid, days(-1), days(3 * 365), scheme="iso_27001")
    assert [f.code for f in found(grid, "certification_lapsed")] == ["certification_lapsed"]
    certify(grid, days(-1), days(3 * 365))
    assert found(grid, "certification_lapsed") == []
    assert found(grid, "certification_expiring") == []


def test_a_lapsed_site_certificate_needs_a_renewal_for_that_site(grid: Grid) -> None:
    certify(grid, days(-3 * 365), days(-30), site=grid.paris)
    (finding,) = found(grid, "certification_lapsed")
    assert "SecNumCloud for Paris-1 certificate lapsed" in finding.title
    certify(grid, days(-30), days(3 * 365), site=grid.frankfurt)
    assert len(found(grid, "certification_lapsed")) == 1  # Frankfurt's is not Paris's
    certify(grid, days(-30), days(3 * 365), site=grid.paris)
    assert found(grid, "certification_lapsed") == []


def test_an_old_certificate_replaced_in_time_is_not_lapsed(grid: Grid) -> None:
    certify(grid, days(-6 * 365), days(-3 * 365))
    certify(grid, days(-3 * 365), days(365))
    assert found(grid, "certification_lapsed") == []


def test_a_certificate_about_to_expire(grid: Grid, browser_as: Any) -> None:
    certify(grid, days(-3 * 365), days(30))
    (finding,) = found(grid, "certification_expiring")
    assert finding.severity == "medium"
    assert finding.url == reverse("compute:provider", args=[grid.provider.pk])
    assert_fixable_by_the_chair(grid, browser_as, [finding])

    # Left alone, it lapses.
    with time_machine.travel(NOW + datetime.timedelta(days=31), tick=False):
        assert [f.code for f in found(grid, "certification_lapsed")] == ["certification_lapsed"]
        assert found(grid, "certification_expiring") == []

    # A renewal that itself ends inside the notice period does not settle it.
    certify(grid, days(30), days(50))
    assert len(found(grid, "certification_expiring")) == 1
    # The renewed certificate, from the day the old one ends, well beyond the notice period.
    certify(grid, days(30), days(3 * 365 + 30))
    assert found(grid, "certification_expiring") == []
    with time_machine.travel(NOW + datetime.timedelta(days=31), tick=False):
        assert found(grid, "certification_lapsed") == []


# Fair share ----------------------------------------------------------------------------------


def contribute(grid: Grid, organisation: Organisation, amount: str) -> None:
    contribution_record(
        actor=grid.world.chair,
        pool=grid.pool,
        organisation=organisation,
        kind="capital",
        amount=Decimal(amount),
        contributed_on=datetime.date(2026, 1, 15),
    )


def use(grid: Grid, organisation: Organisation, gpu_hours: str) -> None:
    UsageRecord.objects.update_or_create(
        pool=grid.pool,
        site=grid.paris,
        organisation=organisation,
        day=TODAY,
        defaults={"gpu_hours": Decimal(gpu_hours), "reported_by": grid.technician},
    )


@pytest.fixture
def shared(grid: Grid) -> Grid:
    """Chair Org holds three quarters of the pool, Member Org one quarter."""
    contribute(grid, grid.world.org_chair, "300")
    contribute(grid, grid.world.org_member, "100")
    return grid


def request_capacity(grid: Grid, actor: Any) -> AllocationRequest:
    return allocations.request_submit(
        actor=actor,
        pool=grid.pool,
        gpus=4,
        starts_at=at("2027-01-10"),
        ends_at=at("2027-01-20"),
        purpose="Fine-tune the legal-domain model",
        sites=[grid.paris],
    )


def test_a_member_far_above_its_share(
    shared: Grid, browser_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    world = shared.world
    use(shared, world.org_member, "100")  # all the usage against a quarter share
    with django_capture_on_commit_callbacks(execute=True):
        check_alerts(shared.pool)
    (finding,) = found(shared, "fair_share_overuse")
    assert finding.title.startswith("Member Org in H100 pool: using more than its share")
    assert finding.url == reverse("compute:fair-share", args=[shared.pool.pk])
    assert_fixable_by_the_chair(shared, browser_as, [finding])

    use(shared, world.org_chair, "300")  # usage now follows the shares
    check_alerts(shared.pool)
    assert found(shared, "fair_share_overuse") == []


def test_a_member_starved_below_its_share(
    shared: Grid, browser_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    world = shared.world
    request = request_capacity(shared, world.chair)  # Chair Org waits, having used nothing
    with django_capture_on_commit_callbacks(execute=True):
        check_alerts(shared.pool)
    (finding,) = found(shared, "fair_share_starved")
    assert finding.title.startswith("Chair Org in H100 pool: starved below its share")
    assert finding.url == reverse("compute:fair-share", args=[shared.pool.pk])
    assert_fixable_by_the_chair(shared, browser_as, [finding])

    # The board decides the request: Chair Org no longer waits, the alert clears.
    allocations.request_decide(
        actor=shared.board, request=request, decision="reject", reason="Resubmit for February"
    )
    check_alerts(shared.pool)
    assert found(shared, "fair_share_starved") == []


# Requests ------------------------------------------------------------------------------------


def test_capacity_requests_left_waiting(grid: Grid, browser_as: Any) -> None:
    request = request_capacity(grid, grid.technician)
    assert found(grid, "capacity_requests_waiting") == []
    with time_machine.travel(NOW + datetime.timedelta(days=8), tick=False):
        (finding,) = found(grid, "capacity_requests_waiting")
        assert finding.title == "1 capacity request waited more than a week for the board."
        assert finding.url == reverse("compute:queue", args=[grid.world.consortium_a.pk])
        assert_fixable_by_the_chair(grid, browser_as, [finding])
        allocations.request_decide(
            actor=grid.board_chair_org,
            request=request,
            decision="request_changes",
            reason="Name the data sets",
        )
        assert found(grid, "capacity_requests_waiting") == []
