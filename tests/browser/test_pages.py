"""The pages in a real browser (Debian's headless Chromium driven by Playwright): they work,
without JavaScript errors, with every asset served by the app itself."""

from __future__ import annotations

import os
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


def test_chair_invites_an_organisation_with_htmx(watched: Watched, world: World) -> None:
    page = watched.page
    watched.sign_in("chair")
    page.goto("/consortia/")
    page.click("text=Consortium A")
    page.wait_for_selector("h1:has-text('Consortium A')")
    assert page.is_visible("text=IP disputes and slow decision-making.")
    page.fill("#id_organisation", "Candidate Org")
    page.click("form[action$='/members/invite/'] button[type=submit]")
    page.wait_for_selector("#people .messages li.success")
    assert "Candidate Org is invited" in page.inner_text("#people .messages")
    assert page.url.endswith(f"/consortia/{world.consortium_a.pk}/"), (
        "htmx swapped the section in place"
    )
    assert watched.failed == []


def test_observer_reads_without_forms_and_activity_pages(watched: Watched, world: World) -> None:
    page = watched.page
    watched.sign_in("observer")
    page.goto(f"/consortia/{world.consortium_a.pk}/")
    assert page.locator("form[action$='/members/invite/']").count() == 0
    page.click("text=All activity")
    page.wait_for_selector("h1:has-text('Activity')")
    page.select_option("#id_action", "assign")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("#results")
    page.goto("/api/v1/docs/")
    page.wait_for_selector(".swagger-ui", timeout=15_000)
    assert watched.failed == []


def test_every_static_asset_comes_from_the_app(watched: Watched, world: World) -> None:
    page = watched.page
    loaded: list[str] = []
    page.on("requestfinished", lambda request: loaded.append(request.url))
    watched.sign_in("chair")
    page.goto(f"/consortia/{world.consortium_a.pk}/")
    assets = [url for url in loaded if "/static/" in url]
    assert any(url.endswith("htmx.min.js") for url in assets)
    assert any(url.endswith("alliance.css") for url in assets)


def test_legal_drafting_and_the_redline(watched: Watched, world: World) -> None:
    from agreements import services
    from tests.agreements.conftest import make_deal

    deal = make_deal(world)
    services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    second = services.version_new(actor=deal.legal_chair_org, agreement=deal.agreement)
    page = watched.page
    watched.sign_in("legal_a")
    page.goto(f"/agreement-versions/{second.pk}/")
    page.select_option("#id_template", "confidentiality")
    page.click("form:has(#id_template) button[type=submit]")
    page.wait_for_selector("text=Clause inserted from the library.")
    page.goto(f"/agreements/{deal.agreement.pk}/")
    page.click("text=Changes since version 1")
    page.wait_for_selector("h1:has-text('Changes from version 1 to 2')")
    assert page.locator("article.redline.added").count() == 1
    assert watched.failed == []


def test_data_steward_registers_a_dataset_and_sets_usage_terms(
    watched: Watched, world: World
) -> None:
    from tests.agreements.test_terms_and_odrl import data_deal

    _, dataset, clause = data_deal(world)
    page = watched.page
    watched.sign_in("legal_a")
    page.goto("/datasets/")
    page.click("text=Register a data set")
    page.select_option("#id_consortium", str(world.consortium_a.pk))
    page.fill("#id_name", "Pathology slides")
    page.select_option("#id_sensitivity", "confidential")
    page.select_option("#id_residency", "FR")
    page.click("main button[type=submit]")
    page.wait_for_selector("h1:has-text('Pathology slides')")

    page.goto(f"/agreement-versions/{clause.version_id}/")
    page.click(f"#clause-{clause.pk} summary:has-text('Usage terms')")
    prefix = f"#id_terms-{clause.pk}"
    page.uncheck(f"{prefix}-purposes input[value='research_and_development']")
    page.check(f"{prefix}-datasets input[value='{dataset.pk}']")
    page.check(f"{prefix}-purposes input[value='academic_research']")
    page.check(f"{prefix}-actions_allowed input[value='evaluate']")
    page.fill(f"{prefix}-jurisdictions", "FR")
    page.select_option(f"{prefix}-movement", "federated_only")
    page.click("text=Save the terms")
    page.wait_for_selector("text=Usage terms saved.")
    terms = page.locator(f"#clause-{clause.pk} dl.terms").inner_text()
    assert "Radiology images 2020-2025" in terms
    assert "academic research" in terms
    page.goto("/ip-assets/")
    page.wait_for_selector("h1")
    assert watched.failed == []


