"""Bulk loading into PostgreSQL: COPY with progress, indexes rebuilt afterwards, sequences
moved past the loaded ids, and foreign keys checked in one pass per column.

Row by row, an index costs a random write and a foreign key an index probe in another table;
for millions of rows, building each index once after the load and checking each foreign key
with one anti-join is several times faster. Everything here runs inside the caller's
transaction, so a failed load leaves the database as it was (indexes included: DDL is
transactional in PostgreSQL).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models

Write = Callable[[str], None]
# How often a long COPY says how far it has got.
REPORT_EVERY = 1_000_000


class Progress:
    """Prints rows and rows per second for each table as it is loaded."""

    def __init__(self, write: Write) -> None:
        self.write = write
        self.started = time.perf_counter()
        self.loaded: dict[str, int] = {}

    def done(self, label: str, rows: int, seconds: float) -> None:
        self.loaded[label] = self.loaded.get(label, 0) + rows
        rate = rows / seconds if seconds else 0.0
        self.write(f"  {label:<28}{rows:>12,} rows {seconds:>7.1f} s {rate:>11,.0f} rows/s")

    def step(self, label: str, seconds: float) -> None:
        self.write(f"  {label:<28}{'':>12} {seconds:>9.1f} s")

    @contextmanager
    def timed(self, label: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.step(label, time.perf_counter() - started)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def copy_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    progress: Progress,
    label: str,
) -> int:
    """COPY ``rows`` (values in ``columns`` order) into the model's table; returns the count."""
    table = model._meta.db_table
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    started = time.perf_counter()
    count = 0
    with connection.cursor() as cursor, cursor.connection.cursor().copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
            if count % REPORT_EVERY == 0:
                elapsed = time.perf_counter() - started
                progress.write(f"    {label}: {count:,} rows, {count / elapsed:,.0f} rows/s")
    progress.done(label, count, time.perf_counter() - started)
    return count


def copy_objects(
    model: type[models.Model],
    objects: Iterable[models.Model],
    *,
    progress: Progress,
    label: str,
    stamped_at: datetime.datetime,
) -> int:
    """COPY unsaved instances (their ids set) as they stand: no ``save()`` and no
    ``pre_save``, so ``auto_now`` fields take ``stamped_at``, which keeps the rows the same
    from run to run."""
    fields = model._meta.concrete_fields
    stamped = [
        bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
        for field in fields
    ]
    rows = (
        [
            stamped_at if stamp else getattr(instance, field.attname)
            for field, stamp in zip(fields, stamped, strict=True)
        ]
        for instance in objects
    )
    columns = [field.column for field in fields]
    return copy_rows(model, columns, rows, progress=progress, label=label)


@contextmanager
def indexes_deferred(model: type[models.Model], progress: Progress) -> Iterator[None]:
    """Drop the table's secondary indexes and unique constraints, then build them again
    (the primary key stays: COPY checks nothing else while loading)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('u', 'x') ORDER BY conname",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = %s::regclass AND NOT indisprimary AND indexrelid NOT IN "
            "(SELECT conindid FROM pg_constraint WHERE conrelid = %s::regclass) ORDER BY 1",
            [table, table],
        )
        indexes = cursor.fetchall()
        for name, _ in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Room to sort each index in memory, and parallel workers to build it.
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for name, definition in constraints:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for _, definition in indexes:
            cursor.execute(definition)
    progress.step(
        f"{table}: {len(constraints) + len(indexes)} indexes", time.perf_counter() - started
    )


def reset_sequences(models_loaded: Iterable[type[models.Model]]) -> None:
    """Move each id sequence past the largest id: the loader chose ids itself, so the next
    row the application inserts must not collide with them."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models_loaded))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def orphans(model: type[models.Model]) -> dict[str, int]:
    """Rows whose foreign key points at no row, per column: one anti-join each, for tables
    loaded with the per-row foreign-key triggers off."""
    found: dict[str, int] = {}
    table = model._meta.db_table
    with connection.cursor() as cursor:
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.ForeignKey):
                continue
            target = field.related_model._meta  # type: ignore[union-attr]
            cursor.execute(
                f"SELECT count(*) FROM {table} c WHERE c.{field.column} IS NOT NULL AND NOT EXISTS "  # noqa: S608 - names from the models
                f"(SELECT 1 FROM {target.db_table} p WHERE p.{target.pk.column} = c.{field.column})"
            )
            row = cursor.fetchone()
            if row and row[0]:
                found[field.column] = int(row[0])
    return found


def next_id(model: type[models.Model]) -> int:
    """The first id after every existing row: the loader numbers its rows from here."""
    aggregate = model._default_manager.aggregate(top=models.Max("pk"))
    return int(aggregate["top"] or 0) + 1


def is_superuser() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])
