"""The motions and proxies API from the outside: 404 outside the consortium, 403 for people
who do not sit on the steering committee, 401 anonymous; denials change nothing."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from consortia.governance import services
from consortia.models import Motion
from tests.conftest import World

API = "/api/v1"


def general_motion(world: World) -> Motion:
    return services.motion_propose(
        actor=world.chair,
        consortium=world.consortium_a,
        kind="general",
        title="Adopt the security baseline",
        closes_at=timezone.now() + datetime.timedelta(days=3),
    )


def closes_at() -> str:
    return (timezone.now() + datetime.timedelta(days=3)).isoformat()


CASES: list[tuple[str, str, Any, Any, dict[str, int]]] = [
    (
        "list",
        "get",
        lambda w, m: f"{API}/motions/?consortium={w.consortium_a.pk}",
        None,
        {"observer": 200, "anonymous": 401},
    ),
    (
        "detail",
        "get",
        lambda w, m: f"{API}/motions/{m.pk}/",
        None,
        {"observer": 200, "outsider": 404, "anonymous": 401},
    ),
    (
        "propose",
        "post",
        lambda w, m: f"{API}/motions/",
        lambda w, m: {
            "consortium": w.consortium_a.pk,
            "kind": "general",
            "title": "Another",
            "closes_at": closes_at(),
            "rule": "two_thirds",
        },
        {"member": 201, "observer": 403, "outsider": 404, "anonymous": 401},
    ),
    (
        "vote",
        "post",
        lambda w, m: f"{API}/motions/{m.pk}/vote/",
        lambda w, m: {"choice": "for"},
        {"member": 200, "observer": 403, "auditor": 403, "outsider": 404, "anonymous": 401},
    ),
    (
        "recuse",
        "post",
        lambda w, m: f"{API}/motions/{m.pk}/recuse/",
        lambda w, m: {"reason": "Our subsidiary bids for the contract"},
        {"member": 200, "observer": 403, "outsider": 404, "anonymous": 401},
    ),
    (
        "give proxy",
        "post",
        lambda w, m: f"{API}/proxies/",
        lambda w, m: {"consortium": w.consortium_a.pk, "grantee": w.org_chair.pk, "motion": m.pk},
        {"member": 201, "observer": 403, "outsider": 404, "anonymous": 401},
    ),
]


@pytest.mark.parametrize(
    ("name", "method", "url", "body", "persona"),
    [
        (name, method, url, body, persona)
        for name, method, url, body, expected in CASES
        for persona in expected
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_motion_endpoints_from_outside(
    name: str,
    method: str,
    url: Any,
    body: Any,
    persona: str,
    world: World,
    api_as: Any,
    unchanged: Any,
) -> None:
    motion = general_motion(world)
    expected = dict(next(case[4] for case in CASES if case[0] == name))[persona]
    client = api_as(world.persona(persona))
    payload = body(world, motion) if body else None
    if expected >= 300 or method == "get":
        with unchanged():
            response = getattr(client, method)(url(world, motion), payload, format="json")
    else:
        response = getattr(client, method)(url(world, motion), payload, format="json")
    assert response.status_code == expected, response.content


def test_hidden_results_stay_hidden_until_the_close(world: World, api_as: Any) -> None:
    motion = services.motion_propose(
        actor=world.chair,
        consortium=world.consortium_a,
        kind="general",
        title="Secret ballot",
        closes_at=timezone.now() + datetime.timedelta(days=3),
        rule="unanimity",
        results_hidden=True,
    )
    services.vote_cast(actor=world.chair, motion=motion, choice="for")
    body = api_as(world.observer).get(f"{API}/motions/{motion.pk}/").json()
    assert body["tally"] is None
    assert body["votes"] == []
    services.vote_cast(actor=world.member, motion=motion, choice="for")
    body = api_as(world.observer).get(f"{API}/motions/{motion.pk}/").json()
    assert body["status"] == "passed"
    assert body["tally"]["members_for"] == 2
    assert [vote["choice"] for vote in body["votes"]] == ["for", "for"]


def test_bad_votes_are_refused_with_the_field(world: World, api_as: Any, unchanged: Any) -> None:
    motion = general_motion(world)
    client = api_as(world.member)
    with unchanged():
        bad_choice = client.post(f"{API}/motions/{motion.pk}/vote/", {"choice": "maybe"})
        bad_veto = client.post(
            f"{API}/motions/{motion.pk}/vote/", {"choice": "against", "veto": True}
        )
    assert bad_choice.status_code == 400
    assert "choice" in bad_choice.json()["errors"]
    assert bad_veto.status_code == 400


def test_a_refused_nul_is_answered_again_on_retry(
    world: World, api_as: Any, unchanged: Any
) -> None:
    """Regression (found by the contract run): a NUL echoed in a 400 ('"x\\u0000" is not a
    valid choice') was kept for Idempotency-Key replays in a jsonb column, which PostgreSQL
    refused: a server error. The body is now refused as unreadable, and kept for the retry."""
    import json

    client = api_as(world.chair)
    body = json.dumps(
        {
            "consortium": world.consortium_a.pk,
            "kind": "general\u0000",
            "title": "Adopt the baseline",
            "closes_at": closes_at(),
        }
    )
    headers = {"Idempotency-Key": "nul-motion"}
    with unchanged():
        first = client.post(
            f"{API}/motions/", body, content_type="application/json", headers=headers
        )
        again = client.post(
            f"{API}/motions/", body, content_type="application/json", headers=headers
        )
    assert first.status_code == 400, first.content
    assert first.json()["type"] == "/api/v1/problems/malformed-request"
    assert again.json() == first.json()  # stored as jsonb: same value, keys reordered
    assert again.headers["Idempotent-Replayed"] == "true"
