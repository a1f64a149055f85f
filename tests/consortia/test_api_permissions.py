"""Every consortium-domain API endpoint, from the outside, for every persona.

Another consortium's user gets 404, a read-only role 403, an anonymous caller 401, the
allowed role 2xx; every denial leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from consortia.models import Membership
from tests.conftest import World

API = "/api/v1"


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: Callable[[World], str]
    expected: dict[str, int]
    body: Callable[[World], dict[str, Any]] = field(default=lambda w: {})
    prepare: Callable[[World], None] = field(default=lambda w: None)


def _invited(world: World) -> None:
    Membership.objects.create(consortium=world.consortium_a, organisation=world.org_candidate)


def _suspended(world: World) -> None:
    Membership.objects.filter(pk=world.membership_member.pk).update(status="suspended")


def _invited_url(world: World) -> str:
    membership = Membership.objects.get(
        consortium=world.consortium_a, organisation=world.org_candidate
    )
    return f"{API}/memberships/{membership.pk}/admit/"


READ = {"chair": 200, "member": 200, "observer": 200, "outsider": 404, "anonymous": 401}
WRITE = {"member": 403, "observer": 403, "outsider": 404, "anonymous": 401}

CASES = [
    Case("consortium detail", "get", lambda w: f"{API}/consortia/{w.consortium_a.pk}/", READ),
    Case(
        "membership detail", "get", lambda w: f"{API}/memberships/{w.membership_member.pk}/", READ
    ),
    Case(
        "role assignment detail",
        "get",
        lambda w: f"{API}/role-assignments/{w.observer_role.pk}/",
        READ,
    ),
    Case(
        "consortium update",
        "patch",
        lambda w: f"{API}/consortia/{w.consortium_a.pk}/",
        {**WRITE, "chair": 200},
        body=lambda w: {"charter": "A new charter."},
    ),
    Case(
        "consortium status",
        "patch",
        lambda w: f"{API}/consortia/{w.consortium_a.pk}/",
        {**WRITE, "chair": 200},
        body=lambda w: {"status": "dissolving"},
    ),
    Case(
        "consortium delete",
        "delete",
        lambda w: f"{API}/consortia/{w.consortium_a.pk}/",
        {**WRITE, "chair": 409},
    ),
    Case(
        "chair hand-over",
        "post",
        lambda w: f"{API}/consortia/{w.consortium_a.pk}/hand-over-chair/",
        {**WRITE, "chair": 200},
        body=lambda w: {"user": "member"},
    ),
    Case(
        "invite",
        "post",
        lambda w: f"{API}/memberships/",
        {**WRITE, "chair": 201},
        body=lambda w: {"consortium": w.consortium_a.pk, "organisation": w.org_candidate.pk},
    ),
    Case(
        "voting weight",
        "patch",
        lambda w: f"{API}/memberships/{w.membership_member.pk}/",
        {**WRITE, "chair": 200},
        body=lambda w: {"voting_weight": "2.5"},
    ),
    Case("admit", "post", _invited_url, {**WRITE, "chair": 200}, prepare=_invited),
    Case(
        "suspend",
        "post",
        lambda w: f"{API}/memberships/{w.membership_member.pk}/suspend/",
        {**WRITE, "chair": 200},
        body=lambda w: {"reason": "Unpaid contribution"},
    ),
    Case(
        "reinstate",
        "post",
        lambda w: f"{API}/memberships/{w.membership_member.pk}/reinstate/",
        # A suspended organisation's people keep read access but their roles stop counting.
        {**WRITE, "chair": 200},
        prepare=_suspended,
    ),
    Case(
        "remove",
        "post",
        lambda w: f"{API}/memberships/{w.membership_member.pk}/remove/",
        {**WRITE, "chair": 200},
        body=lambda w: {"reason": "Left the field"},
    ),
    Case(
        "assign role",
        "post",
        lambda w: f"{API}/role-assignments/",
        {**WRITE, "chair": 201},
        body=lambda w: {"consortium": w.consortium_a.pk, "user": "member", "role": "legal"},
    ),
    Case(
        "revoke role",
        "delete",
        lambda w: f"{API}/role-assignments/{w.observer_role.pk}/",
        {**WRITE, "chair": 204},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
@pytest.mark.parametrize("persona", ["chair", "member", "observer", "outsider", "anonymous"])
def test_consortium_endpoints_from_outside(
    case: Case, persona: str, world: World, api_as: Any, unchanged: Any
) -> None:
    case.prepare(world)
    client = api_as(world.persona(persona))
    expected = case.expected[persona]
    call = getattr(client, case.method)
    if expected >= 300 or case.method == "get":
        with unchanged():
            response = call(case.url(world), case.body(world), format="json")
    else:
        response = call(case.url(world), case.body(world), format="json")
    assert response.status_code == expected, response.content


@pytest.mark.parametrize(
    ("path", "anonymous_status"),
    [
        ("consortia/", 401),
        ("memberships/", 401),
        ("role-assignments/", 401),
        ("organisations/", 401),
        ("jurisdictions/", 401),
    ],
)
def test_lists_need_authentication(
    path: str, anonymous_status: int, api_as: Any, world: World
) -> None:
    response = api_as(None).get(f"{API}/{path}")
    assert response.status_code == anonymous_status
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ["consortia/", "memberships/", "role-assignments/"])
def test_outsider_lists_never_show_another_consortium(path: str, api_as: Any, world: World) -> None:
    rows = api_as(world.outsider).get(f"{API}/{path}").json()["results"]
    assert rows, "the outsider sees their own consortium's rows"
    consortia = {row["id"] if path == "consortia/" else row["consortium"] for row in rows}
    assert consortia == {world.consortium_b.pk}


ORGANISATION_CASES = [
    (
        "get",
        lambda w: f"{API}/organisations/{w.org_member.pk}/",
        {},
        {"observer": 200, "outsider": 200, "anonymous": 401},
    ),
    (
        "patch",
        lambda w: f"{API}/organisations/{w.org_member.pk}/",
        {"registration_id": "HRB 999"},
        # Only the organisation's own administrators (and operators) may correct its record.
        {"observer": 403, "chair": 403, "outsider": 403, "anonymous": 401},
    ),
    (
        "post",
        lambda w: f"{API}/organisations/",
        {
            "name": "New Org",
            "kind": "company",
            "home_jurisdiction": "IT",
            "registration_id": "IT-1",
        },
        {"chair": 403, "outsider": 403, "anonymous": 401},
    ),
    (
        "delete",
        lambda w: f"{API}/organisations/{w.org_candidate.pk}/",
        {},
        {"chair": 403, "candidate": 403, "anonymous": 401},
    ),
]


@pytest.mark.parametrize(("method", "url", "body", "expected"), ORGANISATION_CASES)
def test_organisation_endpoints_from_outside(
    method: str,
    url: Any,
    body: dict[str, Any],
    expected: dict[str, int],
    world: World,
    api_as: Any,
    unchanged: Any,
) -> None:
    for persona, status in expected.items():
        with unchanged():
            response = getattr(api_as(world.persona(persona)), method)(
                url(world), body, format="json"
            )
        assert response.status_code == status, (persona, response.content)


def test_organisation_admin_corrects_own_record(world: World, api_as: Any) -> None:
    world.member.is_organisation_admin = True
    world.member.save()
    response = api_as(world.member).patch(
        f"{API}/organisations/{world.org_member.pk}/", {"registration_id": "HRB 999"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["registration_id"] == "HRB 999"


def test_jurisdictions_are_read_only(world: World, api_as: Any, unchanged: Any) -> None:
    with unchanged():
        response = api_as(world.chair).post(f"{API}/jurisdictions/", {"code": "XX"}, format="json")
    assert response.status_code == 405
