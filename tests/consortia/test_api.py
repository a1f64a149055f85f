"""The consortium API's behaviour: shapes, validation, filters, paging and query counts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from rest_framework.test import APIClient

from consortia.models import Consortium, Membership
from tests.conftest import World
from tests.consortia.factories import ConsortiumFactory, MembershipFactory, OrganisationFactory

API = "/api/v1"


def test_found_a_consortium(world: World, api_as: Any) -> None:
    response = api_as(world.candidate).post(
        f"{API}/consortia/",
        {
            "name": "Health Data Alliance",
            "partnership_model": "federated_learning",
            "home_jurisdiction": "EU",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Health Data Alliance"
    assert body["partnership_model_name"] == "Federated Learning Alliance"
    assert (body["status"], body["member_count"], body["home_jurisdiction"]) == ("forming", 1, "EU")
    assert body["created_at"].endswith("Z")


def test_bad_input_gets_field_errors_and_changes_nothing(
    world: World, api_as: Any, unchanged: Any
) -> None:
    with unchanged():
        response = api_as(world.candidate).post(
            f"{API}/consortia/",
            {"name": "", "partnership_model": "cooperative", "home_jurisdiction": "XX"},
            format="json",
        )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"name", "partnership_model", "home_jurisdiction"}
    assert "XX" in errors["home_jurisdiction"][0]


def test_duplicate_name_is_a_field_error(world: World, api_as: Any, unchanged: Any) -> None:
    with unchanged():
        response = api_as(world.candidate).post(
            f"{API}/consortia/",
            {
                "name": "Consortium B",
                "partnership_model": "federated_learning",
                "home_jurisdiction": "EU",
            },
            format="json",
        )
    assert response.status_code == 400
    assert "already exists" in response.json()["errors"]["name"][0]


def test_invalid_transition_names_the_allowed_ones(
    world: World, api_as: Any, unchanged: Any
) -> None:
    with unchanged():
        response = api_as(world.chair).patch(
            f"{API}/consortia/{world.consortium_a.pk}/", {"status": "forming"}, format="json"
        )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "status": ["A consortium that is operational cannot become forming; allowed: dissolving."]
    }


def test_conflict_says_why(world: World, api_as: Any) -> None:
    response = api_as(world.chair).delete(f"{API}/consortia/{world.consortium_a.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "consortium_has_members"


def test_a_code_holding_a_nul_is_bad_input(world: World, api_as: Any, unchanged: Any) -> None:
    """Regression (found by the contract run): a partnership model's code with a NUL went to
    the primary-key lookup, which PostgreSQL refused as a server error."""
    import json

    body = {"name": "Nul", "partnership_model": "cooperative\u0000", "home_jurisdiction": "EU"}
    with unchanged():
        response = api_as(world.candidate).post(
            f"{API}/consortia/", json.dumps(body), content_type="application/json"
        )
        filtered = api_as(world.candidate).get(f"{API}/consortia/", {"partnership_model": "x\x00"})
    assert response.status_code == 400
    assert response.json()["type"] == "/api/v1/problems/malformed-request"
    assert filtered.status_code == 400
    assert set(filtered.json()["errors"]) == {"partnership_model"}


def test_invite_an_unknown_organisation(world: World, api_as: Any, unchanged: Any) -> None:
    with unchanged():
        response = api_as(world.chair).post(
            f"{API}/memberships/",
            {"consortium": world.consortium_a.pk, "organisation": 999999},
            format="json",
        )
    assert response.status_code == 400
    assert "organisation" in response.json()["errors"]


def test_role_for_a_stranger_is_refused_without_revealing_them(
    world: World, api_as: Any, unchanged: Any
) -> None:
    for username in ("outsider", "nobody-at-all"):
        with unchanged():
            response = api_as(world.chair).post(
                f"{API}/role-assignments/",
                {"consortium": world.consortium_a.pk, "user": username, "role": "legal"},
                format="json",
            )
        assert response.status_code == 400
        assert response.json()["errors"]["user"] == [
            f"No one called {username!r} belongs to an active member organisation of this consortium."
        ]


def test_membership_actions_walk_the_lifecycle(world: World, api_as: Any) -> None:
    client = api_as(world.chair)
    created = client.post(
        f"{API}/memberships/",
        {
            "consortium": world.consortium_a.pk,
            "organisation": world.org_candidate.pk,
            "voting_weight": "3",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    membership = created.json()
    assert (membership["status"], membership["voting_weight"]) == ("invited", "3.0000")
    admitted = client.post(
        f"{API}/memberships/{membership['id']}/admit/", {"joined_on": "2026-02-01"}, format="json"
    ).json()
    assert (admitted["status"], admitted["joined_on"]) == ("active", "2026-02-01")
    suspended = client.post(f"{API}/memberships/{membership['id']}/suspend/", {}, format="json")
    assert suspended.status_code == 400
    assert "reason" in suspended.json()["errors"]


def test_filters(world: World, api_as: Any) -> None:
    client = api_as(world.chair)
    MembershipFactory.create(
        consortium=world.consortium_a,
        organisation=OrganisationFactory.create(),
        status="invited",
        joined_on=None,
    )
    statuses = [
        row["status"] for row in client.get(f"{API}/memberships/?status=invited").json()["results"]
    ]
    assert statuses == ["invited"]
    assert client.get(f"{API}/memberships/?status=nonsense").status_code == 400
    names = [
        row["name"] for row in client.get(f"{API}/consortia/?q=consortium a").json()["results"]
    ]
    assert names == ["Consortium A"]
    roles = client.get(f"{API}/role-assignments/?role=observer").json()["results"]
    assert [row["user"] for row in roles] == ["observer"]


def test_jurisdictions_know_dated_blocs(world: World, api_as: Any) -> None:
    client = api_as(world.observer)
    britain = client.get(f"{API}/jurisdictions/gb/").json()
    assert {(bloc["code"], bloc["left_on"]) for bloc in britain["blocs"]} == {
        ("EU", "2020-02-01"),
        ("EEA", "2020-02-01"),
    }
    in_eu_2019 = client.get(
        f"{API}/jurisdictions/?member_of=EU&on=2019-06-01&page_size=100"
    ).json()["results"]
    in_eu_now = client.get(f"{API}/jurisdictions/?member_of=EU&page_size=100").json()["results"]
    assert len(in_eu_2019) == 28
    assert len(in_eu_now) == 27
    assert client.get(f"{API}/jurisdictions/XX/").status_code == 404


def test_cursor_paging_walks_every_row_once(world: World, api_as: Any) -> None:
    for index in range(7):
        MembershipFactory.create(
            consortium=world.consortium_a,
            organisation=OrganisationFactory.create(name=f"Extra {index}"),
        )
    client = api_as(world.chair)
    seen: list[int] = []
    url: str | None = f"{API}/memberships/?page_size=3"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    expected = set(
        Membership.objects.filter(consortium=world.consortium_a).values_list("pk", flat=True)
    )
    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(expected) == 9


@pytest.mark.parametrize(
    "path", ["consortia/", "memberships/", "role-assignments/", "organisations/"]
)
def test_query_count_does_not_grow_with_the_page(world: World, api_as: Any, path: str) -> None:
    for index in range(12):
        consortium = ConsortiumFactory.create(name=f"Bulk {index}")
        for _ in range(10):
            membership = MembershipFactory.create(consortium=consortium)
        MembershipFactory.create(consortium=consortium, organisation=world.org_chair)
        del membership
    client = api_as(world.chair)
    counts = []
    for size in (10, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{API}/{path}?page_size={size}")
        assert response.status_code == 200
        assert len(response.json()["results"]) == min(size, _visible_count(path, world))
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 3, counts


def _visible_count(path: str, world: World) -> int:
    from consortia import selectors

    return {
        "consortia/": selectors.consortium_list,
        "memberships/": selectors.membership_list,
        "role-assignments/": selectors.role_assignment_list,
        "organisations/": selectors.organisation_list,
    }[path](actor=world.chair).count()


def test_bearer_token_for_scripts(world: World) -> None:
    _, token = AuthToken.objects.create(user=world.observer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    rows = client.get(f"{API}/consortia/").json()["results"]
    assert [row["name"] for row in rows] == ["Consortium A"]
    assert (
        client.patch(
            f"{API}/consortia/{world.consortium_a.pk}/", {"charter": "x"}, format="json"
        ).status_code
        == 403
    )
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert client.get(f"{API}/consortia/").status_code == 401


def test_openapi_schema_and_local_docs(world: World, api_as: Any) -> None:
    client = api_as(world.observer)
    schema = client.get(f"{API}/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {
        "/api/v1/consortia/",
        "/api/v1/memberships/{id}/admit/",
        "/api/v1/role-assignments/",
    } <= set(paths)
    docs = client.get(f"{API}/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    # A random CSP nonce may spell "cdn"; what matters is that nothing loads from another host.
    external = re.findall(r"""(?:src|href)\s*=\s*["'](?:https?:)?//[^"']+""", docs)
    assert external == []


def test_request_id_header(world: World, api_as: Any) -> None:
    response = api_as(world.observer).get(f"{API}/consortia/")
    assert len(response["X-Request-ID"]) == 32


def test_consortium_count_in_list(world: World, api_as: Any) -> None:
    rows = api_as(world.chair).get(f"{API}/consortia/").json()["results"]
    assert (
        rows[0]["member_count"]
        == Consortium.objects.get(pk=world.consortium_a.pk).memberships.active().count()
        == 2
    )
