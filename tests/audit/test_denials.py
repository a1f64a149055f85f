"""A request the access policy refuses leaves a ``denied`` event, and nothing else."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from audit.models import AuditEvent
from tests.conftest import World


def denied_events() -> list[dict[str, Any]]:
    return [
        dict(row)
        for row in AuditEvent.objects.filter(outcome="denied", action="denied").values(
            "chain", "actor_display", "object_type", "object_id", "reason", "changes"
        )
    ]


def test_outsider_probing_another_consortium_is_recorded_in_its_chain(
    world: World, api_as: Any, unchanged: Any
) -> None:
    with unchanged():
        response = api_as(world.outsider).patch(
            f"/api/v1/consortia/{world.consortium_a.pk}/", {"charter": "x"}, format="json"
        )
    assert response.status_code == 404
    assert denied_events() == [
        {
            "chain": f"consortium:{world.consortium_a.pk}",
            "actor_display": "outsider",
            "object_type": "consortia.consortium",
            "object_id": str(world.consortium_a.pk),
            "reason": "404: No consortium matches the given query.",
            "changes": '{"attempted":"change_consortium"}',
        }
    ]


def test_read_only_role_trying_to_write_is_recorded(
    world: World, browser_as: Any, unchanged: Any
) -> None:
    with unchanged():
        response = browser_as(world.observer).post(
            reverse("consortia:membership-action", args=[world.membership_member.pk, "suspend"]),
            {"reason": "x"},
        )
    assert response.status_code == 403
    (event,) = denied_events()
    assert event["chain"] == f"consortium:{world.consortium_a.pk}"
    assert event["object_type"] == "consortia.membership"
    assert event["reason"] == "403: You may not manage membership here."


def test_unknown_object_goes_to_the_platform_chain(world: World, api_as: Any) -> None:
    assert api_as(world.chair).get("/api/v1/memberships/999999/").status_code == 404
    (event,) = denied_events()
    assert event["chain"] == "platform"
    assert event["object_id"] == "999999"


def test_anonymous_requests_are_not_policy_denials(world: World, api_as: Any) -> None:
    assert api_as(None).get(f"/api/v1/consortia/{world.consortium_a.pk}/").status_code == 401
    assert denied_events() == []


def test_sign_in_events(world: World, client: Any) -> None:
    assert (
        client.post(reverse("login"), {"username": "chair", "password": "wrong"}).status_code == 200
    )
    assert (
        client.post(reverse("login"), {"username": "chair", "password": "password"}).status_code
        == 302
    )
    actions = list(
        AuditEvent.objects.filter(chain="platform")
        .order_by("sequence")
        .values_list("action", "outcome", "object_display")
    )
    assert actions[-2][:2] == ("login_failed", "denied")
    assert actions[-2][2] == "chair"
    assert actions[-1][:2] == ("login", "success")
    assert not AuditEvent.objects.filter(changes__icontains="wrong").exists()
