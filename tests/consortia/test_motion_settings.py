"""A motion's settings once voting has opened (motions open when proposed): the tally may be
hidden until the close, nothing else may change. Refusals name the field and write nothing;
from the outside the proposer and the chair may, readers get 403 and outsiders 404."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from alliance.errors import AccessDeniedError
from audit.models import AuditEvent
from consortia.governance import services
from consortia.models import Motion, User
from tests.conftest import World

API = "/api/v1"
HIDDEN = "The tally stays hidden until the motion closes."


def propose(world: World, actor: User | None = None, **settings: Any) -> Motion:
    return services.motion_propose(
        actor=actor or world.chair,
        consortium=world.consortium_a,
        kind="general",
        title="Adopt the security baseline",
        closes_at=timezone.now() + datetime.timedelta(days=3),
        **settings,
    )


def motion_events(motion: Motion) -> list[tuple[str, dict[str, Any]]]:
    return [
        (action, json.loads(changes))
        for action, changes in AuditEvent.objects.filter(
            object_type="consortia.motion", object_id=str(motion.pk), outcome="success"
        )
        .order_by("pk")
        .values_list("action", "changes")
    ]


@pytest.fixture
def motion_unchanged(unchanged: Any) -> Callable[[Motion], AbstractContextManager[None]]:
    """``unchanged()`` plus the motion's own row and its audit trail (the shared check does
    not look at motions)."""

    @contextmanager
    def check(motion: Motion) -> Iterator[None]:
        def state() -> tuple[Any, ...]:
            return (
                Motion.objects.filter(pk=motion.pk).values().get(),
                motion_events(motion),
            )

        before = state()
        with unchanged():
            try:
                yield
            finally:
                assert state() == before, "a refused change touched the motion"

    return check


# The service ---------------------------------------------------------------------------------


def test_the_proposer_hides_the_tally_until_the_close(world: World) -> None:
    motion = propose(world)
    updated = services.motion_update(actor=world.chair, motion=motion, results_hidden=True)
    assert updated.results_hidden
    motion.refresh_from_db()
    assert motion.results_hidden
    assert motion_events(motion)[-1] == (
        "update",
        {"results_hidden": {"after": True, "before": False}},
    )


def test_the_chair_may_hide_the_tally_of_a_members_motion(world: World) -> None:
    motion = propose(world, actor=world.member)
    services.motion_update(actor=world.chair, motion=motion, results_hidden=True)
    motion.refresh_from_db()
    assert motion.results_hidden


def test_sending_a_setting_back_unchanged_writes_nothing(
    world: World, motion_unchanged: Any
) -> None:
    motion = propose(world, rule="two_thirds", results_hidden=True)
    with motion_unchanged(motion):
        services.motion_update(
            actor=world.chair,
            motion=motion,
            rule="two_thirds",
            quorum="0.5000",
            results_hidden=True,
        )


REFUSED: list[tuple[str, Any]] = [
    ("rule", "unanimity"),
    ("quorum_basis", "weight"),
    ("quorum", Decimal("0.9")),
    ("abstentions", "against"),
    ("weighted_threshold", Decimal("0.6")),
    ("member_threshold", Decimal("0.7")),
    ("weight_threshold", Decimal("0.8")),
    ("blocking_minority", Decimal("0.3")),
    ("closes_at", timezone.now() + datetime.timedelta(days=30)),
    ("title", "Adopt a weaker baseline"),
    ("text", "Whereas the baseline is too strict"),
    ("kind", "amend_charter"),
    ("results_hidden", False),
    ("results_hidden", "perhaps"),
    ("colour", "red"),
    ("status", "passed"),
]


@pytest.mark.parametrize(("field", "value"), REFUSED, ids=[f"{f}={v}" for f, v in REFUSED])
def test_every_other_change_is_refused_by_name(
    field: str, value: Any, world: World, motion_unchanged: Any
) -> None:
    motion = propose(world, results_hidden=True)
    # results_hidden=True rides along: one refused field refuses the whole change.
    changes = {"results_hidden": True, field: value}
    with motion_unchanged(motion), pytest.raises(ValidationError) as refused:
        services.motion_update(actor=world.chair, motion=motion, **changes)
    assert list(refused.value.message_dict) == [field]


def test_the_voting_rule_error_says_why(world: World) -> None:
    motion = propose(world)
    with pytest.raises(ValidationError) as refused:
        services.motion_update(
            actor=world.chair, motion=motion, rule="unanimity", results_hidden=True
        )
    assert refused.value.message_dict == {
        "rule": ["The voting rule cannot change once voting has opened."]
    }
    motion.refresh_from_db()
    assert not motion.results_hidden


@pytest.mark.parametrize("persona", ["member", "observer", "auditor"])
def test_only_the_proposer_and_the_chair_change_settings(
    persona: str, world: World, motion_unchanged: Any
) -> None:
    motion = propose(world)
    actor = world.persona(persona)
    assert actor is not None
    with motion_unchanged(motion), pytest.raises(AccessDeniedError):
        services.motion_update(actor=actor, motion=motion, results_hidden=True)


def test_a_closed_motion_is_not_changed(world: World, motion_unchanged: Any) -> None:
    motion = propose(world)
    services.vote_cast(actor=world.chair, motion=motion, choice="for")
    services.vote_cast(actor=world.member, motion=motion, choice="for")
    motion.refresh_from_db()
    assert motion.status == Motion.Status.PASSED
    with motion_unchanged(motion), pytest.raises(ValidationError, match="closed"):
        services.motion_update(actor=world.chair, motion=motion, results_hidden=True)


# The API -------------------------------------------------------------------------------------


def test_hiding_the_tally_over_the_api(world: World, api_as: Any) -> None:
    motion = propose(world)
    services.vote_cast(actor=world.chair, motion=motion, choice="for")
    url = f"{API}/motions/{motion.pk}/"
    assert api_as(world.observer).get(url).json()["tally"] is not None
    response = api_as(world.chair).patch(url, {"results_hidden": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["results_hidden"] is True
    seen = api_as(world.observer).get(url).json()
    assert (seen["tally"], seen["votes"]) == (None, [])


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("member", 403), ("observer", 403), ("outsider", 404), ("anonymous", 401)],
)
def test_patching_a_motion_from_outside(
    persona: str, expected: int, world: World, api_as: Any, motion_unchanged: Any
) -> None:
    motion = propose(world)
    with motion_unchanged(motion):
        response = api_as(world.persona(persona)).patch(
            f"{API}/motions/{motion.pk}/", {"results_hidden": True}, format="json"
        )
    assert response.status_code == expected, response.content


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rule": "unanimity"}, "rule"),
        ({"rule": "unanimity", "results_hidden": True}, "rule"),
        ({"results_hidden": "perhaps"}, "results_hidden"),
        ({"closes_at": "2099-01-01T00:00:00Z"}, "closes_at"),
        ({"actor": 1}, "actor"),
    ],
    ids=["rule", "rule-and-hide", "not-a-boolean", "deadline", "a-name-the-service-takes"],
)
def test_refused_changes_over_the_api_are_400_naming_the_field(
    body: dict[str, Any], field: str, world: World, api_as: Any, motion_unchanged: Any
) -> None:
    motion = propose(world)
    with motion_unchanged(motion):
        response = api_as(world.chair).patch(f"{API}/motions/{motion.pk}/", body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [field]
    if field == "rule":
        assert response.json()["errors"]["rule"] == [
            "The voting rule cannot change once voting has opened."
        ]


# The motion page -----------------------------------------------------------------------------


def test_hiding_the_tally_in_the_browser(world: World, browser_as: Any) -> None:
    motion = propose(world)
    services.vote_cast(actor=world.chair, motion=motion, choice="for")
    detail = reverse("consortia:motion", args=[motion.pk])
    settings = reverse("consortia:motion-settings", args=[motion.pk])
    page = browser_as(world.chair).get(detail).content.decode()
    assert "Hide the tally until the close" in page
    assert settings in page
    assert settings not in browser_as(world.observer).get(detail).content.decode()
    assert settings not in browser_as(world.member).get(detail).content.decode()
    response = browser_as(world.chair).post(settings, {"results_hidden": "True"})
    assert response.status_code == 302
    assert response["Location"] == detail
    page = browser_as(world.chair).get(detail).content.decode()
    assert HIDDEN in page
    assert settings not in page  # hidden it stays: nothing left to tighten
    assert HIDDEN in browser_as(world.observer).get(detail).content.decode()
    motion.refresh_from_db()
    assert motion.results_hidden


def test_the_settings_form_from_outside(
    world: World, browser_as: Any, motion_unchanged: Any
) -> None:
    motion = propose(world)
    settings = reverse("consortia:motion-settings", args=[motion.pk])
    with motion_unchanged(motion):
        assert (
            browser_as(world.observer).post(settings, {"results_hidden": "True"}).status_code == 403
        )
        assert (
            browser_as(world.member).post(settings, {"results_hidden": "True"}).status_code == 403
        )
        assert (
            browser_as(world.outsider).post(settings, {"results_hidden": "True"}).status_code == 404
        )
        assert browser_as(None).post(settings, {"results_hidden": "True"}).status_code == 302
        assert browser_as(world.chair).get(settings).status_code == 405


def test_the_settings_form_on_a_closed_motion_shows_why(
    world: World, browser_as: Any, motion_unchanged: Any
) -> None:
    motion = propose(world)
    services.vote_cast(actor=world.chair, motion=motion, choice="for")
    services.vote_cast(actor=world.member, motion=motion, choice="for")
    settings = reverse("consortia:motion-settings", args=[motion.pk])
    with motion_unchanged(motion):
        response = browser_as(world.chair).post(settings, {"results_hidden": "True"})
    assert response.status_code == 400
    assert "Voting on this motion has closed." in response.content.decode()
