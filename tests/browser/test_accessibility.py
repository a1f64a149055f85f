"""WCAG 2.2 AA on the main pages, checked by axe-core in a real browser: a serious or
critical violation fails the test. The same visit takes the README's screenshots when
ALLIANCE_SCREENSHOTS=1."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import pytest
from django.utils import timezone

from tests.browser.axe import blocking_violations
from tests.browser.conftest import CHROMIUM, Watched
from tests.browser.screenshots import capture
from tests.conftest import World

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


@dataclass(frozen=True)
class Screen:
    name: str  # also the screenshot's file name
    url: str
    ready: str  # a selector that shows the page has its content


def busy_consortium(world: World) -> list[Screen]:
    """Consortium A with something on every page: an open motion, an agreement out for
    signature, a GPU pool with a reservation, and the activity they leave behind."""
    from compute import allocations
    from consortia.governance import services as governance
    from tests.agreements.conftest import make_deal
    from tests.agreements.signing_helpers import send_for_signature
    from tests.compute.conftest import make_grid, request_gpus

    motion = governance.motion_propose(
        actor=world.chair,
        consortium=world.consortium_a,
        kind="general",
        title="Adopt the security baseline",
        closes_at=timezone.now() + datetime.timedelta(days=3),
        rule="simple_majority",
    )
    deal = make_deal(world)
    send_for_signature(deal)
    grid = make_grid(world)
    request = request_gpus(grid, in_days=2)
    allocations.request_decide(actor=grid.board_chair_org, request=request, decision="approve")
    consortium = world.consortium_a.pk
    return [
        Screen("home", "/", "h1:has-text('Waiting on you')"),
        Screen("consortia", "/consortia/", "h1"),
        Screen("consortium", f"/consortia/{consortium}/", "h1:has-text('Consortium A')"),
        # The same page scrolled to its charts: agreements by status, capacity, fair share.
        Screen("dashboard", f"/consortia/{consortium}/#agreements-heading", "#agreements-heading"),
        Screen("motion", f"/motions/{motion.pk}/", "#vote-heading"),
        Screen("agreement", f"/agreements/{deal.agreement.pk}/", "#parties-heading"),
        Screen("compute-pool", f"/compute/pools/{grid.pool.pk}/", "#timeline svg"),
        Screen("activity", f"/consortia/{consortium}/activity/", "#results"),
        Screen("inbox", "/inbox/", "h1"),
        Screen("organisation", f"/organisations/{world.org_chair.pk}/", "h1"),
    ]


def test_the_main_pages_meet_wcag_aa(watched: Watched, world: World) -> None:
    screens = busy_consortium(world)
    page = watched.page
    found: dict[str, list[str]] = {}

    page.goto("/accounts/login/")
    found["login"] = blocking_violations(page, watched.base_url)
    capture(page, "login")
    page.fill("#id_username", "chair")
    page.fill("#id_password", "not the password")
    page.click("button[type=submit]")
    page.wait_for_selector(".errorlist, [role=alert]")
    found["login with an error"] = blocking_violations(page, watched.base_url)

    watched.sign_in("chair")
    for screen in screens:
        page.goto(screen.url)
        page.wait_for_selector(screen.ready)
        found[screen.name] = blocking_violations(page, watched.base_url)
        capture(page, screen.name)

    assert {name: lines for name, lines in found.items() if lines} == {}


def test_the_keyboard_reaches_the_content_first_with_a_visible_focus(
    watched: Watched, world: World
) -> None:
    page = watched.page
    watched.sign_in("chair")
    page.goto(f"/consortia/{world.consortium_a.pk}/")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip-link"
    skip_link = page.locator(".skip-link").bounding_box()
    assert skip_link is not None
    assert skip_link["x"] >= 0
    assert skip_link["y"] >= 0, "the focused skip link is on screen"

    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "content"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('main') !== null"), (
        "the next Tab after the skip link lands in the content, past the navigation"
    )
    ring = page.evaluate(
        "() => { const style = getComputedStyle(document.activeElement);"
        " return [style.outlineStyle, style.boxShadow]; }"
    )
    assert ring[0] == "solid"
    assert ring[1] != "none"


def test_the_navigation_marks_one_current_page(watched: Watched, world: World) -> None:
    from tests.agreements.conftest import make_deal

    deal = make_deal(world)
    page = watched.page
    watched.sign_in("chair")
    for url, current in (
        (f"/consortia/{world.consortium_a.pk}/", "Consortia"),
        (f"/agreements/{deal.agreement.pk}/", "Agreements"),
    ):
        page.goto(url)
        marked = page.locator("header.site [aria-current=page]").all_inner_texts()
        assert marked == [current], url
