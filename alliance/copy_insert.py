"""Bulk inserts through PostgreSQL's COPY, for the paths that write thousands of rows at once
(a compliance sweep's findings and their audit events).

Django 5.2's ``bulk_create`` sends each column as one array parameter (``INSERT ... SELECT
FROM UNNEST``), and psycopg quotes every element of those arrays in Python, a regular
expression per value: a sweep that opens 150,000 findings spent a quarter of its time there.
COPY streams the rows through psycopg's C row writer instead. Primary keys are drawn from the
table's sequence first, in one query, so the instances come back with their ids, as they do
from ``bulk_create``. Other databases (the SQLite quick start) use ``bulk_create``.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model

_NEXT_IDS = "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)"


def copy_insert(instances: Sequence[Model]) -> None:
    """Insert new instances of one model, in the order given, and give each its primary key."""
    if not instances:
        return
    model = type(instances[0])
    assert all(type(instance) is model for instance in instances), "one model at a time"
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(instances, batch_size=1000)
        return
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = list(meta.concrete_fields)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_IDS, [meta.db_table, pk.column, len(instances)])
        for instance, (pk_value,) in zip(instances, cursor.fetchall(), strict=True):
            setattr(instance, pk.attname, pk_value)
        columns = ", ".join(quote(field.column) for field in fields)
        statement = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
        with cursor.cursor.copy(statement) as copy:
            for instance in instances:
                copy.write_row(
                    [
                        field.get_db_prep_save(field.pre_save(instance, True), connection)
                        for field in fields
                    ]
                )
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias
