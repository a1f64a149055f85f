"""The compliance page in a real browser: a technical member checks a job with the "what if"
form, follows a reason to the clause it rests on and the decision to every rule checked,
handles the sweep's finding and finds it, with its notes, among the resolved ones; the pages
(the compliance page, the findings and the decision log, filtered in place) meet WCAG 2.2 AA
and the first takes the README's screenshot."""

from __future__ import annotations

import os

import pytest

from compute.compliance import sweeps
from compute.compliance.models import Decision, Finding
from tests.browser.axe import blocking_violations
from tests.browser.conftest import CHROMIUM, Watched
from tests.browser.screenshots import capture
from tests.compute.compliance.conftest import Compliance
from tests.compute.compliance.test_sweeps import NOW, live_job

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


def with_a_finding(c: Compliance) -> Finding:
    """A running job that copies raw data the clause forbids copying, swept once."""
    job = live_job(c, name="Raw image export", action="copy_raw")
    sweeps.sweep_consortium(job.consortium_id, NOW)
    return Finding.objects.get(job=job)


def fill_a_job_moving_data_to_frankfurt(watched: Watched, c: Compliance) -> None:
    """The job of the page's what-if: the FR data set copied to Frankfurt for training."""
    page = watched.page
    page.fill("#whatif-name", "Train at Frankfurt")
    page.check(f"#whatif-datasets input[value='{c.dataset.pk}']")
    page.check(f"#whatif-sites input[value='{c.grid.frankfurt.pk}']")
    page.select_option("#whatif-purpose", "research_and_development")
    page.select_option("#whatif-action", "train")
    page.select_option("#whatif-movement", "data_to_compute")
    page.select_option("#whatif-output_jurisdiction", "FR")
    page.fill("#whatif-starts_at", "2026-06-01T00:00")
    page.fill("#whatif-ends_at", "2026-06-10T00:00")
    page.fill("#whatif-at", "2026-06-01T00:00")


def handle(watched: Watched, finding: Finding, button: str, note: str) -> None:
    """Acknowledge or resolve the finding from its row, with a note, and wait for the word."""
    row = watched.page.locator(f"#findings tr:has(#note-{finding.pk})")
    row.locator(f"#note-{finding.pk}").fill(note)
    row.locator(f"button:has-text('{button}')").click()
    done = "acknowledged" if button == "Acknowledge" else "resolved"
    watched.page.wait_for_selector(f".messages li:has-text('Finding {finding.pk} is {done}.')")


def test_a_technician_checks_a_job_and_handles_a_finding(
    watched: Watched, compliance: Compliance
) -> None:
    c = compliance
    finding = with_a_finding(c)
    page = watched.page
    watched.sign_in(c.grid.technician.username)

    page.goto(f"/consortia/{c.grid.world.consortium_a.pk}/")
    page.click("a:has-text('Findings and the decision log')")
    page.wait_for_selector("h1:has-text('Compliance')")
    assert "ACTION_NOT_PERMITTED" in page.inner_text("#findings")

    fill_a_job_moving_data_to_frankfurt(watched, c)
    page.click("button:has-text('Check the job')")
    page.wait_for_selector("#result")
    decision = Decision.objects.latest("pk")
    assert decision.outcome == Decision.Outcome.DENY
    assert decision.job is None, "a what-if stores no job"
    result = page.inner_text("#result")
    assert "Deny" in result
    for reason in decision.reasons:
        assert reason["code"] in result
    assert page.input_value("#whatif-name") == "Train at Frankfurt", "the form keeps the job"
    assert page.url.endswith("#what-if")
    top = page.evaluate("() => document.getElementById('result').getBoundingClientRect().top")
    assert 0 <= top < page.viewport_size["height"] / 2, "the answer is in view, not above it"

    page.click(f"#result a:has-text('Decision {decision.pk}: every rule checked')")
    page.wait_for_selector("h2:has-text('Every rule checked')")
    assert page.locator("td .badge.rejected").count() == sum(
        1 for check in decision.explain if not check["passed"]
    )
    page.locator("ol.reasons a[href^='/agreement-versions/']").first.click()
    page.wait_for_url(f"**/agreement-versions/{c.clause.version_id}/")

    page.go_back()
    page.wait_for_selector("h2:has-text('Every rule checked')")
    page.click("main p.muted a[href$='/compliance/']")
    page.wait_for_selector("h2:has-text('Decision log')")
    assert page.locator(f"a[href='/compute/compliance/decisions/{decision.pk}/']").count() == 1
    handle(watched, finding, "Acknowledge", "Export paused while legal looks")
    assert Finding.objects.get(pk=finding.pk).status == Finding.Status.ACKNOWLEDGED
    handle(watched, finding, "Resolve", "The export job was cancelled")
    assert Finding.objects.get(pk=finding.pk).status == Finding.Status.RESOLVED
    assert "No open finding." in page.inner_text("#findings")

    # The resolved finding, with its notes, is on the findings page.
    page.click("a:has-text('All findings, resolved ones too')")
    # htmx binds the filters when the document is ready: a change before that is lost.
    page.wait_for_load_state()
    page.wait_for_selector("h1:has-text('Findings')")
    page.select_option("#id_status", "resolved")
    page.wait_for_url("**status=resolved**")
    page.wait_for_selector("#results td:has-text('Raw image export')")
    handled = page.inner_text("#results")
    assert "Export paused while legal looks" in handled
    assert "The export job was cancelled" in handled


def test_the_compliance_page_meets_wcag_aa(watched: Watched, compliance: Compliance) -> None:
    c = compliance
    with_a_finding(c)
    page = watched.page
    watched.sign_in(c.grid.technician.username)
    page.goto(f"/compute/consortia/{c.grid.world.consortium_a.pk}/compliance/")
    fill_a_job_moving_data_to_frankfurt(watched, c)
    page.click("button:has-text('Check the job')")
    page.wait_for_selector("#result")
    assert blocking_violations(page, watched.base_url) == []
    capture(page, "compliance")
    page.goto(f"/compute/consortia/{c.grid.world.consortium_a.pk}/compliance/findings/")
    page.wait_for_selector("#results td:has-text('Raw image export')")
    assert blocking_violations(page, watched.base_url) == []
    page.goto(f"/compute/consortia/{c.grid.world.consortium_a.pk}/compliance/decisions/")
    page.select_option("#id_outcome", "deny")
    page.wait_for_url("**outcome=deny**")
    page.wait_for_selector("#results code:has-text('MOVEMENT_NOT_PERMITTED')")
    assert blocking_violations(page, watched.base_url) == []
