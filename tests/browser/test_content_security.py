"""The content security policy in a real browser: it refuses what an injection would add
(an inline <script> or <style>), and the pages that could have needed inline code work under
it without a single refusal (the ``watched`` fixture fails on any console error, and
Chromium reports each refusal there)."""

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

INJECT = """() => new Promise(resolve => {
  const refused = [];
  document.addEventListener('securitypolicyviolation', event => {
    refused.push(event.effectiveDirective);
    if (refused.length === 2) resolve(refused);
  });
  const style = document.createElement('style');
  style.textContent = 'body { display: none }';
  document.head.append(style);
  const script = document.createElement('script');
  script.textContent = 'window.injected = true';
  document.head.append(script);
})"""


def test_injected_inline_script_and_style_are_refused(watched: Watched, world: World) -> None:
    page = watched.page
    watched.sign_in("chair")
    page.goto(f"/consortia/{world.consortium_a.pk}/")
    assert sorted(page.evaluate(INJECT)) == ["script-src-elem", "style-src-elem"]
    assert page.evaluate("() => window.injected") is None
    assert page.is_visible("h1")
    # The two refusals this test provoked are the only console errors allowed.
    provoked = [error for error in watched.errors if "Content Security Policy" in error]
    assert len(provoked) == 2, watched.errors
    watched.errors = [error for error in watched.errors if error not in provoked]


def test_charts_take_their_look_from_the_stylesheet(watched: Watched, world: World) -> None:
    from tests.compute.conftest import make_grid

    grid = make_grid(world)
    page = watched.page
    watched.sign_in("board_c")
    page.goto(f"/compute/pools/{grid.pool.pk}/")
    dashes: Any = page.evaluate(
        "() => getComputedStyle(document.querySelector("
        "'.pygal-chart .line-graph .series.serie-1')).strokeDasharray"
    )
    assert dashes == "9px, 5px", "the reserved line is dashed by css/charts.css"


def test_the_api_documentation_pages_work_under_the_policy(watched: Watched, world: World) -> None:
    page = watched.page
    watched.sign_in("chair")
    page.goto("/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=20_000)
    page.goto("/api/v1/redoc/")
    # ReDoc lays out the whole schema before it shows anything: slow on two busy cores.
    page.wait_for_selector("h1:has-text('Alliance API')", timeout=60_000)
    # ReDoc always shows its maker's logo from their server; the policy refuses it (this
    # deployment reaches nowhere else), and that refusal is the one console error allowed.
    refused = [error for error in watched.errors if "cdn.redoc.ly" in error]
    assert len(refused) == 1, watched.errors
    watched.errors = [error for error in watched.errors if error not in refused]
