"""Whole journeys in a real browser, each through the forms a person uses: legal takes an
agreement from the clause library to an executed, verifiable PDF; an auditor filters the
activity feed and exports it. (Voting and the capacity board are in test_pages.py.)"""

from __future__ import annotations

import csv
import io
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM, Watched
from tests.conftest import World

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


def _legal_teams(world: World) -> None:
    from consortia.models import Role
    from tests.consortia.factories import RoleAssignmentFactory, UserFactory

    for username, organisation in (("legal_a", world.org_chair), ("legal_b", world.org_member)):
        lawyer = UserFactory.create(username=username, organisation=organisation)
        RoleAssignmentFactory.create(consortium=world.consortium_a, user=lawyer, role=Role.LEGAL)


def _as(watched: Watched, username: str) -> Any:
    watched.page.context.clear_cookies()
    watched.sign_in(username)
    return watched.page


def test_legal_drafts_from_the_library_to_an_executed_pdf_that_verifies(
    watched: Watched, world: World, tmp_path: Any
) -> None:
    from agreements.pdfsign.verify import verify

    _legal_teams(world)
    page = _as(watched, "legal_a")
    page.goto(f"/consortia/{world.consortium_a.pk}/")
    page.click("text=Start an agreement")
    page.fill("#id_title", "Model co-development agreement")
    page.select_option("#id_kind", "joint_development")
    page.select_option("#id_governing_law", "DE")
    page.click("main button:has-text('Start the agreement')")
    page.wait_for_selector("text=The agreement is started")
    agreement_url = page.url
    for organisation, role, signatory in (
        (world.org_chair, "licensor", world.chair),
        (world.org_member, "licensee", world.member),
    ):
        page.select_option("#id_organisation", str(organisation.pk))
        page.select_option("#id_role", role)
        page.select_option("#id_signatory", str(signatory.pk))
        page.click("form[action$='/parties/'] button[type=submit]")
        page.wait_for_selector(f"#parties-heading + table td:has-text('{organisation.name}')")

    page.click("text=Edit the draft")
    for template in ("jdc-joint-ownership", "confidentiality"):
        page.select_option("#id_template", template)
        page.click("form:has(#id_template) button[type=submit]")
        page.wait_for_selector("text=Clause inserted from the library.")
    assert page.locator("article.clause").count() == 2

    page.goto(agreement_url)
    page.click("main button:has-text('Freeze for review')")
    page.wait_for_selector("text=The version is frozen for review.")
    page.click("main button:has-text('Approve for Chair Org')")
    page.wait_for_selector("text=Approval recorded.")
    page = _as(watched, "legal_b")
    page.goto(agreement_url)
    page.click("main button:has-text('Approve for Member Org')")
    page.wait_for_selector("text=Approval recorded.")

    page = _as(watched, "chair")
    page.goto(agreement_url)
    page.click("main button:has-text('Send for signature')")
    page.wait_for_selector("text=Sent for signature.")
    for username in ("chair", "member"):
        page = _as(watched, username)
        page.goto(agreement_url)
        page.click("text=Sign or decline")
        page.check("#id_consent")
        page.fill("#id_password", "password")
        page.click("main button:has-text('Sign')")
        page.wait_for_selector("text=Your signature is recorded.")

    page.goto(agreement_url)
    page.wait_for_selector("text=Executed PDF sealed")
    with page.expect_download() as download:
        page.click("main a.button:has-text('PDF')")
    pdf = tmp_path / "executed.pdf"
    download.value.save_as(pdf)
    # pyHanko validates in asyncio.run(), which cannot start inside Playwright's own loop.
    with ThreadPoolExecutor(max_workers=1) as executor:
        verdict = executor.submit(verify, pdf.read_bytes()).result()
    assert verdict.valid, verdict.summary
    assert all(signature.intact and signature.valid for signature in verdict.signatures)
    assert verdict.signatures


def test_an_auditor_filters_the_activity_and_exports_what_is_on_screen(
    watched: Watched, world: World
) -> None:
    from consortia import services

    services.consortium_update(actor=world.chair, consortium=world.consortium_a, charter="Amended")
    page = _as(watched, "auditor")
    page.goto(f"/consortia/{world.consortium_a.pk}/activity/")
    page.wait_for_selector("h1:has-text('Activity')")
    page.select_option("#id_action", "update")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**action=update**")
    page.wait_for_selector("#export-scope button:has-text('Export filtered events')")
    shown = page.locator("#event-rows tr").all_inner_texts()
    assert shown
    assert all("Update" in row or "update" in row for row in shown), shown

    page.select_option("#export-format", "csv")
    page.click("#export-scope button[type=submit]")
    page.wait_for_selector("text=The export is being prepared")
    page.wait_for_selector("#export-status a:has-text('Download')")
    with page.expect_download() as download:
        page.click("#export-status a:has-text('Download')")
    content = download.value.path().read_text()
    assert '# filters: {"action": "update"}' in content
    rows = list(
        csv.DictReader(
            io.StringIO("\n".join(line for line in content.splitlines() if line[:1] != "#"))
        )
    )
    assert rows
    assert {row["action"] for row in rows} == {"update"}
