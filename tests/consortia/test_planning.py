"""Risk register and operationalization plan: seeding from the partnership model, slipping
milestones, writes by the chair and the steering committee (audited), and from the outside
404/403/401 or a redirect on every endpoint and page, with nothing changed by a denial."""

from __future__ import annotations

import datetime
import importlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from alliance.errors import AccessDeniedError, NotVisibleError
from audit.models import AuditEvent
from consortia import planning_data, planning_selectors, planning_services, services
from consortia.models import Consortium, Jurisdiction, PartnershipModel
from consortia.planning import Milestone, Risk
from consortia.planning_selectors import MilestoneState
from tests.conftest import World
from tests.consortia.factories import UserFactory

API = "/api/v1"

EXPECTED_RISKS = {
    "joint_development": ["IP disputes", "Slow decision-making"],
    "federated_learning": ["Model poisoning", "Inference attacks on shared models"],
    "infrastructure_pool": ["Misaligned capacity needs leading to conflict"],
}
EXPECTED_MILESTONES = {
    "joint_development": [
        ("legal-framework-signed", 6),
        ("members-admitted", 8),
        ("infrastructure-approved", 9),
        ("first-data-shared", 11),
        ("operational", 12),
    ],
    "federated_learning": [
        ("legal-framework-signed", 3),
        ("members-admitted", 4),
        ("infrastructure-approved", 5),
        ("first-data-shared", 5),
        ("operational", 6),
    ],
    "infrastructure_pool": [
        ("legal-framework-signed", 9),
        ("members-admitted", 11),
        ("infrastructure-approved", 14),
        ("first-allocation", 16),
        ("operational", 18),
    ],
}


def planning_state() -> tuple[Any, ...]:
    return (
        list(Risk.objects.order_by("pk").values()),
        list(Milestone.objects.order_by("pk").values()),
    )


@pytest.fixture
def nothing_changes(unchanged: Any) -> Callable[[], Any]:
    """``unchanged()`` from conftest, plus the register and plan it does not know about."""

    @contextmanager
    def check() -> Iterator[None]:
        before = planning_state()
        with unchanged():
            yield
        assert planning_state() == before, "a denied or invalid request changed the plan"

    return check


@dataclass
class Planned:
    world: World
    risk: Risk  # the highest-scored seeded risk of consortium A
    open_milestone: Milestone
    done_milestone: Milestone


@pytest.fixture
def planned(world: World) -> Planned:
    """Consortium A seeded (joint development), its first milestone reached by the chair."""
    planning_services.seed_for(world.consortium_a)
    planning_services.seed_for(world.consortium_b)
    milestones = list(Milestone.objects.filter(consortium=world.consortium_a))
    done = planning_services.milestone_complete(actor=world.chair, milestone=milestones[0])
    return Planned(
        world=world,
        risk=planning_selectors.risk_list(world.chair, world.consortium_a.pk).first(),  # type: ignore[arg-type]
        open_milestone=milestones[1],
        done_milestone=done,
    )


def found(code: str, name: str = "Sovereign Partnership") -> Consortium:
    return services.consortium_create(
        actor=UserFactory.create(),
        name=name,
        partnership_model=PartnershipModel.objects.get(pk=code),
        home_jurisdiction=Jurisdiction.objects.get(pk="EU"),
    )


