"""The compute API from the outside: each endpoint's happy path, and bad input answered with a
specific message that changes nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

from compute import allocations, shares
from compute.models import (
    AllocationRequest,
    Approval,
    Loan,
    Provider,
    Reservation,
    Site,
    UsageRecord,
)
from tests.compute.conftest import Grid, at

API = "/api/v1"
WINDOW = {"starts_at": "2027-01-10T00:00:00Z", "ends_at": "2027-01-20T00:00:00Z"}


def request_body(grid: Grid, **overrides: Any) -> dict[str, Any]:
    return {
        "pool": grid.pool.pk,
        "gpus": 4,
        **WINDOW,
        "purpose": "Fine-tune the legal-domain model",
        "sites": [grid.paris.pk],
        **overrides,
    }


def submitted(grid: Grid, gpus: int = 4) -> AllocationRequest:
    return allocations.request_submit(
        actor=grid.technician,
        pool=grid.pool,
        gpus=gpus,
        starts_at=at("2027-01-10"),
        ends_at=at("2027-01-20"),
        purpose="Fine-tune the legal-domain model",
        sites=[grid.paris],
    )


def contributed(grid: Grid) -> None:
    for organisation in (grid.world.org_chair, grid.world.org_member):
        shares.contribution_record(
            actor=grid.world.chair,
            pool=grid.pool,
            organisation=organisation,
            kind="capital",
            amount=Decimal(1000),
            contributed_on=datetime.date(2026, 11, 1),
        )


def other_site(grid: Grid, name: str = "Lyon-1") -> Site:
    """A site of the approved provider that is not in the pool."""
    site = Site.objects.create(
        provider=grid.provider, name=name, jurisdiction=grid.paris.jurisdiction
    )
    site.administered_from.set([grid.paris.jurisdiction])
    return site


def errors_of(response: Any, field: str) -> str:
    assert response.status_code == 400, response.content
    return " ".join(str(message) for message in response.json()["errors"][field])


# The directory.


def test_providers_are_registered_with_exposures_and_certifications(
    grid: Grid, api_as: Any
) -> None:
    client = api_as(grid.world.chair)
    created = client.post(
        f"{API}/providers/",
        {
            "legal_name": "Hyperscale Cloud EU GmbH",
            "head_office_jurisdiction": "de",
            "ultimate_parent_jurisdiction": "US",
        },
    )
    assert created.status_code == 201, created.content
    provider = created.json()
    assert (provider["head_office_jurisdiction"], provider["registered_by"]) == ("DE", "chair")
    exposed = client.post(
        f"{API}/providers/{provider['id']}/exposures/",
        {"law": "us_cloud_act", "basis": "parent", "assessed_on": "2026-11-01"},
    )
    assert exposed.status_code == 201, exposed.content
    assert [(e["law"], e["basis"]) for e in exposed.json()["exposures"]] == [
        ("us_cloud_act", "parent")
    ]
    certified = client.post(
        f"{API}/providers/{provider['id']}/certifications/",
        {
            "scheme": "c5",
            "valid_from": "2026-01-01",
            "valid_until": "2028-01-01",
            "evidence": "BSI C5 attestation 2026-117",
        },
    )
    assert certified.status_code == 201, certified.content
    detail = client.get(f"{API}/providers/{provider['id']}/").json()
    assert [c["scheme"] for c in detail["certifications"]] == ["c5"]
    listed = client.get(f"{API}/providers/?q=hyperscale").json()["results"]
    assert [row["legal_name"] for row in listed] == ["Hyperscale Cloud EU GmbH"]


def test_bad_directory_input_names_the_field_and_changes_nothing(
    grid: Grid, api_as: Any, unchanged: Any
) -> None:
    client = api_as(grid.world.chair)
    with unchanged():
        unknown = client.post(
            f"{API}/providers/",
            {
                "legal_name": "Nowhere Ltd",
                "head_office_jurisdiction": "ZZ",
                "ultimate_parent_jurisdiction": "FR",
            },
        )
        again = client.post(
            f"{API}/providers/",
            {
                "legal_name": "sovereign compute sas",
                "head_office_jurisdiction": "FR",
                "ultimate_parent_jurisdiction": "FR",
            },
        )
        future = client.post(
            f"{API}/providers/{grid.provider.pk}/exposures/",
            {"law": "us_cloud_act", "basis": "contract", "assessed_on": "2027-01-01"},
        )
        foreign_site = client.post(
            f"{API}/providers/{grid.provider.pk}/certifications/",
            {
                "scheme": "iso_27001",
                "valid_from": "2026-01-01",
                "valid_until": "2025-01-01",
                "evidence": "x",
                "site": 999999,
            },
        )
        bloc_site = client.post(
            f"{API}/sites/",
            {
                "provider": grid.provider.pk,
                "name": "Brussels-1",
                "jurisdiction": "EU",
                "administered_from": ["BE"],
            },
        )
    assert "'ZZ' is not a known jurisdiction code" in errors_of(unknown, "head_office_jurisdiction")
    assert "already in the directory" in errors_of(again, "legal_name")
    assert "not in the future" in errors_of(future, "assessed_on")
    assert "No site of the directory has id 999999" in errors_of(foreign_site, "site")
    assert "name it, not a bloc" in errors_of(bloc_site, "jurisdiction")


def test_sites_are_registered_and_filtered(grid: Grid, api_as: Any) -> None:
    client = api_as(grid.technician)
    created = client.post(
        f"{API}/sites/",
        {
            "provider": grid.provider.pk,
            "name": "Lyon-1",
            "jurisdiction": "fr",
            "administered_from": ["FR", "de"],
            "air_gapped": True,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["jurisdiction"], body["administered_from"], body["air_gapped"]) == (
        "FR",
        ["DE", "FR"],
        True,
    )
    in_france = client.get(f"{API}/sites/?jurisdiction=fr&provider={grid.provider.pk}")
    assert sorted(row["name"] for row in in_france.json()["results"]) == ["Lyon-1", "Paris-1"]


# Approvals.


def test_the_chair_approves_a_site_and_revokes_the_approval(grid: Grid, api_as: Any) -> None:
    client = api_as(grid.world.chair)
    created = client.post(
        f"{API}/compute-approvals/",
        {
            "consortium": grid.world.consortium_a.pk,
            "site": grid.paris.pk,
            "valid_from": "2026-12-01",
            "conditions": "Only for non-personal data.",
        },
    )
    assert created.status_code == 201, created.content
    approval = created.json()
    assert (approval["site"], approval["provider"], approval["approved_by"]) == (
        grid.paris.pk,
        None,
        "chair",
    )
    listed = client.get(f"{API}/compute-approvals/?consortium={grid.world.consortium_a.pk}")
    assert len(listed.json()["results"]) == 2  # the provider's and the site's
    revoked = client.post(
        f"{API}/compute-approvals/{approval['id']}/revoke/", {"reason": "Audit finding"}
    )
    assert revoked.status_code == 200, revoked.content
    assert revoked.json()["revoked_at"] is not None
    again = client.post(f"{API}/compute-approvals/{approval['id']}/revoke/", {"reason": "Twice"})
    assert (again.status_code, again.json()["code"]) == (409, "already_revoked")


def test_approval_refusals_are_specific_and_change_nothing(
    grid: Grid, api_as: Any, unchanged: Any
) -> None:
    client = api_as(grid.world.chair)
    approval = Approval.objects.get(consortium=grid.world.consortium_a)
    with unchanged():
        duplicate = client.post(
            f"{API}/compute-approvals/",
            {
                "consortium": grid.world.consortium_a.pk,
                "provider": grid.provider.pk,
                "valid_from": "2026-12-01",
            },
        )
        both = client.post(
            f"{API}/compute-approvals/",
            {
                "consortium": grid.world.consortium_a.pk,
                "provider": grid.provider.pk,
                "site": grid.paris.pk,
                "valid_from": "2026-12-01",
            },
        )
        no_reason = client.post(f"{API}/compute-approvals/{approval.pk}/revoke/", {})
        by_member = api_as(grid.world.member).post(
            f"{API}/compute-approvals/",
            {
                "consortium": grid.world.consortium_a.pk,
                "site": grid.paris.pk,
                "valid_from": "2026-12-01",
            },
        )
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "already_approved")
    assert "one at a time" in errors_of(both, "provider")
    assert "Say why" in errors_of(no_reason, "reason")
    assert by_member.status_code == 403


# Pools.


def test_pool_list_and_detail(grid: Grid, api_as: Any) -> None:
    contributed(grid)
    client = api_as(grid.world.observer)
    rows = client.get(f"{API}/pools/?consortium={grid.world.consortium_a.pk}").json()["results"]
    assert [(row["name"], row["board_reserve"]) for row in rows] == [("H100 pool", "0.0500")]
    detail = client.get(f"{API}/pools/{grid.pool.pk}/").json()
    assert [(site["name"], site["gpus"]) for site in detail["sites"]] == [
        ("Frankfurt-1", 8),
        ("Paris-1", 16),
    ]
    assert detail["gpus"] == 24
    assert {row["organisation_name"]: row["share"] for row in detail["shares"]} == {
        "Chair Org": "0.500000",
        "Member Org": "0.500000",
    }
    assert api_as(grid.world.outsider).get(f"{API}/pools/").json()["results"] == []


def test_the_chair_creates_a_pool_and_changes_its_settings(grid: Grid, api_as: Any) -> None:
    client = api_as(grid.world.chair)
    created = client.post(
        f"{API}/pools/",
        {
            "consortium": grid.world.consortium_a.pk,
            "name": "B200 pool",
            "gpu_type": "B200",
            "sites": [{"site": grid.paris.pk, "gpus": 4}, {"site": grid.frankfurt.pk}],
            "half_life_days": 7,
        },
    )
    assert created.status_code == 201, created.content
    pool = created.json()
    assert (pool["gpu_type"], pool["half_life_days"], pool["gpus"]) == ("B200", 7, 4)
    changed = client.patch(
        f"{API}/pools/{pool['id']}/", {"board_reserve": "0.1", "overuse_multiple": "2"}
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["board_reserve"], changed.json()["overuse_multiple"]) == (
        "0.1000",
        "2.00",
    )


def test_bad_pool_input_is_refused_and_changes_nothing(
    grid: Grid, api_as: Any, unchanged: Any
) -> None:
    elsewhere = Provider.objects.create(
        legal_name="Unapproved Cloud",
        head_office_jurisdiction_id="US",
        ultimate_parent_jurisdiction_id="US",
        registered_by=grid.world.chair,
    )
    unapproved = Site.objects.create(provider=elsewhere, name="Dublin-1", jurisdiction_id="IE")
    client = api_as(grid.world.chair)
    with unchanged():
        not_approved = client.post(
            f"{API}/pools/",
            {
                "consortium": grid.world.consortium_a.pk,
                "name": "Elsewhere",
                "gpu_type": "H100",
                "sites": [{"site": unapproved.pk, "gpus": 8}],
            },
        )
        reserve = client.patch(f"{API}/pools/{grid.pool.pk}/", {"board_reserve": "0.9"})
        nothing = client.patch(f"{API}/pools/{grid.pool.pk}/", {})
    assert "Not approved for this consortium today: Dublin-1" in errors_of(not_approved, "sites")
    assert "Choose a value from 0 to 0.5" in errors_of(reserve, "board_reserve")
    assert "at least one setting" in errors_of(nothing, "non_field_errors")


def test_the_chair_adds_an_approved_site_to_the_pool(grid: Grid, api_as: Any) -> None:
    lyon = other_site(grid)
    added = api_as(grid.world.chair).post(
        f"{API}/pools/{grid.pool.pk}/sites/",
        {"site": lyon.pk, "gpus": 2, "effective_at": "2026-12-01T00:00:00Z"},
    )
    assert added.status_code == 201, added.content
    assert {site["name"]: site["gpus"] for site in added.json()["sites"]}["Lyon-1"] == 2


# Capacity.


def test_the_board_changes_capacity_and_reads_it_over_a_window(grid: Grid, api_as: Any) -> None:
    client = api_as(grid.board)
    changed = client.post(
        f"{API}/pools/{grid.pool.pk}/capacity/",
        {
            "site": grid.paris.pk,
            "effective_at": "2027-01-15T00:00:00Z",
            "gpus": 32,
            "reason": "New racks",
        },
    )
    assert changed.status_code == 201, changed.content
    assert (changed.json()["gpus"], changed.json()["recorded_by"]) == (32, "board")
    allocations.request_decide(
        actor=grid.board_chair_org, request=submitted(grid), decision="approve"
    )
    window = client.get(f"{API}/pools/{grid.pool.pk}/capacity/?from=2027-01-01&to=2027-02-01")
    assert window.status_code == 200, window.content
    body = window.json()
    assert (body["from"], body["to"]) == ("2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z")
    paris = next(site for site in body["sites"] if site["site"] == grid.paris.pk)
    assert paris["capacity"] == [
        {"at": "2027-01-01T00:00:00Z", "gpus": 16},
        {"at": "2027-01-15T00:00:00Z", "gpus": 32},
    ]
    assert paris["reserved"] == [
        {"at": "2027-01-01T00:00:00Z", "gpus": 0},
        {"at": "2027-01-10T00:00:00Z", "gpus": 4},
        {"at": "2027-01-20T00:00:00Z", "gpus": 0},
    ]
    # 8 Frankfurt GPUs all month; Paris 16 until the 15th, 32 after: in GPU-hours.
    assert body["capacity_gpu_hours"] == "24384.0"  # 8 x 744 + 16 x 336 + 32 x 408


def test_bad_capacity_input_is_refused_and_changes_nothing(
    grid: Grid, api_as: Any, unchanged: Any
) -> None:
    lyon = other_site(grid)
    allocations.request_decide(
        actor=grid.board_chair_org, request=submitted(grid, gpus=12), decision="approve"
    )
    client = api_as(grid.board)
    url = f"{API}/pools/{grid.pool.pk}/capacity/"
    with unchanged():
        negative = client.post(
            url, {"site": grid.paris.pk, "effective_at": "2027-01-01T00:00:00Z", "gpus": -4}
        )
        outside = client.post(
            url, {"site": lyon.pk, "effective_at": "2027-01-01T00:00:00Z", "gpus": 4}
        )
        below = client.post(
            url, {"site": grid.paris.pk, "effective_at": "2027-01-01T00:00:00Z", "gpus": 8}
        )
        window = client.get(f"{url}?from=2027-02-01&to=2027-01-01")
        not_a_day = client.get(f"{url}?from=soon")
    assert "zero or more" in errors_of(negative, "gpus")
    assert "Lyon-1" in errors_of(outside, "site")
    assert "is not one of the sites of H100 pool" in errors_of(outside, "site")
    assert below.status_code == 409
    assert "request 1 (12 GPUs)" in below.json()["detail"]
    assert "ends after it starts" in errors_of(window, "to")
    assert "'soon' is not a day or an instant" in errors_of(not_a_day, "from")


def test_a_capacity_window_takes_any_utc_offset(grid: Grid, api_as: Any) -> None:
    """Regression (found by the contract run): Python reads offsets up to 23:59, PostgreSQL
    only up to 15:59, so ``+18:30`` reached the query and failed as a server error."""
    client = api_as(grid.board)
    url = f"{API}/pools/{grid.pool.pk}/capacity/"
    window = client.get(url, {"from": "2027-01-01T18:30:00+18:30", "to": "2027-01-02"})
    assert window.status_code == 200, window.content
    assert window.json()["from"] == "2027-01-01T00:00:00Z"
    late = client.get(url, {"from": "9999-12-31"})
    assert "before the year 9999" in errors_of(late, "from")
    beyond = client.get(url, {"from": "9999-12-31T23:00:00-05:00"})
    assert "is not a day or an instant" in errors_of(beyond, "from")


def test_a_capacity_change_off_the_calendar_is_refused(
    grid: Grid, api_as: Any, unchanged: Any
) -> None:
    """Regression (found by the contract run): a change at year 1 looked back over the pool's
    longest reservation, before the calendar starts, and failed as a server error."""
    client = api_as(grid.board)
    with unchanged():
        for instant in ("0001-01-01T01:00:00Z", "9999-12-31T00:00:00Z"):
            answer = client.post(
                f"{API}/pools/{grid.pool.pk}/capacity/",
                {"site": grid.paris.pk, "effective_at": instant, "gpus": 4},
                format="json",
            )
            assert "between the years 1970 and 2999" in errors_of(answer, "effective_at")


# Contributions and shares.


def test_contributions_are_recorded_listed_and_set_the_shares(grid: Grid, api_as: Any) -> None:
    client = api_as(grid.world.chair)
    url = f"{API}/pools/{grid.pool.pk}/contributions/"
    capital = client.post(
        url,
        {
            "organisation": grid.world.org_chair.pk,
            "kind": "capital",
            "amount": "3000.00",
            "contributed_on": "2026-11-01",
            "reference": "Invoice 17",
        },
    )
    assert capital.status_code == 201, capital.content
    in_kind = client.post(
        url,
        {
            "organisation": grid.world.org_member.pk,
            "kind": "in_kind",
            "amount": "400",
            "contributed_on": "2026-11-02",
            "site": grid.frankfurt.pk,
        },
    )
    assert in_kind.status_code == 201, in_kind.content
    assert in_kind.json()["value"] == "1000.00"  # 400 GPU-hours at 2.50
    correction = client.post(
        url,
        {
            "organisation": grid.world.org_chair.pk,
            "kind": "capital",
            "amount": "-1000",
            "contributed_on": "2026-11-03",
            "corrects": capital.json()["id"],
        },
    )
    assert correction.status_code == 201, correction.content
    ledger = api_as(grid.world.observer).get(url).json()["results"]
    assert [row["amount"] for row in ledger] == ["-1000.00", "400.00", "3000.00"]
    detail = client.get(f"{API}/pools/{grid.pool.pk}/").json()
    assert {row["organisation"]: row["share"] for row in detail["shares"]} == {
        grid.world.org_chair.pk: "0.666667",
        grid.world.org_member.pk: "0.333333",
    }


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"amount": "-500"}, "amount", "A negative amount corrects an earlier entry"),
        ({"contributed_on": "2026-12-31"}, "contributed_on", "once made, not in advance"),
        ({"amount": "0"}, "amount", "A contribution of nothing changes nothing"),
        ({"kind": "shares"}, "kind", "capital or in kind"),
        ({"organisation": 999999}, "organisation", "No member organisation"),
        ({"kind": "in_kind"}, "site", "Say at which site"),
        ({"corrects": 999999}, "corrects", "No entry of this pool's ledger has id 999999"),
    ],
)
def test_bad_contributions_are_refused_and_change_nothing(
    grid: Grid, api_as: Any, unchanged: Any, body: dict[str, Any], field: str, message: str
) -> None:
    values = {
        "organisation": grid.world.org_member.pk,
        "kind": "capital",
        "amount": "100",
        "contributed_on": "2026-11-01",
        **body,
    }
    with unchanged():
        response = api_as(grid.world.chair).post(
            f"{API}/pools/{grid.pool.pk}/contributions/", values
        )
    assert message in errors_of(response, field)


def test_an_outsiders_organisation_is_no_member(grid: Grid, api_as: Any, unchanged: Any) -> None:
    with unchanged():
        response = api_as(grid.world.chair).post(
            f"{API}/pools/{grid.pool.pk}/contributions/",
            {
                "organisation": grid.world.org_outsider.pk,
                "kind": "capital",
                "amount": "100",
                "contributed_on": "2026-11-01",
            },
        )
    assert "No member organisation of this consortium" in errors_of(response, "organisation")


# Fair share.


def test_fair_share_of_a_pool_and_across_the_consortiums_pools(grid: Grid, api_as: Any) -> None:
    contributed(grid)
    UsageRecord.objects.create(
        pool=grid.pool,
        site=grid.paris,
        organisation=grid.world.org_chair,
        day=datetime.date(2026, 12, 1),
        gpu_hours=Decimal(100),
        reported_by=grid.technician,
    )
    client = api_as(grid.world.observer)
    pool = client.get(f"{API}/pools/{grid.pool.pk}/fair-share/?on=2026-12-02")
    assert pool.status_code == 200, pool.content
    body = pool.json()
    assert body["on"] == "2026-12-02"
    first, second = body["members"]
    # Member Org has a share and no usage: it is the most under-served (level infinite).
    assert (first["organisation_name"], first["rank"], first["level"]) == ("Member Org", 1, None)
    assert (second["organisation_name"], second["usage_fraction"]) == ("Chair Org", 1.0)
    assert second["used_gpu_hours_30d"] == "100.00"
    across = client.get(
        f"{API}/pools/fair-share-across/?consortium={grid.world.consortium_a.pk}&on=2026-12-02"
    )
    assert across.status_code == 200, across.content
    assert across.json()["consortium"] == grid.world.consortium_a.pk
    assert [row["organisation_name"] for row in across.json()["members"]] == [
        "Member Org",
        "Chair Org",
    ]


def test_fair_share_bad_parameters(grid: Grid, api_as: Any) -> None:
    client = api_as(grid.world.observer)
    assert "is not a day" in errors_of(
        client.get(f"{API}/pools/{grid.pool.pk}/fair-share/?on=tomorrow"), "on"
    )
    # Regression (found by the contract run): year 1 left the calendar looking back.
    assert "between the years 1970 and 2999" in errors_of(
        client.get(f"{API}/pools/{grid.pool.pk}/fair-share/?on=0001-01-01"), "on"
    )
    assert "Name the consortium" in errors_of(
        client.get(f"{API}/pools/fair-share-across/"), "consortium"
    )
    outside = api_as(grid.world.outsider).get(
        f"{API}/pools/fair-share-across/?consortium={grid.world.consortium_a.pk}"
    )
    assert outside.status_code == 404


# Usage.


def usage_rows(grid: Grid) -> list[dict[str, Any]]:
    return [
        {
            "organisation": grid.world.org_member.pk,
            "site": grid.paris.pk,
            "day": "2026-11-01",
            "gpu_hours": "10.5",
        },
        {
            "organisation": "Chair Org",
            "site": "Frankfurt-1",
            "day": "2026-11-01",
            "gpu_hours": "5",
        },
    ]


def test_usage_sent_twice_is_counted_once(grid: Grid, api_as: Any) -> None:
    client = api_as(grid.technician)
    url = f"{API}/pools/{grid.pool.pk}/usage/"
    first = client.post(url, {"rows": usage_rows(grid)})
    assert first.status_code == 200, first.content
    assert first.json() == {"rows": 2, "created": 2, "replaced": 0, "total_gpu_hours": "15.50"}
    again = client.post(url, {"rows": usage_rows(grid)})
    assert again.json() == {"rows": 2, "created": 0, "replaced": 2, "total_gpu_hours": "15.50"}
    listed = api_as(grid.world.observer).get(url).json()
    assert (listed["total_gpu_hours"], len(listed["results"])) == ("15.50", 2)
    mine = api_as(grid.world.observer).get(
        f"{url}?organisation={grid.world.org_member.pk}&day_from=2026-11-01&day_to=2026-11-01"
    )
    assert mine.json()["total_gpu_hours"] == "10.50"
    assert [row["site_name"] for row in mine.json()["results"]] == ["Paris-1"]
    assert api_as(grid.world.observer).get(f"{url}?day_from=2026-11-02").json() == {
        "next": None,
        "previous": None,
        "results": [],
        "total_gpu_hours": "0.00",
    }


def test_usage_as_csv(grid: Grid, api_as: Any) -> None:
    text = "organisation,site,day,gpu_hours\nMember Org,Paris-1,2026-11-01,12.25\n"
    response = api_as(grid.board).post(f"{API}/pools/{grid.pool.pk}/usage/", {"csv": text})
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1
    assert UsageRecord.objects.get().gpu_hours == Decimal("12.25")


def test_a_bad_usage_report_names_every_bad_row_and_writes_nothing(
    grid: Grid, api_as: Any, unchanged: Any
) -> None:
    client = api_as(grid.technician)
    rows = [
        *usage_rows(grid),
        {"organisation": "Member Org", "site": "Nowhere", "day": "2026-11-02", "gpu_hours": "1"},
        {"organisation": "Member Org", "site": "Paris-1", "day": "2026-11-03", "gpu_hours": "-2"},
    ]
    with unchanged():
        response = client.post(f"{API}/pools/{grid.pool.pk}/usage/", {"rows": rows})
        neither = client.post(f"{API}/pools/{grid.pool.pk}/usage/", {})
        unknown_pool = client.post(f"{API}/pools/999999/usage/", {"rows": usage_rows(grid)})
    assert response.status_code == 400
    assert response.json()["errors"]["rows"] == [
        "row 3: site Nowhere is not one of this pool's sites",
        "row 4: gpu_hours -2.00 is negative: report what was used, 0 or more",
    ]
    assert "as rows or as csv" in errors_of(neither, "rows")
    assert unknown_pool.status_code == 404
    assert not UsageRecord.objects.exists()


# Statements.


def test_a_member_reads_its_statement_as_json_and_csv(grid: Grid, api_as: Any) -> None:
    contributed(grid)
    api_as(grid.technician).post(f"{API}/pools/{grid.pool.pk}/usage/", {"rows": usage_rows(grid)})
    client = api_as(grid.technician)
    url = f"{API}/pools/{grid.pool.pk}/statement/?period=2026-11"
    statement = client.get(url)
    assert statement.status_code == 200, statement.content
    body = statement.json()
    assert (body["organisation_name"], body["period"], body["period_end"]) == (
        "Member Org",
        "November 2026",
        "2026-12-01",
    )
    [row] = body["rows"]
    assert (row["share"], row["used_gpu_hours"]) == ("0.500000", "10.50")
    assert body["totals"]["used_gpu_hours"] == "10.50"
    as_csv = client.get(f"{url}&format=csv")
    assert as_csv.status_code == 200, as_csv.content
    assert as_csv["Content-Type"].startswith("text/csv")
    lines = as_csv.content.decode().splitlines()
    assert lines[0].startswith("organisation,period,consortium,pool,gpu_type,share")
    assert lines[-1].startswith("Member Org,November 2026,,Total")
    # The board reads any member's statement.
    chair_org = api_as(grid.board).get(
        f"{API}/pools/{grid.pool.pk}/statement/?period=2026-Q4&organisation={grid.world.org_chair.pk}"
    )
    assert chair_org.status_code == 200, chair_org.content
    assert chair_org.json()["period"] == "Q4 2026"


def test_statement_refusals(grid: Grid, api_as: Any) -> None:
    url = f"{API}/pools/{grid.pool.pk}/statement/"
    observer = api_as(grid.world.observer)
    other = observer.get(f"{url}?organisation={grid.world.org_chair.pk}")
    assert other.status_code == 403
    assert "statement is for its own people" in other.json()["detail"]
    assert "no month 13" in errors_of(observer.get(f"{url}?period=2026-13"), "period")
    assert "is not a period" in errors_of(observer.get(f"{url}?period=last%20year"), "period")
    bad_csv = observer.get(f"{url}?period=nope&format=csv")
    assert bad_csv.status_code == 400
    assert "is not a period" in bad_csv.json()["errors"]["period"][0]


# Allocation requests and reservations.


def test_a_request_is_made_decided_and_its_reservation_released(grid: Grid, api_as: Any) -> None:
    created = api_as(grid.technician).post(f"{API}/allocation-requests/", request_body(grid))
    assert created.status_code == 201, created.content
    request = created.json()
    assert (request["number"], request["status"], request["gpu_hours"]) == (1, "submitted", "960.0")
    assert request["sites"] == [{"id": grid.paris.pk, "name": "Paris-1"}]
    waiting = api_as(grid.world.observer).get(
        f"{API}/allocation-requests/?pool={grid.pool.pk}&status=submitted"
        f"&organisation={grid.world.org_member.pk}"
    )
    assert [row["id"] for row in waiting.json()["results"]] == [request["id"]]
    decided = api_as(grid.board_chair_org).post(
        f"{API}/allocation-requests/{request['id']}/decide/",
        {"decision": "approve", "reason": "Fits", "gpus": 3},
    )
    assert decided.status_code == 200, decided.content
    body = decided.json()
    assert (body["status"], body["granted_gpus"], body["decided_by"]) == (
        "partly_approved",
        3,
        "board_c",
    )
    [reservation] = body["reservations"]
    assert (reservation["site_name"], reservation["gpus"], reservation["status"]) == (
        "Paris-1",
        3,
        "active",
    )
    holding = api_as(grid.world.observer).get(
        f"{API}/reservations/?pool={grid.pool.pk}&site={grid.paris.pk}"
        "&active_at=2027-01-15T12:00:00Z"
    )
    assert [row["id"] for row in holding.json()["results"]] == [reservation["id"]]
    later = api_as(grid.world.observer).get(f"{API}/reservations/?active_at=2027-01-20T00:00:00Z")
    assert later.json()["results"] == []
    # Regression (found by the contract run): an offset PostgreSQL does not take (+17:30) was
    # passed to the query as it was and failed there as a server error.
    far_east = api_as(grid.world.observer).get(
        f"{API}/reservations/", {"active_at": "2027-01-16T05:30:00+17:30"}
    )
    assert [row["id"] for row in far_east.json()["results"]] == [reservation["id"]]
    released = api_as(grid.technician).post(
        f"{API}/reservations/{reservation['id']}/release/", {"reason": "Finished early"}
    )
    assert released.status_code == 200, released.content
    assert released.json()["status"] == "released"
    again = api_as(grid.board).post(
        f"{API}/reservations/{reservation['id']}/release/", {"reason": "Twice"}
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_released")


def test_changes_are_requested_then_the_request_is_revised_or_withdrawn(
    grid: Grid, api_as: Any
) -> None:
    request = submitted(grid)
    asked = api_as(grid.board_chair_org).post(
        f"{API}/allocation-requests/{request.pk}/decide/",
        {"decision": "request_changes", "reason": "Spread it over two weeks"},
    )
    assert asked.json()["status"] == "changes_requested"
    revised = api_as(grid.technician).post(
        f"{API}/allocation-requests/{request.pk}/revise/",
        {
            "gpu_hours": "672",
            "starts_at": "2027-01-10T00:00:00Z",
            "ends_at": "2027-01-24T00:00:00Z",
            "purpose": "Fine-tune, spread out",
            "sites": [grid.paris.pk, grid.frankfurt.pk],
        },
    )
    assert revised.status_code == 200, revised.content
    assert (revised.json()["status"], revised.json()["gpus"]) == ("submitted", 2)
    withdrawn = api_as(grid.world.member).post(f"{API}/allocation-requests/{request.pk}/withdraw/")
    assert withdrawn.status_code == 200, withdrawn.content
    assert withdrawn.json()["status"] == "withdrawn"
    late = api_as(grid.technician).post(f"{API}/allocation-requests/{request.pk}/withdraw/")
    assert (late.status_code, late.json()["code"]) == (409, "request_decided")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"gpus": 0}, "gpus", "Ask for at least one GPU"),
        ({"gpus": 2, "gpu_hours": "10"}, "gpus", "not both"),
        ({"starts_at": "2026-06-01T00:00:00Z"}, "starts_at", "not the past"),
        ({"purpose": " "}, "purpose", "Say what the GPUs are for"),
        ({"sites": []}, "sites", "Name the sites"),
        ({"sites": [999999]}, "sites", "No site of the directory has id 999999"),
        ({"datasets": [999999]}, "datasets", "No data set you can see has id 999999"),
        ({"gpus": 30}, "gpus", "16 H100 GPUs in all"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    grid: Grid,
    api_as: Any,
    unchanged: Any,
    overrides: dict[str, Any],
    field: str,
    message: str,
) -> None:
    with unchanged():
        response = api_as(grid.technician).post(
            f"{API}/allocation-requests/", request_body(grid, **overrides)
        )
    assert message in errors_of(response, field)


def test_a_request_at_a_site_outside_the_pool_is_refused(
    grid: Grid, api_as: Any, unchanged: Any
) -> None:
    lyon = other_site(grid)
    with unchanged():
        response = api_as(grid.technician).post(
            f"{API}/allocation-requests/", request_body(grid, sites=[grid.paris.pk, lyon.pk])
        )
    assert errors_of(response, "sites") == "Not sites of H100 pool: Lyon-1."


@pytest.mark.parametrize("persona", ["candidate", "outsider"])
def test_a_non_member_cannot_even_find_the_pool(
    grid: Grid, api_as: Any, unchanged: Any, persona: str
) -> None:
    with unchanged():
        response = api_as(grid.world.persona(persona)).post(
            f"{API}/allocation-requests/", request_body(grid)
        )
    assert response.status_code == 404


@pytest.mark.parametrize("persona", ["member", "chair"])
def test_only_the_capacity_board_decides(
    grid: Grid, api_as: Any, unchanged: Any, persona: str
) -> None:
    request = submitted(grid)
    with unchanged():
        response = api_as(grid.world.persona(persona)).post(
            f"{API}/allocation-requests/{request.pk}/decide/", {"decision": "approve"}
        )
    assert response.status_code == 403
    assert "You may not decide allocation here" in response.json()["detail"]


def test_bad_decisions_are_refused_and_change_nothing(
    grid: Grid, api_as: Any, unchanged: Any
) -> None:
    big = submitted(grid, gpus=12)
    allocations.request_decide(actor=grid.board_chair_org, request=big, decision="approve")
    request = submitted(grid, gpus=4)
    client = api_as(grid.board_chair_org)
    url = f"{API}/allocation-requests/{request.pk}/decide/"
    with unchanged():
        too_many = client.post(url, {"decision": "approve", "gpus": 5})
        outside = client.post(url, {"decision": "approve", "ends_at": "2027-02-01T00:00:00Z"})
        no_reason = client.post(url, {"decision": "reject"})
        unknown = client.post(url, {"decision": "maybe"})
        exhausted = client.post(url, {"decision": "approve"})
        own = api_as(grid.board).post(url, {"decision": "approve"})
    assert "between 1 and the 4 GPUs" in errors_of(too_many, "gpus")
    assert "inside the one asked for" in errors_of(outside, "ends_at")
    assert "Say why" in errors_of(no_reason, "reason")
    assert "not a valid choice" in errors_of(unknown, "decision")
    assert (exhausted.status_code, exhausted.json()["code"]) == (409, "capacity_exhausted")
    assert "Only 3 GPUs are free" in exhausted.json()["detail"]
    assert own.status_code == 403
    assert "own organisation" in own.json()["detail"]
    assert Reservation.objects.count() == 1


# Loans.


def test_a_member_lends_entitlement_and_cancels_the_loan(grid: Grid, api_as: Any) -> None:
    contributed(grid)
    client = api_as(grid.world.member)
    lent = client.post(
        f"{API}/loans/",
        {
            "pool": grid.pool.pk,
            "borrower": grid.world.org_chair.pk,
            "gpu_hours": "100.0",
            "starts_on": "2027-01-01",
            "ends_on": "2027-01-11",
            "note": "For the January sprint",
        },
    )
    assert lent.status_code == 201, lent.content
    loan = lent.json()
    assert (loan["lender_name"], loan["borrower_name"], loan["gpu_hours"]) == (
        "Member Org",
        "Chair Org",
        "100.0",
    )
    listed = api_as(grid.world.observer).get(f"{API}/loans/?pool={grid.pool.pk}")
    assert [row["id"] for row in listed.json()["results"]] == [loan["id"]]
    cancelled = client.post(f"{API}/loans/{loan['id']}/cancel/")
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["cancelled_at"] is not None
    again = client.post(f"{API}/loans/{loan['id']}/cancel/")
    assert (again.status_code, again.json()["code"]) == (409, "loan_cancelled")


def test_bad_loans_are_refused_and_change_nothing(grid: Grid, api_as: Any, unchanged: Any) -> None:
    contributed(grid)
    client = api_as(grid.world.member)
    body = {
        "pool": grid.pool.pk,
        "borrower": grid.world.org_chair.pk,
        "starts_on": "2027-01-01",
        "ends_on": "2027-01-11",
    }
    with unchanged():
        too_much = client.post(f"{API}/loans/", {**body, "gpu_hours": "90000"})
        to_itself = client.post(
            f"{API}/loans/", {**body, "gpu_hours": "10", "borrower": grid.world.org_member.pk}
        )
        past = client.post(f"{API}/loans/", {**body, "gpu_hours": "10", "starts_on": "2026-01-01"})
        stranger = client.post(
            f"{API}/loans/", {**body, "gpu_hours": "10", "borrower": grid.world.org_outsider.pk}
        )
    assert "can lend at most" in errors_of(too_much, "gpu_hours")
    assert "cannot lend to itself" in errors_of(to_itself, "borrower")
    assert "not in the past" in errors_of(past, "starts_on")
    assert "No member organisation of this consortium" in errors_of(stranger, "borrower")
    assert not Loan.objects.exists()


@pytest.mark.parametrize(
    "path", ["allocation-requests/", "reservations/", "pools/{pool}/usage/", "pools/"]
)
def test_lists_take_as_many_queries_for_many_rows_as_for_one(
    grid: Grid, api_as: Any, path: str
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_as(grid.world.observer)
    url = f"{API}/{path.format(pool=grid.pool.pk)}"

    def queries_for_listing() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    def add_rows(day: int) -> None:
        allocations.request_decide(
            actor=grid.board_chair_org, request=submitted(grid, gpus=1), decision="approve"
        )
        UsageRecord.objects.create(
            pool=grid.pool,
            site=grid.paris,
            organisation=grid.world.org_member,
            day=datetime.date(2026, 11, day),
            gpu_hours=Decimal(1),
            reported_by=grid.technician,
        )

    add_rows(1)
    one = queries_for_listing()
    for day in (2, 3, 4):
        add_rows(day)
    assert queries_for_listing() == one


def test_id_filters_take_whole_numbers_only(grid: Grid, api_as: Any) -> None:
    """Regression (found by the contract run): ``?pool=7.9`` was read as a decimal and matched
    pool 7, and a number past 64 bits failed in SQLite as a server error."""
    client = api_as(grid.world.observer)
    exact = client.get(f"{API}/allocation-requests/", {"pool": grid.pool.pk})
    assert exact.status_code == 200
    for value in (f"{grid.pool.pk}.9", "-7.28e+300", str(2**64)):
        assert errors_of(client.get(f"{API}/allocation-requests/", {"pool": value}), "pool")
