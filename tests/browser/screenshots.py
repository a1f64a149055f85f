"""Screenshots of the main pages for the README (docs/screenshots/), taken by the browser
tests only when ALLIANCE_SCREENSHOTS=1 (``make screenshots``), so that an ordinary test run
never rewrites the committed files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def screenshots_wanted() -> bool:
    return os.environ.get("ALLIANCE_SCREENSHOTS") == "1"


def capture(page: Any, name: str) -> None:
    """The visible viewport only: a full page of a long table would make a tall, heavy PNG."""
    if not screenshots_wanted():
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # The focus ring and caret of the last click would otherwise show in the picture.
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), animations="disabled")
