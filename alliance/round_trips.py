"""What a block of code sends to the database, grouped by round trip: for tests that hold a
path to its round trips, and for the bench that times them (not used by the app).

Django's query log lists statements (timed to the millisecond); the statements of a psycopg
pipeline travel together and share its one Sync, so the log alone cannot say how often the
code waited for the database, and in a pipeline no statement is timed on its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import patch

from django.db import connection


@dataclass
class Trip:
    statements: list[str]
    seconds: float


@dataclass
class Trips:
    """Filled when the block ends."""

    trips: list[Trip] = field(default_factory=list)

    @property
    def statements(self) -> list[list[str]]:
        return [trip.statements for trip in self.trips]


@contextmanager
def round_trips() -> Iterator[Trips]:
    """Capture the block's SQL: a psycopg pipeline's statements make one round trip, timed
    from the first to its Sync; any other statement is one on its own."""
    import psycopg

    found = Trips()
    sent: list[Trip] = []
    pipelines: list[tuple[int, int, float]] = []
    unmarked = psycopg.Connection.pipeline

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sent.append(Trip([sql], time.perf_counter() - began))

    @contextmanager
    def marked(self: psycopg.Connection[Any]) -> Iterator[Any]:
        start, began = len(sent), time.perf_counter()
        try:
            with unmarked(self) as pipeline:
                yield pipeline
        finally:
            pipelines.append((start, len(sent), time.perf_counter() - began))

    with (
        connection.execute_wrapper(timed),
        patch.object(psycopg.Connection, "pipeline", marked),
    ):
        yield found
    index = 0
    for start, end, seconds in sorted(pipelines):
        found.trips += sent[index:start]
        found.trips.append(
            Trip([sql for trip in sent[start:end] for sql in trip.statements], seconds)
        )
        index = end
    found.trips += sent[index:]
