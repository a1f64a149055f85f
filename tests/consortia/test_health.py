"""The partnership health check: each finding appears when its mistake is present and goes
away when it is fixed; the page and the consortium panel show it."""

from __future__ import annotations

import datetime
from typing import Any

import time_machine
from django.urls import reverse
from django.utils import timezone

from consortia import health
from consortia import services as consortium_services
from consortia.governance import services as governance
from consortia.models import Motion, RoleAssignment
from tests.agreements.conftest import make_deal
from tests.agreements.signing_helpers import send_for_signature, sign_all
from tests.agreements.test_terms_and_odrl import data_deal, execute_data_deal
from tests.conftest import World


def codes(world: World) -> list[str]:
    return [finding.code for finding in health.run(world.consortium_a)[1]]


def test_a_missing_chair_and_an_empty_committee(world: World) -> None:
    assert "no_chair" not in codes(world)
    assert "empty_steering_committee" not in codes(world)
    RoleAssignment.objects.filter(consortium=world.consortium_a, role="steering_member").delete()
    assert "empty_steering_committee" in codes(world)
    consortium_services.role_assign(
        actor=world.chair, consortium=world.consortium_a, user=world.member, role="steering_member"
    )
    assert "empty_steering_committee" not in codes(world)
    RoleAssignment.objects.filter(consortium=world.consortium_a, role="chair").delete()
    assert "no_chair" in codes(world)


def test_a_legal_framework_without_ip_liability_and_data_usage(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    (finding,) = [
        f for f in health.run(world.consortium_a)[1] if f.code == "legal_framework_incomplete"
    ]
    assert "ip ownership, liability, data usage" in finding.title
    deal = make_deal(world)
    version = deal.version
    from agreements import services

    for kind, heading in (
        ("ip_ownership", "Ownership"),
        ("liability", "Liability"),
        ("data_usage", "Data"),
    ):
        services.clause_add(
            actor=deal.legal_chair_org, version=version, heading=heading, body="Text.", kind=kind
        )
    send_for_signature(deal)
    sign_all(deal, django_capture_on_commit_callbacks)
    assert "legal_framework_incomplete" not in codes(world)


def test_a_dataset_without_terms_in_force(world: World) -> None:
    deal, dataset, _ = data_deal(world)
    assert f"The data set {dataset.name} has no usage terms in force." in [
        finding.title for finding in health.run(world.consortium_a)[1]
    ]
    execute_data_deal(deal)
    assert "dataset_without_terms" not in codes(world)


def test_a_motion_stalled_past_its_deadline(world: World) -> None:
    motion = governance.motion_propose(
        actor=world.chair,
        consortium=world.consortium_a,
        kind="general",
        title="Adopt the baseline",
        closes_at=timezone.now() + datetime.timedelta(days=1),
    )
    assert "stalled_motion" not in codes(world)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=2)):
        assert "stalled_motion" in codes(world)
        governance.motions_close_due()
        assert Motion.objects.get(pk=motion.pk).status != "open"
        assert "stalled_motion" not in codes(world)


def test_the_score_and_the_page(world: World, browser_as: Any) -> None:
    score, findings = health.run(world.consortium_a)
    assert score == 100 - sum(finding.weight for finding in findings)
    url = reverse("consortia:health", args=[world.consortium_a.pk])
    page = browser_as(world.observer).get(url).content.decode()
    assert f"Partnership health: {score} / 100" in page
    assert "No executed agreement defines" in page
    assert browser_as(world.outsider).get(url).status_code == 404
    assert browser_as(None).get(url).status_code == 302
    detail = browser_as(world.observer).get(
        reverse("consortia:detail", args=[world.consortium_a.pk])
    )
    assert f"Partnership health: {score} / 100" in detail.content.decode()


def test_a_slipping_milestone(world: World) -> None:
    from consortia import planning_services
    from consortia.planning import Milestone

    planning_services.seed_for(world.consortium_a)
    first = Milestone.objects.filter(consortium=world.consortium_a).order_by("due_on").first()
    assert first is not None
    assert "milestone_slipping" not in codes(world)
    with time_machine.travel(first.due_on + datetime.timedelta(days=3)):
        assert "milestone_slipping" in codes(world)
        planning_services.milestone_complete(actor=world.chair, milestone=first)
        assert "milestone_slipping" not in codes(world)


def test_the_health_check_over_the_api(world: World, api_as: Any) -> None:
    url = f"/api/v1/consortia/{world.consortium_a.pk}/health/"
    body = api_as(world.observer).get(url).json()
    assert body["score"] == health.run(world.consortium_a)[0]
    assert "legal_framework_incomplete" in [finding["code"] for finding in body["findings"]]
    assert api_as(world.outsider).get(url).status_code == 404
    assert api_as(None).get(url).status_code == 401


def test_the_daily_run_keeps_history_and_tells_the_chair_when_it_gets_worse(
    world: World,
) -> None:
    from django.core import mail

    from consortia.models import HealthReport
    from consortia.tasks import health_check_daily

    assert health_check_daily() == 0  # the first run has nothing to compare with
    first = HealthReport.objects.get(consortium=world.consortium_a)
    RoleAssignment.objects.filter(consortium=world.consortium_a, role="steering_member").delete()
    assert health_check_daily() == 1
    latest = HealthReport.objects.filter(consortium=world.consortium_a).latest("ran_at")
    assert latest.score < first.score
    (message,) = [m for m in mail.outbox if "Consortium A" in m.subject]
    assert message.to == [world.chair.email]
    assert "steering committee is empty" in message.body


def test_recording_the_check_now(world: World, browser_as: Any, unchanged: Any) -> None:
    from consortia.models import HealthReport

    url = reverse("consortia:health-record", args=[world.consortium_a.pk])
    with unchanged():
        assert browser_as(world.observer).post(url).status_code == 403
        assert browser_as(world.outsider).post(url).status_code == 404
    assert not HealthReport.objects.exists()
    page = browser_as(world.member).post(url, follow=True).content.decode()
    assert "The check ran" in page
    assert HealthReport.objects.filter(consortium=world.consortium_a).count() == 1
