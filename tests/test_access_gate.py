"""A lint that makes bypassing the access policy visible (after zulip's semgrep rules).

Browser and API views must read and write through selectors, permissions and services; a
``<Model>.objects`` in them would skip the policy's scoping.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("consortia", "agreements", "compute", "audit", "alliance")
DIRECT_QUERY = re.compile(r"\b[A-Z][A-Za-z]+\.objects\b")


def view_modules() -> list[Path]:
    modules: list[Path] = []
    for app in APPS:
        modules += list((ROOT / app).rglob("*views*.py"))
    return modules


def test_there_are_view_modules_to_check() -> None:
    assert any(path.name == "views.py" for path in view_modules())


def test_views_never_query_models_directly() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in view_modules()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if DIRECT_QUERY.search(line) and not line.lstrip().startswith("#")
    ]
    assert offenders == [], "query through selectors/permissions instead:\n" + "\n".join(offenders)
