"""The decision log's own page: every decision of a consortium, newest first, filtered by
outcome and paged (the compliance page shows the latest only)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from compute.compliance.models import Decision
from consortia.models import User
from tests.compute.compliance.conftest import Compliance
from tests.compute.compliance.test_pages import _decided

Browser = Callable[[User | None], Client]


@pytest.fixture
def decided(compliance: Compliance) -> tuple[Decision, Decision]:
    """One job the engine denies (data copied to Frankfurt), then one it allows."""
    c = compliance
    denied = _decided(c, sites=[c.grid.frankfurt], movement="data_to_compute")
    allowed = _decided(c)
    assert (denied.outcome, allowed.outcome) == ("deny", "allow_with_obligations")
    return denied, allowed


def page(c: Compliance, query: str = "") -> str:
    return reverse("compute:compliance-decisions", args=[c.grid.world.consortium_a.pk]) + query


def linked(text: str, decision: Decision) -> bool:
    return f'href="/compute/compliance/decisions/{decision.pk}/"' in text


def test_every_reader_reads_the_whole_log_newest_first(
    compliance: Compliance, decided: tuple[Decision, Decision], browser_as: Browser
) -> None:
    denied, allowed = decided
    response = browser_as(compliance.grid.world.observer).get(page(compliance))
    assert response.status_code == 200
    text = response.content.decode()
    assert "2 decisions" in text
    assert text.index(f"/decisions/{allowed.pk}/") < text.index(f"/decisions/{denied.pk}/")
    assert "MOVEMENT_NOT_PERMITTED" in text
    compliance_page = browser_as(compliance.grid.world.observer).get(
        reverse("compute:compliance", args=[compliance.grid.world.consortium_a.pk])
    )
    assert page(compliance) in compliance_page.content.decode()


@pytest.mark.parametrize(
    ("outcome", "shown"), [("deny", [True, False]), ("allow_with_obligations", [False, True])]
)
def test_the_outcome_filter_narrows_the_log(
    compliance: Compliance,
    decided: tuple[Decision, Decision],
    browser_as: Browser,
    outcome: str,
    shown: list[bool],
) -> None:
    response = browser_as(compliance.grid.technician).get(page(compliance, f"?outcome={outcome}"))
    assert response.status_code == 200
    assert [linked(response.content.decode(), decision) for decision in decided] == shown


def test_an_outcome_that_does_not_exist_is_a_400_that_says_so(
    compliance: Compliance, decided: tuple[Decision, Decision], browser_as: Browser
) -> None:
    response = browser_as(compliance.grid.technician).get(page(compliance, "?outcome=maybe"))
    assert response.status_code == 400
    assert "Select a valid choice. maybe is not one of the available choices." in (
        response.content.decode()
    )


def test_the_log_is_paged_and_htmx_gets_the_results_alone(
    compliance: Compliance,
    decided: tuple[Decision, Decision],
    browser_as: Browser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from compute import compliance_selectors

    monkeypatch.setattr(compliance_selectors, "LOG_PAGE", 1)
    denied, allowed = decided
    reader = browser_as(compliance.grid.world.member)
    first = reader.get(page(compliance), HTTP_HX_REQUEST="true").content.decode()
    assert first.lstrip().startswith('<div id="results">')
    assert "Page 1 of 2" in first
    assert linked(first, allowed)
    assert not linked(first, denied)
    second = reader.get(page(compliance, "?page=2")).content.decode()
    assert linked(second, denied)
