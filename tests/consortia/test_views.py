"""The browser pages: the same policy as the API, from the outside, plus forms and htmx."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from consortia.models import Membership, RoleAssignment
from tests.conftest import World
from tests.consortia.factories import UserFactory


@dataclass(frozen=True)
class Page:
    name: str
    method: str
    url: Callable[[World], str]
    expected: dict[str, int]
    data: Callable[[World], dict[str, Any]] = field(default=lambda w: {})


READ = {"chair": 200, "member": 200, "observer": 200, "outsider": 404, "anonymous": 302}
WRITE = {"member": 403, "observer": 403, "outsider": 404, "anonymous": 302}

PAGES = [
    Page(
        "consortium page",
        "get",
        lambda w: reverse("consortia:detail", args=[w.consortium_a.pk]),
        READ,
    ),
    Page(
        "edit form",
        "get",
        lambda w: reverse("consortia:edit", args=[w.consortium_a.pk]),
        {**WRITE, "chair": 200},
    ),
    Page(
        "edit",
        "post",
        lambda w: reverse("consortia:edit", args=[w.consortium_a.pk]),
        {**WRITE, "chair": 302},
        data=lambda w: {"name": "Consortium A", "charter": "Edited"},
    ),
    Page(
        "status",
        "post",
        lambda w: reverse("consortia:transition", args=[w.consortium_a.pk]),
        {**WRITE, "chair": 302},
        data=lambda w: {"status": "dissolving"},
    ),
    Page(
        "invite",
        "post",
        lambda w: reverse("consortia:invite", args=[w.consortium_a.pk]),
        {**WRITE, "chair": 302},
        data=lambda w: {"organisation": "Candidate Org", "voting_weight": "1"},
    ),
    Page(
        "invite candidates",
        "get",
        lambda w: (
            reverse("consortia:invite-candidates", args=[w.consortium_a.pk]) + "?organisation=cand"
        ),
        {**WRITE, "chair": 200},
    ),
    Page(
        "suspend",
        "post",
        lambda w: reverse("consortia:membership-action", args=[w.membership_member.pk, "suspend"]),
        {**WRITE, "chair": 302},
        data=lambda w: {"reason": "Unpaid"},
    ),
    Page(
        "remove",
        "post",
        lambda w: reverse("consortia:membership-action", args=[w.membership_member.pk, "remove"]),
        {**WRITE, "chair": 302},
        data=lambda w: {"reason": "Left"},
    ),
    Page(
        "assign role",
        "post",
        lambda w: reverse("consortia:role-assign", args=[w.consortium_a.pk]),
        {**WRITE, "chair": 302},
        data=lambda w: {"user": w.member.pk, "role": "legal"},
    ),
    Page(
        "revoke role",
        "post",
        lambda w: reverse("consortia:role-revoke", args=[w.observer_role.pk]),
        {**WRITE, "chair": 302},
    ),
    Page(
        "hand over chair",
        "post",
        lambda w: reverse("consortia:chair-hand-over", args=[w.consortium_a.pk]),
        {**WRITE, "chair": 302},
        data=lambda w: {"user": w.member.pk},
    ),
]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
@pytest.mark.parametrize("persona", ["chair", "member", "observer", "outsider", "anonymous"])
def test_pages_from_outside(
    page: Page, persona: str, world: World, browser_as: Any, unchanged: Any
) -> None:
    client = browser_as(world.persona(persona))
    expected = page.expected[persona]
    call = getattr(client, page.method)
    if expected >= 300 and persona != "chair":
        with unchanged():
            response = call(page.url(world), page.data(world))
    else:
        response = call(page.url(world), page.data(world))
    assert response.status_code == expected, response.content[:500]
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "url_name",
    ["consortia:list", "consortia:create", "consortia:organisation-list", "consortia:tokens"],
)
def test_signed_in_pages_render(url_name: str, world: World, browser_as: Any) -> None:
    response = browser_as(world.observer).get(reverse(url_name))
    assert response.status_code == 200
    assert b'src="/static/vendor/htmx/htmx.min.js"' in response.content
    assert b"http://" not in response.content.replace(b"http://testserver", b"")
    assert browser_as(None).get(reverse(url_name)).status_code == 302


def test_list_shows_only_visible_consortia_and_filters(world: World, browser_as: Any) -> None:
    client = browser_as(world.outsider)
    page = client.get(reverse("consortia:list")).content.decode()
    assert "Consortium B" in page
    assert "Consortium A" not in page
    partial = client.get(reverse("consortia:list") + "?q=zzz", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert b"<html" not in partial.content
    assert b"No consortium matches" in partial.content
    assert partial["Vary"] == "HX-Request" or "HX-Request" in partial["Vary"]


def test_consortium_page_shows_the_model_card_members_and_roles(
    world: World, browser_as: Any
) -> None:
    page = (
        browser_as(world.observer)
        .get(reverse("consortia:detail", args=[world.consortium_a.pk]))
        .content.decode()
    )
    assert "Pre-competitive R&amp;D on foundation models." in page
    assert "IP disputes and slow decision-making." in page
    assert "Member Org" in page
    assert "Steering-committee member" in page
    assert "Invite an organisation" not in page, "read-only people get no forms"
    chair_page = (
        browser_as(world.chair)
        .get(reverse("consortia:detail", args=[world.consortium_a.pk]))
        .content.decode()
    )
    assert "Invite an organisation" in chair_page
    assert "Assign a role" in chair_page


def test_htmx_invite_swaps_the_people_section(world: World, browser_as: Any) -> None:
    response = browser_as(world.chair).post(
        reverse("consortia:invite", args=[world.consortium_a.pk]),
        {"organisation": "Candidate Org", "voting_weight": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="people">')
    assert "Candidate Org is invited" in body
    assert Membership.objects.filter(organisation=world.org_candidate, status="invited").exists()


def test_invalid_form_keeps_input_and_explains(
    world: World, browser_as: Any, unchanged: Any
) -> None:
    with unchanged():
        response = browser_as(world.chair).post(
            reverse("consortia:invite", args=[world.consortium_a.pk]),
            {"organisation": "No Such Org", "voting_weight": "-2"},
        )
    assert response.status_code == 400
    body = response.content.decode()
    assert "No registered organisation outside this consortium has that exact name." in body
    assert 'value="No Such Org"' in body
    assert "greater than or equal to 0" in body


def test_create_consortium_form(world: World, browser_as: Any) -> None:
    client = browser_as(world.candidate)
    response = client.post(
        reverse("consortia:create"),
        {
            "name": "Candidate Pool",
            "partnership_model": "infrastructure_pool",
            "home_jurisdiction": "NL",
            "charter": "",
        },
    )
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert b"Candidate Pool is founded; you chair it." in page.content
    assert RoleAssignment.objects.get(consortium__name="Candidate Pool").user == world.candidate


def test_unknown_membership_action_is_404(world: World, browser_as: Any) -> None:
    response = browser_as(world.chair).post(
        reverse("consortia:membership-action", args=[world.membership_member.pk, "explode"])
    )
    assert response.status_code == 404


def test_api_token_page_shows_a_token_once(world: World, browser_as: Any) -> None:
    client = browser_as(world.observer)
    created = client.post(reverse("consortia:tokens")).content.decode()
    assert "Your new token:" in created
    listing = client.get(reverse("consortia:tokens")).content.decode()
    assert "Your new token:" not in listing
    assert AuditEvent.objects.filter(object_type="knox.authtoken", action="create").count() == 1


def test_sign_in_page_and_healthz(db: Any, client: Any) -> None:
    assert client.get(reverse("login")).status_code == 200
    assert client.get("/healthz").json() == {"status": "ok"}


def test_organisation_admin_edits_their_record_in_the_browser(
    world: World, browser_as: Any, unchanged: Any
) -> None:
    url = reverse("consortia:organisation-edit", args=[world.org_chair.pk])
    data = {
        "name": "Chair Org",
        "kind": "research",
        "home_jurisdiction": "FR",
        "registration_id": "FR-42",
    }
    with unchanged():
        assert browser_as(world.observer).post(url, data).status_code == 403
        assert browser_as(world.outsider).post(url, data).status_code == 403
    response = browser_as(world.chair).post(url, data)
    assert response.status_code == 302
    world.org_chair.refresh_from_db()
    assert (world.org_chair.kind, world.org_chair.registration_id) == ("research", "FR-42")


def test_only_operators_register_organisations(world: World, browser_as: Any) -> None:
    assert browser_as(world.chair).get(reverse("consortia:organisation-create")).status_code == 403
    operator = UserFactory.create(organisation=None, is_staff=True, username="op")
    response = browser_as(operator).post(
        reverse("consortia:organisation-create"),
        {
            "name": "New Lab",
            "kind": "research",
            "home_jurisdiction": "IT",
            "registration_id": "IT-7",
        },
    )
    assert response.status_code == 302


def test_django_admin_is_read_only_for_the_domain(world: World, browser_as: Any) -> None:
    root = UserFactory.create(organisation=None, is_staff=True, is_superuser=True, username="root")
    client = browser_as(root)
    assert client.get(reverse("admin:consortia_consortium_changelist")).status_code == 200
    assert client.get(reverse("admin:consortia_consortium_add")).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
