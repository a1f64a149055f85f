"""The webhooks API from outside: for every route, another organisation's person gets 404, a
person of the organisation who is not its administrator 403, the administrator 2xx; bad
input is a 400 naming the field, and a refused or bad request writes nothing.

Anonymous callers (401) are covered by tests/test_api_access_matrix.py, which enumerates
these routes too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from alliance.webhooks.models import Destination, Endpoint, Message
from consortia.models import User
from tests.webhooks.conftest import Hooks, Receiver, make_endpoint
from tests.webhooks.test_delivery import queue

API = "/api/v1/webhooks"


def invalid_fields(answer: Any) -> set[str]:
    """The fields a 400 names: under ``errors`` in a problem body (RFC 9457), or at the top
    of a plain DRF one."""
    body = answer.json()
    errors = body.get("errors", body) if isinstance(body, dict) else {}
    return {name.split(".")[0] for name in errors} if isinstance(errors, dict) else set()


@pytest.fixture
def chair_endpoint(hooks: Hooks, receiver: Receiver) -> Endpoint:
    endpoint, _ = make_endpoint(hooks.world.chair, receiver.url())
    return endpoint


@pytest.fixture
def message(hooks: Hooks, chair_endpoint: Endpoint) -> Message:
    (queued,) = queue(chair_endpoint, hooks.world.consortium_a)
    return queued


# (method, path, body) for each route on one object of Chair Org (or consortium A).
def endpoint_routes(endpoint: Endpoint, message: Message) -> list[tuple[str, str, Any]]:
    return [
        ("get", f"{API}/endpoints/{endpoint.pk}/", None),
        ("patch", f"{API}/endpoints/{endpoint.pk}/", {"description": "Changed"}),
        ("delete", f"{API}/endpoints/{endpoint.pk}/", None),
        ("post", f"{API}/endpoints/{endpoint.pk}/rotate-secret/", {}),
        ("get", f"{API}/endpoints/{endpoint.pk}/consortia/", None),
        ("get", f"{API}/messages/{message.pk}/", None),
        ("post", f"{API}/messages/{message.pk}/replay/", None),
        ("get", f"{API}/messages/{message.pk}/attempts/", None),
    ]


ROUTE_NAMES = ["get", "patch", "delete", "rotate", "consortia", "message", "replay", "attempts"]


@pytest.mark.parametrize("route", range(len(ROUTE_NAMES)), ids=ROUTE_NAMES)
@pytest.mark.parametrize(
    ("persona", "expected"), [("outsider", 404), ("candidate", 404), ("chair_colleague", 403)]
)
def test_an_endpoint_is_hidden_from_others_and_closed_to_non_administrators(
    hooks: Hooks,
    chair_endpoint: Endpoint,
    message: Message,
    api_as: Callable[[User | None], APIClient],
    nothing_written: Any,
    route: int,
    persona: str,
    expected: int,
) -> None:
    user = hooks.chair_colleague if persona == "chair_colleague" else hooks.world.persona(persona)
    method, path, body = endpoint_routes(chair_endpoint, message)[route]
    with nothing_written():
        answer = getattr(api_as(user), method)(path, body, format="json")
    assert answer.status_code == expected, answer.content


@pytest.mark.parametrize("route", range(len(ROUTE_NAMES)), ids=ROUTE_NAMES)
def test_the_administrator_may_use_every_route(
    hooks: Hooks,
    chair_endpoint: Endpoint,
    message: Message,
    api_as: Callable[[User | None], APIClient],
    route: int,
) -> None:
    method, path, body = endpoint_routes(chair_endpoint, message)[route]
    answer = getattr(api_as(hooks.world.chair), method)(path, body, format="json")
    assert 200 <= answer.status_code < 300, answer.content


@pytest.mark.parametrize("path", ["/endpoints/", "/messages/"])
def test_lists_are_for_administrators_and_show_only_their_organisation(
    hooks: Hooks,
    chair_endpoint: Endpoint,
    message: Message,
    api_as: Callable[[User | None], APIClient],
    path: str,
) -> None:
    assert api_as(hooks.chair_colleague).get(API + path).status_code == 403
    assert api_as(hooks.world.member).get(API + path).status_code == 403
    assert api_as(hooks.world.outsider).get(API + path).json()["results"] == []
    mine = api_as(hooks.world.chair).get(API + path).json()["results"]
    assert len(mine) == 1


def test_creating_an_endpoint_shows_the_secret_once_and_says_where_it_receives_from(
    hooks: Hooks, receiver: Receiver, api_as: Callable[[User | None], APIClient]
) -> None:
    client = api_as(hooks.member_admin)
    body = {"url": receiver.url(), "event_types": ["motion.opened", "agreement.executed"]}
    answer = client.post(f"{API}/endpoints/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert answer.status_code == 201, answer.content
    created = answer.json()
    assert created["secret"].startswith("whsec_")
    assert created["receiving_consortia"] == [
        {"id": hooks.world.consortium_a.pk, "name": "Consortium A"}
    ]
    assert created["endpoint"]["event_types"] == ["agreement.executed", "motion.opened"]
    endpoint = Endpoint.objects.get()
    assert created["secret"] not in endpoint.secret_encrypted
    # The endpoint's own representation never carries the secret.
    detail = client.get(f"{API}/endpoints/{endpoint.pk}/").json()
    assert "secret" not in detail
    assert "secret_encrypted" not in detail
    # A retry with the same key gets the first answer, without the secret, and writes nothing.
    again = client.post(f"{API}/endpoints/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["secret"] is None
    assert Endpoint.objects.count() == 1
    from alliance.models import IdempotencyRecord

    assert created["secret"] not in str(IdempotencyRecord.objects.get().response)


def test_an_endpoint_no_consortium_approves_is_kept_but_receives_from_none(
    hooks: Hooks, api_as: Callable[[User | None], APIClient]
) -> None:
    answer = api_as(hooks.member_admin).post(
        f"{API}/endpoints/",
        {"url": "https://hooks.partner.example/in", "event_types": ["motion.opened"]},
        format="json",
    )
    assert answer.status_code == 201
    assert answer.json()["receiving_consortia"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://hooks.partner.example/", "event_types": ["motion.opened"]}, "url"),
        ({"url": "http://hooks.partner.example/", "event_types": ["motion.opened"]}, "url"),
        (
            {"url": "https://user:pw@hooks.partner.example/", "event_types": ["motion.opened"]},
            "url",
        ),
        ({"url": "https://10.0.0.5/in", "event_types": ["motion.opened"]}, "url"),
        ({"url": "https://hooks.partner.example:99999/", "event_types": ["motion.opened"]}, "url"),
        ({"event_types": ["motion.opened"]}, "url"),
        ({"url": "https://hooks.partner.example/", "event_types": []}, "event_types"),
        (
            {"url": "https://hooks.partner.example/", "event_types": ["agreement.lost"]},
            "event_types",
        ),
        (
            {
                "url": "https://hooks.partner.example/",
                "event_types": ["motion.opened"],
                "description": "x" * 201,
            },
            "description",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    hooks: Hooks,
    api_as: Callable[[User | None], APIClient],
    nothing_written: Any,
    body: dict[str, Any],
    field: str,
) -> None:
    with nothing_written():
        answer = api_as(hooks.member_admin).post(f"{API}/endpoints/", body, format="json")
    assert answer.status_code == 400
    assert field in invalid_fields(answer), answer.json()


def test_a_bad_update_writes_nothing_even_with_a_good_field_beside_it(
    hooks: Hooks,
    chair_endpoint: Endpoint,
    api_as: Callable[[User | None], APIClient],
    nothing_written: Any,
) -> None:
    client = api_as(hooks.world.chair)
    with nothing_written():
        answer = client.patch(
            f"{API}/endpoints/{chair_endpoint.pk}/",
            {"description": "New", "url": "https://10.1.1.1/"},
            format="json",
        )
    assert answer.status_code == 400
    assert "url" in invalid_fields(answer)
    with nothing_written():
        answer = client.patch(
            f"{API}/endpoints/{chair_endpoint.pk}/", {"is_active": False}, format="json"
        )
    assert answer.status_code == 400
    assert "disabled_reason" in invalid_fields(answer)


def test_disabling_and_enabling_through_patch(
    hooks: Hooks, chair_endpoint: Endpoint, api_as: Callable[[User | None], APIClient]
) -> None:
    client = api_as(hooks.world.chair)
    path = f"{API}/endpoints/{chair_endpoint.pk}/"
    answer = client.patch(path, {"is_active": False, "disabled_reason": "Moving"}, format="json")
    assert answer.json()["is_active"] is False
    assert answer.json()["disabled_reason"] == "Moving"
    assert client.patch(path, {"is_active": True}, format="json").json()["is_active"] is True


def test_a_stale_if_match_is_refused_with_412(
    hooks: Hooks, chair_endpoint: Endpoint, api_as: Callable[[User | None], APIClient]
) -> None:
    client = api_as(hooks.world.chair)
    path = f"{API}/endpoints/{chair_endpoint.pk}/"
    tag = client.get(path).headers["ETag"]
    assert (
        client.patch(path, {"description": "One"}, format="json", HTTP_IF_MATCH=tag).status_code
        == 200
    )
    stale = client.patch(path, {"description": "Two"}, format="json", HTTP_IF_MATCH=tag)
    assert stale.status_code == 412
    assert Endpoint.objects.get().description == "One"


def test_rotation_returns_a_new_secret_and_keeps_the_old_one_signing(
    hooks: Hooks, chair_endpoint: Endpoint, api_as: Callable[[User | None], APIClient]
) -> None:
    from alliance.webhooks import services

    before = services.signing_secrets(chair_endpoint, chair_endpoint.created_at)
    answer = api_as(hooks.world.chair).post(
        f"{API}/endpoints/{chair_endpoint.pk}/rotate-secret/", {"overlap_hours": 2}, format="json"
    )
    assert answer.status_code == 200
    new = answer.json()["secret"]
    chair_endpoint.refresh_from_db()
    from django.utils import timezone

    assert services.signing_secrets(chair_endpoint, timezone.now()) == [new, before[0]]
    assert answer.json()["endpoint"]["previous_secret_expires_at"] is not None
    bad = api_as(hooks.world.chair).post(
        f"{API}/endpoints/{chair_endpoint.pk}/rotate-secret/", {"overlap_hours": 500}, format="json"
    )
    assert bad.status_code == 400
    assert "overlap_hours" in invalid_fields(bad)


def test_the_event_type_catalogue(hooks: Hooks, api_as: Callable[[User | None], APIClient]) -> None:
    answer = api_as(hooks.world.member).get(f"{API}/event-types/")
    names = [row["name"] for row in answer.json()]
    assert names[:3] == [
        "agreement.status_changed",
        "agreement.signature_requested",
        "agreement.executed",
    ]
    assert {
        "motion.opened",
        "motion.closed",
        "allocation.decided",
        "compliance.finding_opened",
        "compliance.finding_resolved",
        "usage.imbalance",
    } <= set(names)


# The allow-list --------------------------------------------------------------------------------


def test_the_chair_approves_and_removes_destinations(
    hooks: Hooks, api_as: Callable[[User | None], APIClient]
) -> None:
    client = api_as(hooks.world.chair)
    body = {
        "consortium": hooks.world.consortium_a.pk,
        "host": "Hooks.Partner.Example.",
        "port": 8443,
    }
    answer = client.post(f"{API}/destinations/", body, format="json")
    assert answer.status_code == 201, answer.content
    created = answer.json()
    assert (created["host"], created["port"]) == ("hooks.partner.example", 8443)
    listed = client.get(f"{API}/destinations/?consortium={hooks.world.consortium_a.pk}").json()
    assert len(listed["results"]) == 2
    assert client.delete(f"{API}/destinations/{created['id']}/").status_code == 204
    assert not Destination.objects.filter(host="hooks.partner.example").exists()


@pytest.mark.parametrize(
    ("persona", "read", "write"),
    [("member", 200, 403), ("observer", 200, 403), ("outsider", 404, 404), ("candidate", 404, 404)],
)
def test_the_allow_list_is_read_by_members_and_changed_only_by_the_chair(
    hooks: Hooks,
    api_as: Callable[[User | None], APIClient],
    nothing_written: Any,
    persona: str,
    read: int,
    write: int,
) -> None:
    client = api_as(hooks.world.persona(persona))
    path = f"{API}/destinations/{hooks.destination.pk}/"
    assert client.get(path).status_code == read
    body = {"consortium": hooks.world.consortium_a.pk, "host": "hooks.partner.example"}
    with nothing_written():
        assert client.delete(path).status_code == write
        assert client.post(f"{API}/destinations/", body, format="json").status_code == write
    if read == 404:
        assert client.get(f"{API}/destinations/").json()["results"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"host": "https://hooks.partner.example/in"}, "host"),
        ({"host": "bad host"}, "host"),
        ({"host": ""}, "host"),
        ({"host": "hooks.partner.example", "port": 70000}, "port"),
        ({"host": "127.0.0.1"}, "host"),  # already approved
    ],
)
def test_a_bad_destination_is_a_400_naming_the_field(
    hooks: Hooks,
    api_as: Callable[[User | None], APIClient],
    nothing_written: Any,
    body: dict[str, Any],
    field: str,
) -> None:
    with nothing_written():
        answer = api_as(hooks.world.chair).post(
            f"{API}/destinations/",
            {"consortium": hooks.world.consortium_a.pk, **body},
            format="json",
        )
    assert answer.status_code == 400
    assert field in invalid_fields(answer), answer.json()


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/messages/?endpoint=99999999999999999999999", "endpoint"),
        ("/messages/?endpoint=-0.5", "endpoint"),
        ("/destinations/?consortium=abc", "consortium"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(
    hooks: Hooks, api_as: Callable[[User | None], APIClient], path: str, field: str
) -> None:
    answer = api_as(hooks.world.chair).get(API + path)
    assert answer.status_code == 400
    assert field in invalid_fields(answer), answer.json()
