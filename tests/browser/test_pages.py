"""The pages in a real browser (Debian's headless Chromium driven by Playwright): they work,
without JavaScript errors, with every asset served by the app itself."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.conftest import World

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]
# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
# beside one unless told that this is deliberate (the live server has its own thread).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


class Watched:
    """A page that records JavaScript errors and every request that leaves the app."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.failed: list[str] = []
        self.context = browser.new_context(base_url=base_url)
        self.page = self.context.new_page()
        host = urlparse(base_url).netloc
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )
        self.page.on(
            "response",
            lambda response: (
                self.failed.append(f"{response.status} {response.url}")
                if response.status >= 400
                else None
            ),
        )

        def route(route: Any) -> None:
            if urlparse(route.request.url).netloc != host:
                self.outside.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        self.page.route("**/*", route)

    def sign_in(self, username: str) -> None:
        self.page.goto("/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", "password")
        self.page.click("button[type=submit]")
        self.page.wait_for_url("**/consortia/")


@pytest.fixture
def watched(chromium: Any, live_server: Any, committed_db: None) -> Iterator[Watched]:
    watcher = Watched(chromium, live_server.url)
    yield watcher
    watcher.context.close()
    assert watcher.errors == [], "JavaScript errors on the page"
    assert watcher.outside == [], "the page reached outside the deployment"


def test_chair_invites_an_organisation_with_htmx(watched: Watched, world: World) -> None:
    page = watched.page
    watched.sign_in("chair")
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
