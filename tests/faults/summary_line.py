"""The one line each fault test prints under ``pytest -s``: PASS or FAIL and what it measured.
The assertions decide; the line tells a person reading the run what happened, failed or not.

A test module wires it as a fixture (``yield from reporting(request)``) and notes its numbers
as it measures them, before asserting on them, so a failing run still shows them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest


@dataclass
class Summary:
    name: str
    facts: list[str] = field(default_factory=list)

    def note(self, fact: str) -> None:
        self.facts.append(fact)


def reporting(request: pytest.FixtureRequest) -> Iterator[Summary]:
    summary = Summary(request.node.name)
    failed_before = request.session.testsfailed
    yield summary
    # The call's report is logged (and counted) before fixtures are torn down.
    verdict = "FAIL" if request.session.testsfailed > failed_before else "PASS"
    print(f"\n{verdict} {summary.name}: {'; '.join(summary.facts)}")  # noqa: T201
