"""Every agreements endpoint from the outside: 404 outside, 403 for read-only roles, 401
anonymous, 2xx for the right person; denials change nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from agreements import services
from tests.agreements.conftest import Deal

API = "/api/v1"


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: Callable[[Deal], str]
    expected: dict[str, int]
    body: Callable[[Deal], dict[str, Any]] = field(default=lambda d: {})
    prepare: Callable[[Deal], None] = field(default=lambda d: None)


def in_review(deal: Deal) -> None:
    services.version_submit(actor=deal.legal_chair_org, version=deal.version)


def first_clause(deal: Deal) -> int:
    clause = deal.version.clauses.order_by("position").first()
    assert clause is not None
    return clause.pk


READ = {"legal_a": 200, "observer": 200, "outsider": 404, "anonymous": 401}
DRAFT = {"legal_a": 200, "observer": 403, "member": 403, "outsider": 404, "anonymous": 401}

CASES = [
    Case("agreement detail", "get", lambda d: f"{API}/agreements/{d.agreement.pk}/", READ),
    Case("version detail", "get", lambda d: f"{API}/agreement-versions/{d.version.pk}/", READ),
    Case(
        "update",
        "patch",
        lambda d: f"{API}/agreements/{d.agreement.pk}/",
        DRAFT,
        body=lambda d: {"title": "Renamed"},
    ),
    Case(
        "add party",
        "post",
        lambda d: f"{API}/agreements/{d.agreement.pk}/parties/",
        {**DRAFT, "legal_a": 201},
        body=lambda d: {"organisation": d.world.org_member.pk, "role": "contributor"},
    ),
    Case(
        "add clause",
        "post",
        lambda d: f"{API}/clauses/",
        {**DRAFT, "legal_a": 201},
        body=lambda d: {"version": d.version.pk, "heading": "New", "body": "Text"},
    ),
    Case(
        "edit clause",
        "patch",
        lambda d: f"{API}/clauses/{first_clause(d)}/",
        DRAFT,
        body=lambda d: {"body": "Edited"},
    ),
    Case(
        "move clause",
        "post",
        lambda d: f"{API}/clauses/{first_clause(d)}/move/",
        DRAFT,
        body=lambda d: {"position": 2},
    ),
    Case(
        "delete clause",
        "delete",
        lambda d: f"{API}/clauses/{first_clause(d)}/",
        {**DRAFT, "legal_a": 204},
    ),
    Case("submit", "post", lambda d: f"{API}/agreement-versions/{d.version.pk}/submit/", DRAFT),
    Case(
        "approve",
        "post",
        lambda d: f"{API}/agreement-versions/{d.version.pk}/approve/",
        {"legal_a": 200, "observer": 403, "member": 403, "outsider": 404, "anonymous": 401},
        prepare=in_review,
    ),
    Case(
        "reopen",
        "post",
        lambda d: f"{API}/agreement-versions/{d.version.pk}/reopen/",
        DRAFT,
        body=lambda d: {"reason": "More edits"},
        prepare=in_review,
    ),
    Case(
        "new version",
        "post",
        lambda d: f"{API}/agreements/{d.agreement.pk}/new-version/",
        {**DRAFT, "legal_a": 201},
        prepare=in_review,
    ),
    Case(
        "send for signature",
        "post",
        lambda d: f"{API}/agreements/{d.agreement.pk}/send-for-signature/",
        {"legal_a": 403, "observer": 403, "outsider": 404, "anonymous": 401},
    ),
]


@pytest.mark.parametrize(
    ("case", "persona"),
    [(case, persona) for case in CASES for persona in case.expected],
    ids=lambda value: value.name if isinstance(value, Case) else value,
)
def test_agreement_endpoints_from_outside(
    case: Case, persona: str, deal: Deal, api_as: Any, unchanged: Any
) -> None:
    case.prepare(deal)
    user = deal.legal_chair_org if persona == "legal_a" else deal.world.persona(persona)
    expected = case.expected[persona]
    call = getattr(api_as(user), case.method)
    if expected >= 300 or case.method == "get":
        with unchanged():
            response = call(case.url(deal), case.body(deal), format="json")
    else:
        response = call(case.url(deal), case.body(deal), format="json")
    assert response.status_code == expected, response.content


def test_list_is_scoped_and_reading_is_audited(deal: Deal, api_as: Any) -> None:
    from audit.models import AuditEvent

    assert api_as(deal.world.outsider).get(f"{API}/agreements/").json()["results"] == []
    rows = api_as(deal.world.observer).get(f"{API}/agreements/?status=draft").json()["results"]
    assert [row["title"] for row in rows] == ["Model co-development agreement"]
    listed = AuditEvent.objects.get(
        action="list", actor_display="observer", object_type="agreements.agreement"
    )
    assert listed.changes_data == {"filters": {"status": "draft"}, "count": 1}
    api_as(deal.world.observer).get(f"{API}/agreements/{deal.agreement.pk}/")
    assert (
        AuditEvent.objects.filter(
            action="view", actor_display="observer", object_type="agreements.agreement"
        ).count()
        == 1
    )


def test_create_through_the_api(deal: Deal, api_as: Any) -> None:
    response = api_as(deal.legal_member_org).post(
        f"{API}/agreements/",
        {
            "consortium": deal.world.consortium_a.pk,
            "kind": "nda",
            "title": "Mutual NDA",
            "governing_law": "fr",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["governing_law"], body["status"], len(body["versions"])) == ("FR", "draft", 1)
    bad = api_as(deal.legal_member_org).post(
        f"{API}/agreements/",
        {
            "consortium": deal.world.consortium_a.pk,
            "kind": "nda",
            "title": "X",
            "governing_law": "ZZ",
        },
        format="json",
    )
    assert bad.status_code == 400
    assert "governing_law" in bad.json()["errors"]


def test_library_and_clause_from_it(deal: Deal, api_as: Any) -> None:
    client = api_as(deal.legal_chair_org)
    library = client.get(f"{API}/clause-library/").json()
    assert {"jdc-joint-ownership", "fla-retained-ownership", "icp-shared-assets"} <= {
        row["slug"] for row in library
    }
    created = client.post(
        f"{API}/clauses/",
        {"version": deal.version.pk, "template": "residency", "position": 1},
        format="json",
    )
    assert created.status_code == 201
    first = created.json()["clauses"][0]
    assert (first["number"], first["heading"]) == ("1", "Data and compute residency")
    assert "European Union" in first["body"]
    assert "<p>" in first["html"]
