"""The compliance pages from a browser: the decision log, the what-if form (each reason with its
message, expected and actual, and a link to the clause's agreement version), a decision's
page with every rule checked, and who may see and post what."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from compute.compliance import services
from compute.compliance.models import Decision, Job
from consortia.models import User
from tests.compute.compliance.conftest import Compliance, job_fields
from tests.compute.conftest import at

Browser = Callable[[User | None], Client]


def page(c: Compliance) -> str:
    return reverse("compute:compliance", args=[c.grid.world.consortium_a.pk])


def form_data(c: Compliance, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "What if we copied the images",
        "datasets": [c.dataset.pk],
        "sites": [c.grid.paris.pk],
        "purpose": "research_and_development",
        "action": "train",
        "movement": "federated",
        "output_jurisdiction": "FR",
        "starts_at": "2026-06-01T00:00",
        "ends_at": "2026-06-10T00:00",
        "aggregation_site": c.grid.paris.pk,
        "secure_aggregation": "on",
        "dp_epsilon": "1.0",
        "at": "2026-06-01T00:00",
    }
    values.update(changes)
    return values


def denied_data(c: Compliance) -> dict[str, Any]:
    return form_data(c, sites=[c.grid.frankfurt.pk], movement="data_to_compute")


def _decided(c: Compliance, **changes: Any) -> Decision:
    spec = job_fields(c, **changes)
    return services.decide_and_record(
        actor=c.grid.technician,
        consortium=c.grid.world.consortium_a,
        spec_or_job=spec,
        at=at("2026-06-01"),
        explain=True,
    )


def test_what_if_shows_each_reason_with_its_clause(
    compliance: Compliance, browser_as: Browser
) -> None:
    c = compliance
    jobs, decisions, events = Job.objects.count(), Decision.objects.count(), AuditEvent.objects
    before_events = events.count()
    response = browser_as(c.grid.technician).post(page(c), denied_data(c))
    assert response.status_code == 200
    text = response.content.decode()
    decision = Decision.objects.latest("pk")
    assert decision.outcome == "deny"
    assert decision.job is None
    assert Job.objects.count() == jobs, "a what-if stores no job"
    assert Decision.objects.count() == decisions + 1, "but its decision is stored"
    assert events.filter(object_type="compute.decision", object_id=str(decision.pk)).count() == 1
    assert events.count() >= before_events + 1
    assert "Deny" in text
    for reason in decision.reasons:
        assert reason["code"] in text
        assert reason["message"] in text or reason["message"].replace("'", "&#x27;") in text
    assert f'href="/agreement-versions/{c.clause.version_id}/"' in text
    assert "Hospital data for training, version 1, clause" in text
    # The form keeps what was asked, to try a variation.
    assert 'value="What if we copied the images"' in text


def test_an_allowed_what_if_shows_its_obligations(
    compliance: Compliance, browser_as: Browser
) -> None:
    c = compliance
    response = browser_as(c.grid.technician).post(page(c), form_data(c))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Allow with obligations" in text
    assert "RETENTION_LIMIT" in text


def test_bad_input_keeps_the_form_and_stores_nothing(
    compliance: Compliance, browser_as: Browser, unchanged: Any
) -> None:
    c = compliance
    with unchanged():
        response = browser_as(c.grid.technician).post(
            page(c), form_data(c, ends_at="2026-05-01T00:00", name="Backwards")
        )
    assert response.status_code == 400
    text = response.content.decode()
    assert "The job ends after it starts." in text
    assert 'value="Backwards"' in text


def test_the_log_lists_decisions_newest_first(compliance: Compliance, browser_as: Browser) -> None:
    c = compliance
    first = _decided(c)
    second = _decided(c, sites=[c.grid.frankfurt], movement="data_to_compute")
    response = browser_as(c.grid.world.observer).get(page(c))
    assert response.status_code == 200
    text = response.content.decode()
    assert text.index(f">{second.pk}</a>") < text.index(f">{first.pk}</a>")
    assert "DATA_RESIDENCY_VIOLATION" in text
    assert "Deny" in text
    assert "Allow with obligations" in text


def test_the_observer_sees_the_log_but_no_form(
    compliance: Compliance, browser_as: Browser, unchanged: Any
) -> None:
    c = compliance
    _decided(c)
    client = browser_as(c.grid.world.observer)
    response = client.get(page(c))
    assert response.status_code == 200
    assert "Check the job" not in response.content.decode()
    with unchanged():
        assert client.post(page(c), form_data(c)).status_code == 403


def test_a_member_who_may_check_sees_the_form(compliance: Compliance, browser_as: Browser) -> None:
    response = browser_as(compliance.grid.technician).get(page(compliance))
    assert "Check the job" in response.content.decode()


def test_the_outsider_gets_404(compliance: Compliance, browser_as: Browser, unchanged: Any) -> None:
    c = compliance
    decision = _decided(c)
    client = browser_as(c.grid.world.outsider)
    assert client.get(page(c)).status_code == 404
    with unchanged():
        assert client.post(page(c), form_data(c)).status_code == 404
    detail = reverse("compute:compliance-decision", args=[decision.pk])
    assert client.get(detail).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(
    compliance: Compliance, browser_as: Browser
) -> None:
    response = browser_as(None).get(page(compliance))
    assert response.status_code == 302


@pytest.mark.parametrize("persona", ["observer", "member", "auditor"])
def test_a_decision_page_lists_every_rule_checked(
    compliance: Compliance, browser_as: Browser, persona: str
) -> None:
    c = compliance
    decision = _decided(c, sites=[c.grid.frankfurt], movement="data_to_compute")
    response = browser_as(getattr(c.grid.world, persona)).get(
        reverse("compute:compliance-decision", args=[decision.pk])
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Every rule checked" in text
    assert "Passed" in text
    assert "Failed" in text
    for check in decision.explain:
        assert check["rule"] in text
    assert decision.rules_digest in text
    assert f'href="/agreement-versions/{c.clause.version_id}/"' in text


def test_the_consortium_page_links_to_compliance(
    compliance: Compliance, browser_as: Browser
) -> None:
    c = compliance
    response = browser_as(c.grid.world.member).get(
        reverse("consortia:detail", args=[c.grid.world.consortium_a.pk])
    )
    assert page(c) in response.content.decode()