# Seeding -----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(EXPECTED_RISKS))
def test_founding_seeds_the_models_risks_and_milestones(db: Any, code: str) -> None:
    founded = datetime.datetime(2026, 1, 31, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(founded, tick=False):
        consortium = found(code)
    model = PartnershipModel.objects.get(pk=code)

    risks = Risk.objects.filter(consortium=consortium).order_by("pk")
    assert [risk.title for risk in risks] == EXPECTED_RISKS[code]
    assert all(risk.from_model and risk.status == "open" and risk.mitigations for risk in risks)
    assert all(1 <= risk.likelihood <= 5 and 1 <= risk.impact <= 5 for risk in risks)
    assert {risk.review_on for risk in risks} == {datetime.date(2026, 4, 30)}

    milestones = list(Milestone.objects.filter(consortium=consortium))
    assert [(m.key, m.target_months) for m in milestones] == EXPECTED_MILESTONES[code]
    assert [m.position for m in milestones] == [1, 2, 3, 4, 5]
    targets = [m.target_months for m in milestones]
    assert targets[0] == model.time_to_operationalize_min_months
    assert targets[-1] == model.time_to_operationalize_max_months
    assert targets == sorted(targets)
    # Due dates count from the founding day; a short month takes its last day.
    for milestone in milestones:
        assert milestone.due_on == planning_data.add_months(
            datetime.date(2026, 1, 31), milestone.target_months
        )
        assert milestone.done_on is None


def test_add_months_keeps_the_day_or_takes_the_months_last() -> None:
    assert planning_data.add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert planning_data.add_months(datetime.date(2027, 12, 31), 2) == datetime.date(2028, 2, 29)
    assert planning_data.add_months(datetime.date(2026, 5, 15), 18) == datetime.date(2027, 11, 15)
    assert planning_data.milestone_targets(6, 12, 5) == [6, 8, 9, 11, 12]


def test_seeding_is_idempotent_and_keeps_the_committees_edits(world: World) -> None:
    consortium = world.consortium_a
    assert planning_services.seed_for(consortium) == 7
    risk = Risk.objects.get(consortium=consortium, key="ip-disputes")
    planning_services.risk_update(actor=world.chair, risk=risk, likelihood=1)
    before = planning_state()
    assert planning_services.seed_for(consortium) == 0
    assert planning_state() == before
    assert Risk.objects.get(pk=risk.pk).likelihood == 1


def test_founding_is_still_three_events_and_the_plan_adds_none(db: Any) -> None:
    consortium = found("federated_learning")
    assert Milestone.objects.filter(consortium=consortium).count() == 5
    assert list(
        AuditEvent.objects.filter(consortium_id=consortium.pk).values_list("action", flat=True)
    ) == ["create", "admit", "assign"]


def test_the_data_migration_seeds_existing_consortia_once(world: World) -> None:
    migration = importlib.import_module("consortia.migrations.0008_planning_seed")
    assert not Risk.objects.exists()
    migration.seed(apps, None)
    assert [r.title for r in Risk.objects.filter(consortium=world.consortium_b)] == [
        "Model poisoning",
        "Inference attacks on shared models",
    ]
    assert Milestone.objects.filter(consortium=world.consortium_a).count() == 5
    before = planning_state()
    migration.seed(apps, None)
    assert planning_state() == before


# Reading -----------------------------------------------------------------------------------


def test_risks_are_sorted_by_score(planned: Planned) -> None:
    world = planned.world
    planning_services.risk_create(
        actor=world.member,
        consortium=world.consortium_a,
        title="GPU supplier lock-in",
        category="financial",
        likelihood=5,
        impact=5,
    )
    scores = [risk.score for risk in planning_selectors.risk_list(world.observer)]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == 25
    assert planning_selectors.risk_list(world.outsider, world.consortium_a.pk).count() == 0


def test_slipping_milestones_and_progress(world: World) -> None:
    planning_services.seed_for(world.consortium_a)
    first, second, *_ = Milestone.objects.filter(consortium=world.consortium_a)
    on_time = planning_selectors.plan_for(world.observer, world.consortium_a)
    assert (on_time.done, on_time.total, on_time.percent, on_time.slipping) == (0, 5, 0, [])
    assert on_time.milestones[0].state == MilestoneState.DUE

    late = datetime.datetime.combine(
        first.due_on + datetime.timedelta(days=10), datetime.time(12), tzinfo=datetime.UTC
    )
    with time_machine.travel(late, tick=False):
        plan = planning_selectors.plan_for(world.observer, world.consortium_a)
        assert [item.milestone.pk for item in plan.slipping] == [first.pk]
        assert plan.slipping[0].days_late == 10
        assert plan.slipping[0].label == "Slipping: 10 days late"
        assert plan.milestones[1].state == MilestoneState.DUE
        planning_services.milestone_complete(actor=world.member, milestone=first)
        plan = planning_selectors.plan_for(world.observer, world.consortium_a)
        assert (plan.done, plan.total, plan.percent, plan.slipping) == (1, 5, 20, [])
        assert plan.milestones[0].state == MilestoneState.DONE
        assert plan.milestones[0].days_late == 10  # reached ten days after it was due
        assert second.pk == plan.next_due.milestone.pk  # type: ignore[union-attr]


# Writing -----------------------------------------------------------------------------------


def test_the_committee_keeps_the_register_and_every_write_is_audited(world: World) -> None:
    planning_services.seed_for(world.consortium_a)
    risk = planning_services.risk_create(
        actor=world.member,
        consortium=world.consortium_a,
        title="Key person leaves",
        category="operational",
        likelihood=2,
        impact=4,
        owner=world.org_member,
        mitigations="Two people per role.",
    )
    assert (risk.score, risk.owner, risk.from_model) == (8, world.org_member, False)
    updated = planning_services.risk_update(
        actor=world.chair,
        risk=risk,
        likelihood=3,
        status="mitigated",
        owner=world.org_chair,
        review_on=datetime.date(2030, 1, 1),
    )
    assert (updated.score, updated.status, updated.owner) == (12, "mitigated", world.org_chair)
    milestone = Milestone.objects.filter(consortium=world.consortium_a).first()
    assert milestone is not None
    planning_services.milestone_complete(
        actor=world.member, milestone=milestone, notes="Agreement executed."
    )
    planning_services.milestone_reopen(actor=world.chair, milestone=milestone, reason="Amended")
    events = list(
        AuditEvent.objects.filter(
            consortium_id=world.consortium_a.pk,
            object_type__in=["consortia.risk", "consortia.milestone"],
            outcome="success",
        ).order_by("sequence")
    )
    assert [(e.action, e.object_type, e.actor_display) for e in events] == [
        ("create", "consortia.risk", "member"),
        ("update", "consortia.risk", "chair"),
        ("transition", "consortia.milestone", "member"),
        ("transition", "consortia.milestone", "chair"),
    ]
    changes = [json.loads(event.changes) for event in events]
    assert changes[1]["likelihood"] == {"before": 2, "after": 3}
    assert changes[1]["status"] == {"before": "open", "after": "mitigated"}
    assert changes[2]["done_on"]["after"] == timezone.localdate().isoformat()
    assert events[3].reason == "Amended"
    assert Milestone.objects.get(pk=milestone.pk).done_on is None


@pytest.mark.parametrize(
    ("persona", "error"),
    [
        ("observer", AccessDeniedError),
        ("auditor", AccessDeniedError),
        ("outsider", NotVisibleError),
    ],
)
def test_readers_and_outsiders_cannot_write(
    planned: Planned, persona: str, error: type[Exception], nothing_changes: Any
) -> None:
    actor = getattr(planned.world, persona)
    with nothing_changes():
        with pytest.raises(error):
            planning_services.risk_create(
                actor=actor,
                consortium=planned.world.consortium_a,
                title="X",
                category="legal",
                likelihood=1,
                impact=1,
            )
        with pytest.raises(error):
            planning_services.risk_update(actor=actor, risk=planned.risk, likelihood=1)
        with pytest.raises(error):
            planning_services.milestone_complete(actor=actor, milestone=planned.open_milestone)
        with pytest.raises(error):
            planning_services.milestone_reopen(actor=actor, milestone=planned.done_milestone)


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


RISK_BASE: dict[str, Any] = {
    "title": "Export controls",
    "category": "legal",
    "likelihood": 3,
    "impact": 3,
}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"likelihood": 0}, "likelihood"),
        ({"likelihood": 6}, "likelihood"),
        ({"impact": 0}, "impact"),
        ({"impact": 6}, "impact"),
        ({"status": "forgotten"}, "status"),
        ({"category": "astrological"}, "category"),
        ({"title": "  "}, "title"),
        ({"owner": "outsider"}, "owner"),
        ({"owner": "candidate"}, "owner"),
    ],
)
def test_bad_risk_input_names_the_field_and_writes_nothing(
    planned: Planned, changes: dict[str, Any], field: str, nothing_changes: Any
) -> None:
    world = planned.world
    owners = {"outsider": world.org_outsider, "candidate": world.org_candidate}
    values: dict[str, Any] = {
        name: owners[value] if name == "owner" else value for name, value in changes.items()
    }
    with nothing_changes():
        with pytest.raises(ValidationError) as created:
            planning_services.risk_create(
                actor=world.chair, consortium=world.consortium_a, **{**RISK_BASE, **values}
            )
        assert list(created.value.message_dict) == [field]
        if field in planning_services.RISK_UPDATABLE:
            with pytest.raises(ValidationError) as updated:
                planning_services.risk_update(actor=world.chair, risk=planned.risk, **values)
            assert list(updated.value.message_dict) == [field]


