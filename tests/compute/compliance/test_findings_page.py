"""The findings page: every finding of a consortium, resolved ones too, filtered and paged,
with who handled each and their notes; handling one there comes back to the same view. (Who
may open it and the decision log's page is at the end.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.formats import date_format

from compute.compliance import sweeps
from compute.compliance.models import Finding
from consortia.models import User
from tests.compute.compliance.conftest import Compliance
from tests.compute.compliance.test_sweeps import NOW, live_job

Browser = Callable[[User | None], Client]


@pytest.fixture
def two_findings(compliance: Compliance) -> tuple[Finding, Finding]:
    """Two jobs copying raw data the clause forbids copying; the first finding resolved."""
    jobs = [live_job(compliance, name=name, action="copy_raw") for name in ("Old run", "New run")]
    sweeps.sweep_consortium(jobs[0].consortium_id, NOW)
    old, new = (Finding.objects.get(job=job) for job in jobs)
    sweeps.finding_acknowledge(actor=compliance.grid.technician, finding=old, note="Looking")
    sweeps.finding_resolve(actor=compliance.grid.technician, finding=old, note="Run stopped")
    return Finding.objects.get(pk=old.pk), new


def page(c: Compliance, query: str = "") -> str:
    return reverse("compute:compliance-findings", args=[c.grid.world.consortium_a.pk]) + query


def test_every_finding_is_listed_with_its_notes(
    compliance: Compliance, two_findings: tuple[Finding, Finding], browser_as: Browser
) -> None:
    resolved, _ = two_findings
    response = browser_as(compliance.grid.world.observer).get(page(compliance))
    assert response.status_code == 200
    text = response.content.decode()
    assert "2 findings" in text
    assert "Job: Old run" in text
    assert "Job: New run" in text
    assert "Looking<br>Run stopped" in text
    assert resolved.resolved_at is not None
    assert f"Resolved {date_format(resolved.resolved_at, 'j M Y H:i')}" in text
    assert 'name="note"' not in text, "a read-only role gets no handling form"
    compliance_page = browser_as(compliance.grid.world.observer).get(
        reverse("compute:compliance", args=[compliance.grid.world.consortium_a.pk])
    )
    assert page(compliance) in compliance_page.content.decode()


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("?status=resolved", ["Old run"]),
        ("?status=open", ["New run"]),
        ("?code=ACTION_NOT_PERMITTED", ["New run", "Old run"]),
        ("?code=DATA_RESIDENCY_VIOLATION", []),
    ],
)
def test_filters_narrow_the_list(
    compliance: Compliance,
    two_findings: tuple[Finding, Finding],
    browser_as: Browser,
    query: str,
    shown: list[str],
) -> None:
    response = browser_as(compliance.grid.technician).get(page(compliance, query))
    assert response.status_code == 200
    text = response.content.decode()
    assert [name for name in ("New run", "Old run") if f"Job: {name}" in text] == shown


def test_htmx_gets_the_results_alone(
    compliance: Compliance, two_findings: tuple[Finding, Finding], browser_as: Browser
) -> None:
    response = browser_as(compliance.grid.technician).get(
        page(compliance, "?status=open"), HTTP_HX_REQUEST="true"
    )
    text = response.content.decode()
    assert text.lstrip().startswith('<div id="results">')
    assert "<h1>" not in text
    assert response["Vary"].count("HX-Request") == 1


def test_a_choice_that_does_not_exist_is_a_400_that_says_so(
    compliance: Compliance, two_findings: tuple[Finding, Finding], browser_as: Browser
) -> None:
    response = browser_as(compliance.grid.technician).get(page(compliance, "?status=closed"))
    assert response.status_code == 400
    text = response.content.decode()
    assert "Select a valid choice. closed is not one of the available choices." in text
    assert "0 findings" in text


def test_a_bad_filter_the_form_does_not_show_is_named_too(
    compliance: Compliance, two_findings: tuple[Finding, Finding], browser_as: Browser
) -> None:
    response = browser_as(compliance.grid.technician).get(page(compliance, "?job=first"))
    assert response.status_code == 400
    assert "job: Enter a whole number." in response.content.decode()


def test_handling_a_finding_here_comes_back_here(
    compliance: Compliance, two_findings: tuple[Finding, Finding], browser_as: Browser
) -> None:
    _, open_ = two_findings
    here = page(compliance, "?status=open")
    technician = browser_as(compliance.grid.technician)
    assert 'name="note"' in technician.get(here).content.decode()
    response = technician.post(
        reverse("compute:compliance-finding", args=[open_.pk, "acknowledge"]),
        {"note": "On it", "next": here},
    )
    assert response.status_code == 302
    assert response["Location"] == here
    open_.refresh_from_db()
    assert open_.status == Finding.Status.ACKNOWLEDGED


def test_a_next_address_elsewhere_is_not_followed(
    compliance: Compliance, two_findings: tuple[Finding, Finding], browser_as: Browser
) -> None:
    _, open_ = two_findings
    response = browser_as(compliance.grid.technician).post(
        reverse("compute:compliance-finding", args=[open_.pk, "acknowledge"]),
        {"note": "On it", "next": "https://elsewhere.example/phish"},
    )
    assert response["Location"] == (
        reverse("compute:compliance", args=[compliance.grid.world.consortium_a.pk]) + "#findings"
    )


def test_the_list_is_paged(
    compliance: Compliance, browser_as: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compute import compliance_selectors

    monkeypatch.setattr(compliance_selectors, "FINDINGS_PAGE", 1)
    for name in ("First", "Second"):
        live_job(compliance, name=name, action="copy_raw")
    sweeps.sweep_consortium(compliance.grid.world.consortium_a.pk, NOW)
    technician = browser_as(compliance.grid.technician)
    first = technician.get(page(compliance, "?status=open")).content.decode()
    assert "Page 1 of 2" in first
    assert "status=open&amp;page=2" in first
    second = technician.get(page(compliance, "?status=open&page=2")).content.decode()
    assert "Page 2 of 2" in second


LISTS = ["compute:compliance-findings", "compute:compliance-decisions"]


@pytest.mark.parametrize("name", LISTS)
def test_outside_the_consortium_the_lists_are_404(
    compliance: Compliance, two_findings: tuple[Finding, Finding], browser_as: Browser, name: str
) -> None:
    url = reverse(name, args=[compliance.grid.world.consortium_a.pk])
    assert browser_as(compliance.grid.world.outsider).get(url).status_code == 404


@pytest.mark.parametrize("name", LISTS)
def test_anonymous_visitors_are_sent_to_sign_in(
    compliance: Compliance, browser_as: Any, name: str
) -> None:
    response = browser_as(None).get(reverse(name, args=[compliance.grid.world.consortium_a.pk]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_page_reads_as_many_queries_for_many_findings_as_for_one(
    compliance: Compliance, browser_as: Browser
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    technician = browser_as(compliance.grid.technician)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert technician.get(page(compliance)).status_code == 200
        return len(captured)

    live_job(compliance, name="Run 0", action="copy_raw")
    sweeps.sweep_consortium(compliance.grid.world.consortium_a.pk, NOW)
    one = queries()
    for number in range(1, 6):
        live_job(compliance, name=f"Run {number}", action="copy_raw")
    sweeps.sweep_consortium(compliance.grid.world.consortium_a.pk, NOW)
    for finding in Finding.objects.all()[:3]:
        sweeps.finding_acknowledge(actor=compliance.grid.technician, finding=finding, note="On it")
    assert Finding.objects.count() == 6
    assert queries() == one