def test_signatories_sign_in_the_browser_and_the_pdf_verifies(
    watched: Watched, world: World, tmp_path: Any
) -> None:
    from tests.agreements.conftest import make_deal
    from tests.agreements.signing_helpers import send_for_signature

    deal = make_deal(world)
    version = send_for_signature(deal)
    page = watched.page
    for username in ("chair", "member"):
        watched.sign_in(username)
        page.goto(f"/agreements/{deal.agreement.pk}/")
        page.click("text=Sign or decline")
        page.check("#id_consent")
        page.fill("#id_password", "password")
        page.click("main button:has-text('Sign')")
        page.wait_for_selector("text=Your signature is recorded.")
        page.context.clear_cookies()
    watched.sign_in("chair")
    page.goto(f"/agreements/{deal.agreement.pk}/")
    page.wait_for_selector("text=Executed PDF sealed")
    with page.expect_download() as download:
        page.click("text=PDF")
    pdf = tmp_path / "executed.pdf"
    download.value.save_as(pdf)
    page.goto("/agreements/verify/")
    page.set_input_files("#id_document", str(pdf))
    page.click("main button:has-text('Verify')")
    page.wait_for_selector("h2:has-text('Valid')")
    assert f"version {version.number}" in page.locator(".verdict").inner_text()
    assert watched.failed == []


def test_a_committee_member_votes_in_a_minute(watched: Watched, world: World) -> None:
    import datetime

    from django.utils import timezone

    from consortia.governance import services

    motion = services.motion_propose(
        actor=world.chair,
        consortium=world.consortium_a,
        kind="general",
        title="Adopt the security baseline",
        closes_at=timezone.now() + datetime.timedelta(days=3),
        rule="unanimity",
    )
    page = watched.page
    watched.sign_in("member")
    page.goto(f"/consortia/{world.consortium_a.pk}/")
    page.click(f"text=Motion {motion.number}: {motion.title}")
    page.check("input[name=choice][value=for]")
    page.click("main button:has-text('Vote')")
    page.wait_for_selector("text=Your vote is recorded")
    assert "For 1" in page.locator("ol.steps").inner_text()
    # Changed minds are allowed until the close: the form starts from the standing vote.
    assert page.is_checked("input[name=choice][value=for]")
    page.check("input[name=choice][value=abstain]")
    page.click("main button:has-text('Change the vote')")
    page.wait_for_selector("ul.standing-votes:has-text('Member Org votes abstain')")
    assert "changed later" in page.locator("#ballots-heading + table").inner_text()


def test_the_capacity_board_approves_and_the_timeline_shows_it(
    watched: Watched, world: World
) -> None:
    from tests.compute.conftest import make_grid, request_gpus

    grid = make_grid(world)
    request = request_gpus(grid)
    page = watched.page
    watched.sign_in("board_c")
    page.goto(f"/compute/pools/{grid.pool.pk}/")
    assert page.locator("#timeline svg g.timeline-row").count() == 0
    page.goto(f"/compute/requests/{request.pk}/")
    page.check("input[name=decision][value=approve]")
    page.click("main button:has-text('Record the decision')")
    page.wait_for_selector("text=Approved")
    page.goto(f"/compute/pools/{grid.pool.pk}/")
    assert page.locator("#timeline svg g.timeline-row").count() == 1
    assert "Request 1" in page.locator("#reservations").inner_text()
    assert watched.failed == []