def test_bad_milestone_input_names_the_field_and_writes_nothing(
    planned: Planned, nothing_changes: Any
) -> None:
    world = planned.world
    with nothing_changes():
        for done_on, message in [
            (in_days(1), "in the future"),
            (in_days(-400), "before the consortium was founded"),
        ]:
            with pytest.raises(ValidationError, match=message) as caught:
                planning_services.milestone_complete(
                    actor=world.chair, milestone=planned.open_milestone, done_on=done_on
                )
            assert list(caught.value.message_dict) == ["done_on"]
        with pytest.raises(ValidationError, match="reopen it first"):
            planning_services.milestone_complete(
                actor=world.chair, milestone=planned.done_milestone
            )
        with pytest.raises(ValidationError, match="nothing to reopen"):
            planning_services.milestone_reopen(actor=world.chair, milestone=planned.open_milestone)
        with pytest.raises(ValidationError) as caught:
            planning_services.risk_update(actor=world.chair, risk=planned.risk, title="New")
        assert list(caught.value.message_dict) == ["title"]


# API ---------------------------------------------------------------------------------------

Url = Callable[[Planned], str]
Body = Callable[[Planned], dict[str, Any]] | None

API_CASES: list[tuple[str, str, Url, Body, dict[str, int]]] = [
    (
        "risk list",
        "get",
        lambda p: f"{API}/risks/?consortium={p.world.consortium_a.pk}",
        None,
        {"observer": 200, "anonymous": 401},
    ),
    (
        "risk detail",
        "get",
        lambda p: f"{API}/risks/{p.risk.pk}/",
        None,
        {"observer": 200, "outsider": 404, "anonymous": 401},
    ),
    (
        "risk create",
        "post",
        lambda p: f"{API}/risks/",
        lambda p: {
            "consortium": p.world.consortium_a.pk,
            "title": "Sanctions on a member",
            "category": "legal",
            "likelihood": 2,
            "impact": 5,
        },
        {"chair": 201, "member": 201, "observer": 403, "outsider": 404, "anonymous": 401},
    ),
    (
        "risk update",
        "patch",
        lambda p: f"{API}/risks/{p.risk.pk}/",
        lambda p: {"likelihood": 1, "status": "mitigated"},
        {"chair": 200, "member": 200, "observer": 403, "outsider": 404, "anonymous": 401},
    ),
    (
        "milestone list",
        "get",
        lambda p: f"{API}/milestones/?consortium={p.world.consortium_a.pk}",
        None,
        {"observer": 200, "anonymous": 401},
    ),
    (
        "milestone detail",
        "get",
        lambda p: f"{API}/milestones/{p.open_milestone.pk}/",
        None,
        {"observer": 200, "outsider": 404, "anonymous": 401},
    ),
    (
        "milestone complete",
        "post",
        lambda p: f"{API}/milestones/{p.open_milestone.pk}/complete/",
        lambda p: {"notes": "All members admitted."},
        {"chair": 200, "member": 200, "observer": 403, "outsider": 404, "anonymous": 401},
    ),
    (
        "milestone reopen",
        "post",
        lambda p: f"{API}/milestones/{p.done_milestone.pk}/reopen/",
        lambda p: {"reason": "The agreement was amended."},
        {"chair": 200, "member": 200, "observer": 403, "outsider": 404, "anonymous": 401},
    ),
]


