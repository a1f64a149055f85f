"""Every compute endpoint from the outside, for every persona.

Another consortium's user (and a user of no consortium) gets 404 on everything of
consortium A, a read-only role 403 on every write, an anonymous caller 401, the right role
2xx; every denial leaves the database as it was. The provider and site directory is shared
by all consortia: everyone signed in reads it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from compute import allocations, lending, shares
from compute.models import AllocationRequest, Approval, Loan, Reservation, Site
from consortia.models import User
from tests.compute.conftest import Grid, at

API = "/api/v1"


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: Callable[[Grid], str]
    expected: dict[str, int]
    body: Callable[[Grid], dict[str, Any]] = field(default=lambda g: {})
    prepare: Callable[[Grid], None] = field(default=lambda g: None)


def persona(grid: Grid, name: str) -> User | None:
    if name in ("board", "board_chair_org", "technician"):
        return getattr(grid, name)  # type: ignore[no-any-return]
    return grid.world.persona(name)


# Prepared states.


def _submitted(grid: Grid) -> None:
    allocations.request_submit(
        actor=grid.technician,
        pool=grid.pool,
        gpus=4,
        starts_at=at("2027-01-10"),
        ends_at=at("2027-01-20"),
        purpose="Fine-tune the legal-domain model",
        sites=[grid.paris],
    )


def _request(grid: Grid) -> AllocationRequest:
    return AllocationRequest.objects.get(pool=grid.pool)


def _approved(grid: Grid) -> None:
    _submitted(grid)
    allocations.request_decide(
        actor=grid.board_chair_org, request=_request(grid), decision="approve"
    )


def _changes_requested(grid: Grid) -> None:
    _submitted(grid)
    allocations.request_decide(
        actor=grid.board_chair_org,
        request=_request(grid),
        decision="request_changes",
        reason="Shorter, please",
    )


def _contributed(grid: Grid) -> None:
    for organisation in (grid.world.org_chair, grid.world.org_member):
        shares.contribution_record(
            actor=grid.world.chair,
            pool=grid.pool,
            organisation=organisation,
            kind="capital",
            amount=Decimal(1000),
            contributed_on=datetime.date(2026, 11, 1),
        )


def _lent(grid: Grid) -> None:
    _contributed(grid)
    lending.loan_grant(
        actor=grid.world.member,
        pool=grid.pool,
        borrower=grid.world.org_chair,
        gpu_hours=Decimal(100),
        starts_on=datetime.date(2027, 1, 1),
        ends_on=datetime.date(2027, 1, 11),
    )


def _lyon(grid: Grid) -> None:
    Site.objects.create(provider=grid.provider, name="Lyon-1", jurisdiction_id="FR")


def _lyon_id(grid: Grid) -> int:
    return Site.objects.get(name="Lyon-1").pk


def _approval_id(grid: Grid) -> int:
    return Approval.objects.get(consortium=grid.world.consortium_a).pk


def _pool(grid: Grid, tail: str = "") -> str:
    return f"{API}/pools/{grid.pool.pk}/{tail}"


READ = {"chair": 200, "observer": 200, "outsider": 404, "candidate": 404, "anonymous": 401}
DIRECTORY_READ = {"chair": 200, "observer": 200, "outsider": 200, "anonymous": 401}
# The chair's writes: everyone else in A is refused, outside A nothing is there.
CHAIR_WRITE = {
    "member": 403,
    "observer": 403,
    "board": 403,
    "outsider": 404,
    "candidate": 404,
    "anonymous": 401,
}
DIRECTORY_WRITE = {"observer": 403, "member": 403, "candidate": 403, "anonymous": 401}
REQUEST_BODY = {
    "gpus": 2,
    "starts_at": "2027-01-10T00:00:00Z",
    "ends_at": "2027-01-20T00:00:00Z",
    "purpose": "Evaluation runs",
}

CASES = [
    # The shared directory.
    Case("provider list", "get", lambda g: f"{API}/providers/", DIRECTORY_READ),
    Case("provider detail", "get", lambda g: f"{API}/providers/{g.provider.pk}/", DIRECTORY_READ),
    Case("site detail", "get", lambda g: f"{API}/sites/{g.paris.pk}/", DIRECTORY_READ),
    Case(
        "provider register",
        "post",
        lambda g: f"{API}/providers/",
        # The outsider chairs consortium B: it runs compute there, so it adds to the directory.
        {**DIRECTORY_WRITE, "chair": 201, "technician": 201, "outsider": 201},
        body=lambda g: {
            "legal_name": "Nordic GPU AB",
            "head_office_jurisdiction": "SE",
            "ultimate_parent_jurisdiction": "SE",
        },
    ),
    Case(
        "provider exposure",
        "post",
        lambda g: f"{API}/providers/{g.provider.pk}/exposures/",
        {**DIRECTORY_WRITE, "chair": 201},
        body=lambda g: {"law": "other", "basis": "contract", "assessed_on": "2026-11-01"},
    ),
    Case(
        "provider certification",
        "post",
        lambda g: f"{API}/providers/{g.provider.pk}/certifications/",
        {**DIRECTORY_WRITE, "board": 201},
        body=lambda g: {
            "scheme": "secnumcloud",
            "valid_from": "2026-01-01",
            "valid_until": "2029-01-01",
            "evidence": "ANSSI qualification 2026-04",
            "site": g.paris.pk,
        },
    ),
    Case(
        "site register",
        "post",
        lambda g: f"{API}/sites/",
        {**DIRECTORY_WRITE, "technician": 201},
        body=lambda g: {
            "provider": g.provider.pk,
            "name": "Marseille-1",
            "jurisdiction": "FR",
            "administered_from": ["FR"],
        },
    ),
    # Approvals.
    Case("approval detail", "get", lambda g: f"{API}/compute-approvals/{_approval_id(g)}/", READ),
    Case(
        "approve a site",
        "post",
        lambda g: f"{API}/compute-approvals/",
        {**CHAIR_WRITE, "chair": 201},
        body=lambda g: {
            "consortium": g.world.consortium_a.pk,
            "site": g.paris.pk,
            "valid_from": "2026-12-01",
        },
    ),
    Case(
        "revoke an approval",
        "post",
        lambda g: f"{API}/compute-approvals/{_approval_id(g)}/revoke/",
        {**CHAIR_WRITE, "chair": 200},
        body=lambda g: {"reason": "Provider sold to a foreign group"},
    ),
    # Pools.
    Case("pool detail", "get", lambda g: _pool(g), READ),
    Case("capacity window", "get", lambda g: _pool(g, "capacity/"), READ),
    Case("contribution ledger", "get", lambda g: _pool(g, "contributions/"), READ),
    Case("fair share", "get", lambda g: _pool(g, "fair-share/"), READ),
    Case(
        "fair share across pools",
        "get",
        lambda g: f"{API}/pools/fair-share-across/?consortium={g.world.consortium_a.pk}",
        READ,
    ),
    Case("usage ledger", "get", lambda g: _pool(g, "usage/"), READ),
    Case("own statement", "get", lambda g: _pool(g, "statement/?period=2026-11"), READ),
    Case(
        "another member's statement",
        "get",
        lambda g: _pool(g, f"statement/?period=2026-11&organisation={g.world.org_chair.pk}"),
        {
            "chair": 200,
            "board": 200,
            "auditor": 200,
            "observer": 403,
            "technician": 403,
            "outsider": 404,
            "anonymous": 401,
        },
    ),
    Case(
        "pool create",
        "post",
        lambda g: f"{API}/pools/",
        {**CHAIR_WRITE, "chair": 201},
        body=lambda g: {
            "consortium": g.world.consortium_a.pk,
            "name": "MI300X pool",
            "gpu_type": "MI300X",
            "sites": [{"site": g.paris.pk, "gpus": 8}],
        },
    ),
    Case(
        "pool settings",
        "patch",
        lambda g: _pool(g),
        {**CHAIR_WRITE, "chair": 200},
        body=lambda g: {"half_life_days": 21},
    ),
    Case(
        "pool add site",
        "post",
        lambda g: _pool(g, "sites/"),
        {**CHAIR_WRITE, "chair": 201},
        body=lambda g: {"site": _lyon_id(g), "gpus": 4},
        prepare=_lyon,
    ),
    Case(
        "capacity change",
        "post",
        lambda g: _pool(g, "capacity/"),
        {
            "board": 201,
            "chair": 201,
            "member": 403,
            "observer": 403,
            "technician": 403,
            "outsider": 404,
            "anonymous": 401,
        },
        body=lambda g: {"site": g.paris.pk, "effective_at": "2027-03-01T00:00:00Z", "gpus": 24},
    ),
    Case(
        "contribution",
        "post",
        lambda g: _pool(g, "contributions/"),
        {**CHAIR_WRITE, "chair": 201},
        body=lambda g: {
            "organisation": g.world.org_member.pk,
            "kind": "capital",
            "amount": "2500",
            "contributed_on": "2026-11-15",
        },
    ),
    Case(
        "usage report",
        "post",
        lambda g: _pool(g, "usage/"),
        {
            "technician": 200,
            "board": 200,
            "member": 403,
            "observer": 403,
            "auditor": 403,
            "outsider": 404,
            "anonymous": 401,
        },
        body=lambda g: {
            "rows": [
                {
                    "organisation": g.world.org_member.pk,
                    "site": g.paris.pk,
                    "day": "2026-11-01",
                    "gpu_hours": "12",
                }
            ]
        },
    ),
    # Allocation requests and reservations.
    Case(
        "request detail",
        "get",
        lambda g: f"{API}/allocation-requests/{_request(g).pk}/",
        READ,
        prepare=_submitted,
    ),
    Case(
        "request submit",
        "post",
        lambda g: f"{API}/allocation-requests/",
        {
            "technician": 201,
            "member": 201,
            "chair": 201,
            "observer": 403,
            "auditor": 403,
            "board": 403,
            "outsider": 404,
            "candidate": 404,
            "anonymous": 401,
        },
        body=lambda g: {**REQUEST_BODY, "pool": g.pool.pk, "sites": [g.paris.pk]},
    ),
    Case(
        "request decide",
        "post",
        lambda g: f"{API}/allocation-requests/{_request(g).pk}/decide/",
        {
            "board_chair_org": 200,
            "board": 403,  # the board member of the requesting organisation
            "chair": 403,
            "member": 403,
            "observer": 403,
            "outsider": 404,
            "anonymous": 401,
        },
        body=lambda g: {"decision": "approve"},
        prepare=_submitted,
    ),
    Case(
        "request revise",
        "post",
        lambda g: f"{API}/allocation-requests/{_request(g).pk}/revise/",
        {
            "technician": 200,
            "chair": 403,  # may request, but for its own organisation only
            "board_chair_org": 403,
            "observer": 403,
            "outsider": 404,
            "anonymous": 401,
        },
        body=lambda g: {**REQUEST_BODY, "sites": [g.paris.pk]},
        prepare=_changes_requested,
    ),
    Case(
        "request withdraw",
        "post",
        lambda g: f"{API}/allocation-requests/{_request(g).pk}/withdraw/",
        {
            "technician": 200,
            "member": 200,
            "chair": 403,
            "observer": 403,
            "outsider": 404,
            "anonymous": 401,
        },
        prepare=_submitted,
    ),
    Case(
        "reservation detail",
        "get",
        lambda g: f"{API}/reservations/{Reservation.objects.get().pk}/",
        READ,
        prepare=_approved,
    ),
    Case(
        "reservation release",
        "post",
        lambda g: f"{API}/reservations/{Reservation.objects.get().pk}/release/",
        {
            "board": 200,
            "technician": 200,  # the holder's people
            "chair": 403,
            "observer": 403,
            "outsider": 404,
            "anonymous": 401,
        },
        body=lambda g: {"reason": "Finished early"},
        prepare=_approved,
    ),
    # Loans.
    Case(
        "loan detail", "get", lambda g: f"{API}/loans/{Loan.objects.get().pk}/", READ, prepare=_lent
    ),
    Case(
        "loan grant",
        "post",
        lambda g: f"{API}/loans/",
        {
            "member": 201,
            "technician": 403,
            "observer": 403,
            "outsider": 404,
            "candidate": 404,
            "anonymous": 401,
        },
        body=lambda g: {
            "pool": g.pool.pk,
            "borrower": g.world.org_chair.pk,
            "gpu_hours": "50",
            "starts_on": "2027-02-01",
            "ends_on": "2027-02-08",
        },
        prepare=_contributed,
    ),
    Case(
        "loan cancel",
        "post",
        lambda g: f"{API}/loans/{Loan.objects.get().pk}/cancel/",
        {
            "member": 200,
            "chair": 403,  # may lend, but this is Member Org's loan
            "observer": 403,
            "outsider": 404,
            "anonymous": 401,
        },
        prepare=_lent,
    ),
]


@pytest.mark.parametrize(
    ("case", "persona_name"),
    [(case, name) for case in CASES for name in case.expected],
    ids=lambda value: value.name if isinstance(value, Case) else value,
)
def test_compute_endpoints_from_outside(
    case: Case, persona_name: str, grid: Grid, api_as: Any, unchanged: Any
) -> None:
    case.prepare(grid)
    expected = case.expected[persona_name]
    call = getattr(api_as(persona(grid, persona_name)), case.method)
    if expected >= 300 or case.method == "get":
        with unchanged():
            response = call(case.url(grid), case.body(grid), format="json")
    else:
        response = call(case.url(grid), case.body(grid), format="json")
    assert response.status_code == expected, response.content


@pytest.mark.parametrize(
    ("path", "scoped"),
    [
        ("pools/", True),
        ("allocation-requests/", True),
        ("reservations/", True),
        ("loans/", True),
        ("compute-approvals/", True),
        ("providers/", False),
        ("sites/", False),
    ],
)
def test_lists_show_only_the_consortia_one_sees(
    grid: Grid, api_as: Any, path: str, scoped: bool
) -> None:
    _approved(grid)
    _lent(grid)
    inside = api_as(grid.world.observer).get(f"{API}/{path}").json()["results"]
    outside = api_as(grid.world.outsider).get(f"{API}/{path}").json()["results"]
    assert inside
    assert (outside == []) is scoped
    assert api_as(None).get(f"{API}/{path}").status_code == 401
