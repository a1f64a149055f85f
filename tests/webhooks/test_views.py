"""The webhook pages: they render for an organisation's administrator and the consortium's
chair, refuse others (404 outside, 403 inside without the right, a sign-in redirect for
anonymous visitors), keep input on error, and never query models directly."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from alliance.webhooks.models import Destination, Endpoint, Message
from consortia.models import User
from tests.webhooks.conftest import Hooks, Receiver, make_endpoint
from tests.webhooks.test_delivery import queue

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def endpoint(hooks: Hooks, receiver: Receiver) -> Endpoint:
    found, _ = make_endpoint(hooks.world.chair, receiver.url())
    return found


@pytest.fixture
def message(hooks: Hooks, endpoint: Endpoint) -> Message:
    (queued,) = queue(endpoint, hooks.world.consortium_a)
    return queued


def pages(endpoint: Endpoint, message: Message) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("get", "/webhooks/", {}),
        ("get", "/webhooks/new/", {}),
        ("get", f"/webhooks/{endpoint.pk}/", {}),
        ("get", f"/webhooks/{endpoint.pk}/edit/", {}),
        ("post", f"/webhooks/{endpoint.pk}/rotate/", {"overlap_hours": "1"}),
        ("post", f"/webhooks/{endpoint.pk}/disable/", {"reason": "Because"}),
        ("post", f"/webhooks/{endpoint.pk}/enable/", {}),
        ("post", f"/webhooks/{endpoint.pk}/delete/", {}),
        ("get", f"/webhooks/messages/{message.pk}/", {}),
        ("post", f"/webhooks/messages/{message.pk}/replay/", {}),
    ]


PAGE_NAMES = [
    "list",
    "new",
    "detail",
    "edit",
    "rotate",
    "disable",
    "enable",
    "delete",
    "message",
    "replay",
]
# The list and the form are the visitor's own organisation's: no object to hide.
OWN = {"list", "new"}


@pytest.mark.parametrize("page", range(len(PAGE_NAMES)), ids=PAGE_NAMES)
@pytest.mark.parametrize("persona", ["outsider", "chair_colleague", "member", "anonymous"])
def test_pages_refuse_everyone_but_the_organisations_administrators(
    hooks: Hooks,
    endpoint: Endpoint,
    message: Message,
    browser_as: Callable[[User | None], Client],
    nothing_written: Any,
    page: int,
    persona: str,
) -> None:
    user = hooks.chair_colleague if persona == "chair_colleague" else hooks.world.persona(persona)
    method, path, data = pages(endpoint, message)[page]
    with nothing_written():
        answer = getattr(browser_as(user), method)(path, data)
    if persona == "anonymous":
        assert answer.status_code == 302
        assert "/accounts/login/" in answer["Location"]
    elif persona == "outsider" and PAGE_NAMES[page] in OWN:
        # Outsider Org's administrator, on its own (empty) pages: nothing of Chair Org's.
        assert answer.status_code == 200
        assert endpoint.url not in answer.content.decode()
    elif (
        persona in ("chair_colleague", "member") and PAGE_NAMES[page] in OWN
    ) or persona == "chair_colleague":
        assert answer.status_code == 403
    else:
        assert answer.status_code == 404


@pytest.mark.parametrize("page", range(len(PAGE_NAMES)), ids=PAGE_NAMES)
def test_pages_work_for_the_administrator(
    hooks: Hooks,
    endpoint: Endpoint,
    message: Message,
    browser_as: Callable[[User | None], Client],
    page: int,
) -> None:
    method, path, data = pages(endpoint, message)[page]
    answer = getattr(browser_as(hooks.world.chair), method)(path, data)
    assert answer.status_code in (200, 302), answer.content[:500]


def test_the_list_says_plainly_when_an_endpoint_receives_nothing(
    hooks: Hooks, receiver: Receiver, browser_as: Callable[[User | None], Client]
) -> None:
    make_endpoint(hooks.member_admin, "https://hooks.partner.example/in")
    make_endpoint(hooks.member_admin, receiver.url())
    page = browser_as(hooks.member_admin).get("/webhooks/").content.decode()
    assert "nothing yet: no consortium approves hooks.partner.example" in page
    assert "Consortium A" in page


def test_creating_shows_the_secret_once_and_bad_input_is_kept(
    hooks: Hooks, browser_as: Callable[[User | None], Client], nothing_written: Any
) -> None:
    client = browser_as(hooks.member_admin)
    with nothing_written():
        bad = client.post(
            "/webhooks/new/",
            {
                "url": "http://hooks.partner.example/in",
                "description": "Our portal",
                "event_types": ["motion.opened"],
            },
        )
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "Use https://" in text
    assert 'value="http://hooks.partner.example/in"' in text
    assert "Our portal" in text
    good = client.post(
        "/webhooks/new/",
        {"url": "https://hooks.partner.example/in", "event_types": ["motion.opened"]},
    )
    assert good.status_code == 200
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", good.content.decode())
    assert secret is not None
    endpoint = Endpoint.objects.get()
    assert "No consortium of yours approves hooks.partner.example" in good.content.decode()
    assert secret.group(0) not in client.get(f"/webhooks/{endpoint.pk}/").content.decode()


def test_rotating_shows_the_new_secret_and_a_bad_overlap_keeps_the_old(
    hooks: Hooks, endpoint: Endpoint, browser_as: Callable[[User | None], Client]
) -> None:
    client = browser_as(hooks.world.chair)
    bad = client.post(f"/webhooks/{endpoint.pk}/rotate/", {"overlap_hours": "999"})
    assert bad.status_code == 400
    assert 'value="999"' in bad.content.decode()
    assert Endpoint.objects.get().secret_rotated_at is None
    good = client.post(f"/webhooks/{endpoint.pk}/rotate/", {"overlap_hours": "24"})
    assert "whsec_" in good.content.decode()
    assert Endpoint.objects.get().previous_secret_expires_at is not None


def test_disabling_needs_a_reason(
    hooks: Hooks, endpoint: Endpoint, browser_as: Callable[[User | None], Client]
) -> None:
    answer = browser_as(hooks.world.chair).post(f"/webhooks/{endpoint.pk}/disable/", {"reason": ""})
    assert answer.status_code == 400
    assert Endpoint.objects.get().is_active


def test_the_message_page_shows_attempts_payload_and_replay(
    hooks: Hooks,
    endpoint: Endpoint,
    message: Message,
    browser_as: Callable[[User | None], Client],
) -> None:
    from alliance.webhooks import services

    services.messages_deliver(endpoint_id=endpoint.pk)
    page = browser_as(hooks.world.chair).get(f"/webhooks/messages/{message.pk}/").content.decode()
    assert message.webhook_id in page
    assert "HTTP 204" in page
    assert "Send again" in page
    assert "motion.opened" in page


def test_the_chair_keeps_the_allow_list_members_read_it_outsiders_do_not_see_it(
    hooks: Hooks, browser_as: Callable[[User | None], Client], nothing_written: Any
) -> None:
    world = hooks.world
    path = f"/consortia/{world.consortium_a.pk}/webhook-destinations/"
    chair = browser_as(world.chair)
    assert "Approve a destination" in chair.get(path).content.decode()
    member = browser_as(world.member)
    page = member.get(path)
    assert page.status_code == 200
    assert "127.0.0.1" in page.content.decode()
    assert "Approve a destination" not in page.content.decode()
    with nothing_written():
        assert member.post(path, {"host": "hooks.partner.example"}).status_code == 403
        remove = f"/webhook-destinations/{hooks.destination.pk}/remove/"
        assert member.post(remove).status_code == 403
        assert browser_as(world.outsider).get(path).status_code == 404
        assert browser_as(world.outsider).post(remove).status_code == 404
        bad = chair.post(path, {"host": "https://hooks.partner.example/x", "port": "8443"})
    assert bad.status_code == 400
    assert 'value="https://hooks.partner.example/x"' in bad.content.decode()
    assert chair.post(path, {"host": "hooks.partner.example"}).status_code == 302
    assert Destination.objects.filter(host="hooks.partner.example").exists()
    assert chair.post(f"/webhook-destinations/{hooks.destination.pk}/remove/").status_code == 302
    assert not Destination.objects.filter(host="127.0.0.1").exists()


def test_the_consortium_and_organisation_pages_link_here(
    hooks: Hooks, browser_as: Callable[[User | None], Client]
) -> None:
    world = hooks.world
    consortium = (
        browser_as(world.chair).get(f"/consortia/{world.consortium_a.pk}/").content.decode()
    )
    assert f"/consortia/{world.consortium_a.pk}/webhook-destinations/" in consortium
    assert "Manage the allow-list" in consortium
    member_view = (
        browser_as(world.member).get(f"/consortia/{world.consortium_a.pk}/").content.decode()
    )
    assert "See the allow-list" in member_view
    organisation = (
        browser_as(world.chair).get(f"/organisations/{world.org_chair.pk}/").content.decode()
    )
    assert 'href="/webhooks/"' in organisation
    colleague = browser_as(hooks.chair_colleague).get(f"/organisations/{world.org_chair.pk}/")
    assert 'href="/webhooks/"' not in colleague.content.decode()


DIRECT_QUERY = re.compile(r"\b[A-Z][A-Za-z]+\.objects\b")


def test_views_and_api_never_query_models_directly() -> None:
    """tests/test_access_gate.py's rule, for this app (its list of apps predates it)."""
    modules = [ROOT / "alliance/webhooks/views.py", ROOT / "alliance/webhooks/api.py"]
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in modules
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if DIRECT_QUERY.search(line) and not line.lstrip().startswith("#")
    ]
    assert offenders == []