@pytest.mark.parametrize(
    ("name", "persona"),
    [(name, persona) for name, _, _, _, expected in API_CASES for persona in expected],
)
def test_planning_api_from_every_side(
    name: str, persona: str, planned: Planned, api_as: Any, nothing_changes: Any
) -> None:
    _, method, url, body, expected_by_persona = next(c for c in API_CASES if c[0] == name)
    expected = expected_by_persona[persona]
    client = api_as(planned.world.persona(persona))
    payload = body(planned) if body else None
    events = AuditEvent.objects.filter(outcome="success").count()
    if expected >= 300 or method == "get":
        with nothing_changes():
            response = getattr(client, method)(url(planned), payload, format="json")
    else:
        response = getattr(client, method)(url(planned), payload, format="json")
        assert AuditEvent.objects.filter(outcome="success").count() == events + 1
    assert response.status_code == expected, response.content


def test_api_lists_and_shapes(planned: Planned, api_as: Any) -> None:
    world = planned.world
    risks = api_as(world.observer).get(f"{API}/risks/?consortium={world.consortium_a.pk}")
    risks = risks.json()["results"]
    assert [risk["score"] for risk in risks] == [12, 12]
    assert {risk["title"] for risk in risks} == {"IP disputes", "Slow decision-making"}
    assert api_as(world.outsider).get(
        f"{API}/risks/?consortium={world.consortium_a.pk}"
    ).json() == {"next": None, "previous": None, "results": []}
    everything = api_as(world.outsider).get(f"{API}/risks/").json()["results"]
    assert {risk["consortium"] for risk in everything} == {world.consortium_b.pk}
    milestones = (
        api_as(world.observer)
        .get(f"{API}/milestones/?consortium={world.consortium_a.pk}")
        .json()["results"]
    )
    assert [m["state"] for m in milestones] == ["done", "due", "due", "due", "due"]
    assert milestones[0]["done_on"] == timezone.localdate().isoformat()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"likelihood": 0}, "likelihood"),
        ({"likelihood": 6}, "likelihood"),
        ({"impact": 9}, "impact"),
        ({"status": "forgotten"}, "status"),
        ({"owner": "outsider"}, "owner"),
        ({"owner": 999999}, "owner"),
        ({"review_on": "soon"}, "review_on"),
    ],
)
def test_api_refuses_bad_risk_input_with_the_field(
    planned: Planned, api_as: Any, nothing_changes: Any, body: dict[str, Any], field: str
) -> None:
    world = planned.world
    if body.get("owner") == "outsider":
        body = {"owner": world.org_outsider.pk}
    client = api_as(world.member)
    with nothing_changes():
        patched = client.patch(f"{API}/risks/{planned.risk.pk}/", body, format="json")
        created = client.post(
            f"{API}/risks/",
            {"consortium": world.consortium_a.pk, **RISK_BASE, **body},
            format="json",
        )
    for response in (patched, created):
        assert response.status_code == 400, response.content
        assert field in response.json()["errors"]


