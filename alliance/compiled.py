"""Queries and inserts compiled to SQL once per database, then run with other values.

Building a queryset's SQL (resolving lookups, joins and columns) costs more than PostgreSQL
takes to run a primary-key lookup, and so does an ORM insert of one row. On the paths every
API request takes (its token, its consortium, a decision's data sets and the decision's own
rows) the SQL is built once: the query with stand-in values that no row has, which later runs
swap for the real ones, and an insert from the model's columns. Only parameters change; the
SQL text never does. Rows come back through the same converters the ORM applies.

A stand-in that the ORM turns into SQL of its own (``= NULL`` becomes ``IS NULL``) is not a
parameter: the values swapped in may be None only where the query compares with ``=`` in
raw SQL, where NULL matches nothing, as it would have.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model, QuerySet

ModelT = TypeVar("ModelT", bound=Model)

# Stand-ins are negative, far below any id or count a row holds, and unique per process.
_stand_ins = itertools.count(-7_300_000_000, -1)
_lock = threading.Lock()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    # Parameter positions whose value is a stand-in: (position, name, index in a list or -1).
    slots: tuple[tuple[int, str, int], ...]
    # Column positions with converters, as the compiler lists them: {index: (converters, expr)}.
    converters: dict[int, tuple[list[Any], Any]]


class CompiledQuery:
    """A queryset built by ``build(**stand_ins)`` and compiled once per database and shape.

    Call ``rows(**values)`` with a value per keyword of ``build``. A list value compiles
    once per length (``IN (%s, %s)``), so keep lists short: a request's ids, not a table's.
    """

    def __init__(self, build: Callable[..., QuerySet[Any]]) -> None:
        self._build = build
        self._compiled: dict[tuple[str, tuple[tuple[str, int], ...]], _Compiled] = {}

    def _compile(self, alias: str, shape: tuple[tuple[str, int], ...]) -> _Compiled:
        with _lock:
            stand_ins: dict[str, Any] = {}
            where: dict[Any, tuple[str, int]] = {}
            for name, length in shape:
                if length < 0:
                    stand_ins[name] = next(_stand_ins)
                    where[stand_ins[name]] = (name, -1)
                else:
                    stand_ins[name] = [next(_stand_ins) for _ in range(length)]
                    where.update({value: (name, i) for i, value in enumerate(stand_ins[name])})
        compiler = self._build(**stand_ins).query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        # The ORM hands a text column's stand-in over as text.
        where.update({str(value): place for value, place in list(where.items())})
        slots = tuple(
            (position, *where[param])
            for position, param in enumerate(params)
            if type(param) in (int, str) and param in where
        )
        found = {(name, index) for _, name, index in slots}
        missing = set(where.values()) - found
        assert not missing, f"stand-ins the SQL lost (not parameters): {sorted(missing)}"
        columns = [column for column, _, _ in compiler.select]
        return _Compiled(sql, tuple(params), slots, compiler.get_converters(columns))

    def _prepared(self, values: dict[str, Any]) -> tuple[_Compiled, list[Any]]:
        shape = tuple(
            (name, len(value) if isinstance(value, list | tuple) else -1)
            for name, value in sorted(values.items())
        )
        key = (connection.alias, shape)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(connection.alias, shape)
        params = list(compiled.params)
        for position, name, index in compiled.slots:
            params[position] = values[name] if index < 0 else values[name][index]
        return compiled, params

    def rows(self, **values: Any) -> list[tuple[Any, ...]]:
        compiled, params = self._prepared(values)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if not compiled.converters:
            return [tuple(row) for row in rows]
        return [_converted(row, compiled.converters) for row in rows]


def _converted(row: Sequence[Any], converters: dict[int, tuple[list[Any], Any]]) -> tuple[Any, ...]:
    values = list(row)
    for index, (functions, expression) in converters.items():
        value = values[index]
        for function in functions:
            value = function(value, expression, connection)
        values[index] = value
    return tuple(values)


@functools.cache
def column_names(model: type[Model]) -> tuple[str, ...]:
    """The model's concrete fields' attribute names, in the order ``from_db`` takes them."""
    return tuple(field.attname for field in model._meta.concrete_fields)


def instances(model: type[ModelT], rows: Sequence[Sequence[Any]]) -> list[ModelT]:
    """Model instances from rows of ``column_names(model)``, as the ORM would build them."""
    names = column_names(model)
    return [model.from_db(connection.alias, list(names), row) for row in rows]


_inserts: dict[tuple[str, type[Model]], tuple[str, list[Any]]] = {}


def _insert_sql(model: type[Model]) -> tuple[str, list[Any]]:
    key = (connection.alias, model)
    found = _inserts.get(key)
    if found is None:
        meta = model._meta
        assert meta.pk is not None
        fields = [field for field in meta.concrete_fields if field is not meta.pk]
        quote = connection.ops.quote_name
        placeholders = ", ".join(
            field.get_placeholder(None, None, connection)
            if hasattr(field, "get_placeholder")
            else "%s"
            for field in fields
        )
        columns = ", ".join(quote(field.column) for field in fields)
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
            f" RETURNING {quote(meta.pk.column)}"
        )
        found = _inserts[key] = (sql, fields)
    return found


def insert_statement(instance: Model) -> tuple[str, list[Any]]:
    """The SQL and parameters that insert a new instance and return its primary key, for a
    caller that sends more in the same round trip; then ``inserted`` with the key."""
    sql, fields = _insert_sql(type(instance))
    return sql, [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]


def inserted(instance: Model, pk: Any) -> None:
    """Mark an instance stored under ``pk``, as save() would."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias


def not_inserted(instance: Model) -> None:
    """Undo ``inserted`` for a row whose insert was rolled back, so a retry inserts anew."""
    instance.pk = None
    instance._state.adding = True
    instance._state.db = None


def insert(instance: Model) -> None:
    """Insert a new instance (its primary key drawn by the database) without the ORM's
    save(): no signals and no save() override run, so only for models that have neither.
    Other databases than PostgreSQL (the SQLite quick start) use save()."""
    if connection.vendor != "postgresql":
        instance.save(force_insert=True)
        return
    sql, params = insert_statement(instance)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (pk,) = cursor.fetchone()
    inserted(instance, pk)
