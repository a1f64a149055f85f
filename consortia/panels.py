"""Sections that other apps add to the consortium page.

The consortium app cannot import the apps built on it, so they register a panel here when
they start (their AppConfig.ready): a template and a function that gives its context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from consortia.models import Consortium

PanelContext = Callable[[HttpRequest, Consortium], dict[str, Any]]


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    context: PanelContext


_panels: dict[str, Panel] = {}


def register(name: str, template: str, context: PanelContext) -> None:
    _panels[name] = Panel(name, template, context)


def rendered(request: HttpRequest, consortium: Consortium) -> list[tuple[str, dict[str, Any]]]:
    return [(panel.template, panel.context(request, consortium)) for panel in _panels.values()]