def test_api_refuses_a_future_completion_date(
    planned: Planned, api_as: Any, nothing_changes: Any
) -> None:
    with nothing_changes():
        response = api_as(planned.world.chair).post(
            f"{API}/milestones/{planned.open_milestone.pk}/complete/",
            {"done_on": in_days(3).isoformat()},
            format="json",
        )
    assert response.status_code == 400
    assert "done_on" in response.json()["errors"]


# Pages -------------------------------------------------------------------------------------

PAGE_CASES: list[tuple[str, str, Url, Body, dict[str, int]]] = [
    (
        "risks page",
        "get",
        lambda p: reverse("consortia:risks", args=[p.world.consortium_a.pk]),
        None,
        {"chair": 200, "observer": 200, "outsider": 404, "anonymous": 302},
    ),
    (
        "add risk",
        "post",
        lambda p: reverse("consortia:risks", args=[p.world.consortium_a.pk]),
        lambda p: {**RISK_BASE, "owner": p.world.org_member.pk},
        {"member": 302, "observer": 403, "outsider": 404, "anonymous": 302},
    ),
    (
        "edit risk",
        "post",
        lambda p: reverse("consortia:risk-edit", args=[p.risk.pk]),
        lambda p: {
            "likelihood": 2,
            "impact": 2,
            "status": "accepted",
            "owner": "",
            "mitigations": "Insurance.",
            "review_on": "2030-06-30",
        },
        {"chair": 302, "observer": 403, "outsider": 404, "anonymous": 302},
    ),
    (
        "plan page",
        "get",
        lambda p: reverse("consortia:plan", args=[p.world.consortium_a.pk]),
        None,
        {"member": 200, "observer": 200, "outsider": 404, "anonymous": 302},
    ),
    (
        "complete milestone",
        "post",
        lambda p: reverse("consortia:milestone-complete", args=[p.open_milestone.pk]),
        lambda p: {"done_on": timezone.localdate().isoformat(), "notes": "Minutes of the vote."},
        {"member": 302, "observer": 403, "outsider": 404, "anonymous": 302},
    ),
    (
        "reopen milestone",
        "post",
        lambda p: reverse("consortia:milestone-reopen", args=[p.done_milestone.pk]),
        lambda p: {"reason": "Signed by the wrong entity."},
        {"chair": 302, "observer": 403, "outsider": 404, "anonymous": 302},
    ),
]


