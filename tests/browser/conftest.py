"""A real browser for the page tests: Debian's headless Chromium, driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.compute.compliance.conftest import compliance, transfer_bases  # noqa: F401 - fixtures
from tests.compute.conftest import grid  # noqa: F401 - a fixture, used by name

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
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


# The size of the committed screenshots (docs/screenshots/): a laptop screen, small PNGs.
VIEWPORT = {"width": 1280, "height": 800}


class Watched:
    """A page that records JavaScript errors, failed requests (4xx/5xx) and every request
    that leaves the app; the ``watched`` fixture fails the test on any of them."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.base_url = base_url
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.failed: list[str] = []
        self.context = browser.new_context(base_url=base_url, viewport=VIEWPORT)
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
        # Wherever the sign-in lands (the next page or the home page), it is no longer the form.
        self.page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.fixture
def watched(chromium: Any, live_server: Any, committed_db: None) -> Iterator[Watched]:
    watcher = Watched(chromium, live_server.url)
    yield watcher
    watcher.context.close()
    assert watcher.errors == [], "JavaScript errors on the page"
    assert watcher.failed == [], "requests that failed"
    assert watcher.outside == [], "the page reached outside the deployment"
