"""What is waiting on a person, across their consortia: the home page's list.

Each app knows what it asks of people (a vote, an approval, a signature, a board decision, a
finding to handle) and registers a source here when it starts (its AppConfig.ready), because
the consortium app cannot import the apps built on it. A source answers for one person with
a fixed number of queries, whatever it finds, so the home page costs the same for someone
with one item as for someone with a hundred.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from consortia.models import User

# One source may find thousands (a rule change opens many findings at once); the page shows
# the most urgent, and the page where one acts lists the rest.
PER_SOURCE_LIMIT = 50


@dataclass(frozen=True)
class WaitingItem:
    """One thing the person should do, and the page where they do it."""

    kind: str  # what is asked, in a word or two: "Vote", "Sign"
    title: str
    consortium_id: int
    consortium_name: str
    url: str  # a local path
    since: datetime.datetime  # when it began waiting on them
    due_at: datetime.datetime | None = None  # the deadline, when there is one
    detail: str = ""


Source = Callable[[User], Iterable[WaitingItem]]

_sources: dict[str, Source] = {}


def register(name: str, source: Source) -> None:
    _sources[name] = source


def _urgency(item: WaitingItem) -> tuple[int, float]:
    # Deadlines first, the nearest on top; then the rest, newest first.
    if item.due_at is not None:
        return (0, item.due_at.timestamp())
    return (1, -item.since.timestamp())


def waiting_for(user: User) -> list[WaitingItem]:
    """Everything waiting on ``user``, the nearest deadline first, then the newest."""
    items = [item for source in _sources.values() for item in source(user)]
    return sorted(items, key=_urgency)