@pytest.mark.parametrize(
    ("name", "persona"),
    [(name, persona) for name, _, _, _, expected in PAGE_CASES for persona in expected],
)
def test_planning_pages_from_every_side(
    name: str, persona: str, planned: Planned, browser_as: Any, nothing_changes: Any
) -> None:
    _, method, url, body, expected_by_persona = next(c for c in PAGE_CASES if c[0] == name)
    expected = expected_by_persona[persona]
    client = browser_as(planned.world.persona(persona))
    payload = body(planned) if body else None
    denied = persona in ("observer", "outsider", "anonymous") and method == "post"
    if denied or method == "get":
        with nothing_changes():
            response = getattr(client, method)(url(planned), payload or {})
    else:
        before = planning_state()
        response = getattr(client, method)(url(planned), payload or {})
        assert planning_state() != before
    assert response.status_code == expected, response.content.decode()[:500]
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("login"))


def test_pages_show_forms_only_to_the_committee(planned: Planned, browser_as: Any) -> None:
    world = planned.world
    risks = reverse("consortia:risks", args=[world.consortium_a.pk])
    plan = reverse("consortia:plan", args=[world.consortium_a.pk])
    as_member = browser_as(world.member).get(risks).content.decode()
    assert "Add a risk" in as_member
    assert "Re-assess" in as_member
    as_observer = browser_as(world.observer).get(risks).content.decode()
    assert "IP disputes" in as_observer
    assert "Add a risk" not in as_observer
    assert "Re-assess" not in as_observer
    plan_member = browser_as(world.member).get(plan).content.decode()
    assert "<progress" in plan_member
    assert "1 of 5 milestones reached (20%)" in plan_member
    assert "Mark “Members admitted” reached" in plan_member
    assert "Reopen “Legal framework signed”" in plan_member
    plan_observer = browser_as(world.observer).get(plan).content.decode()
    assert "Mark “" not in plan_observer
    assert "Reopen “" not in plan_observer


def test_the_plan_page_says_which_milestones_slip(planned: Planned, browser_as: Any) -> None:
    late = datetime.datetime.combine(
        planned.open_milestone.due_on + datetime.timedelta(days=3),
        datetime.time(12),
        tzinfo=datetime.UTC,
    )
    with time_machine.travel(late, tick=False):
        page = browser_as(planned.world.observer).get(
            reverse("consortia:plan", args=[planned.world.consortium_a.pk])
        )
    html = page.content.decode()
    assert "Slipping: 3 days late" in html
    assert "milestone slipping:" in html or "milestones slipping:" in html


def test_bad_page_input_is_shown_and_writes_nothing(
    planned: Planned, browser_as: Any, nothing_changes: Any
) -> None:
    world = planned.world
    client = browser_as(world.chair)
    with nothing_changes():
        added = client.post(
            reverse("consortia:risks", args=[world.consortium_a.pk]),
            {**RISK_BASE, "owner": world.org_outsider.pk},
        )
        completed = client.post(
            reverse("consortia:milestone-complete", args=[planned.open_milestone.pk]),
            {"done_on": in_days(2).isoformat()},
        )
        edited = client.post(
            reverse("consortia:risk-edit", args=[planned.risk.pk]),
            {"likelihood": 7, "impact": 2, "status": "open", "review_on": "2030-01-01"},
        )
    assert added.status_code == completed.status_code == edited.status_code == 400
    assert "Select a valid choice" in added.content.decode()
    assert "cannot be reached in the future" in completed.content.decode()
    assert "Select a valid choice" in edited.content.decode()


def test_the_consortium_page_has_the_planning_panel(planned: Planned, browser_as: Any) -> None:
    page = browser_as(planned.world.observer).get(
        reverse("consortia:detail", args=[planned.world.consortium_a.pk])
    )
    html = page.content.decode()
    assert "Plan and risks" in html
    assert "1 of 5 milestones reached" in html
    assert "IP disputes: score 12" in html
