"""Queries and inserts compiled to SQL once per database, then run with other values.

Building a queryset's SQL (resolving lookups, joins and columns) costs more than PostgreSQL
takes to run a primary-key lookup, and so does an ORM insert of one row. On the paths every
API request takes (its token, its consortium, a decision's data sets and the decision's own
rows) the SQL is built once: the query with stand-in values that no row has, which later runs
swap for the real ones, and an insert from the model's columns. Only parameters change; the
SQL text never does. Rows come back through the same converters the ORM applies.

A query whose planning costs PostgreSQL more than running it (a union of four small
lookups, planned afresh on every request) can also be prepared: ``CompiledQuery(build,
prepared=True)`` sends it with server-side parameters as a prepared statement of the
connection, planned once per connection. A deployment whose connection pooler cannot keep
prepared statements (PgBouncer in transaction mode before 1.21) turns this off with
``ALLIANCE_PREPARED_STATEMENTS=0``.

Queries a request is known to need one after the other, whatever the first answers, can be
sent together: ``with read_together(A.read(...), B.read(...)):`` sends both in one round
trip (psycopg's pipeline) and the ``rows()`` calls inside the block that ask for exactly
those values take the rows read, once; anything else reads as usual.

A stand-in that the ORM turns into SQL of its own (``= NULL`` becomes ``IS NULL``) is not a
parameter: the values swapped in may be None only where the query compares with ``=`` in
raw SQL, where NULL matches nothing, as it would have.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
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
    ``prepared``: on PostgreSQL, a prepared statement of each connection (see above).
    """

    def __init__(self, build: Callable[..., QuerySet[Any]], *, prepared: bool = False) -> None:
        self._build = build
        self._prepare = prepared
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
        ahead = _read_ahead.get()
        if ahead:
            read = ahead.pop(Read(self, values).key(), None)
            if read is not None:
                return read
        compiled, params = self._prepared(values)
        with self._cursor() as cursor:
            cursor.execute(compiled.sql, params)
            return _all_converted(cursor.fetchall(), compiled)

    def read(self, **values: Any) -> Read:
        """This query with these values, for ``read_together``."""
        return Read(self, values)

    def _cursor(self) -> Any:
        if (
            self._prepare
            and connection.vendor == "postgresql"
            and settings.ALLIANCE_PREPARED_STATEMENTS
        ):
            return _preparing_cursor()
        return connection.cursor()


@dataclass(frozen=True)
class Read:
    query: CompiledQuery
    values: dict[str, Any]

    def key(self) -> tuple[CompiledQuery, tuple[tuple[str, Any], ...]]:
        return self.query, tuple(
            sorted(
                (name, tuple(value) if isinstance(value, list) else value)
                for name, value in self.values.items()
            )
        )


# The rows read together and not taken yet, by read, while a read_together block runs.
_read_ahead: ContextVar[dict[Any, list[tuple[Any, ...]]] | None] = ContextVar(
    "compiled_read_ahead", default=None
)


@contextmanager
def read_together(*reads: Read | None) -> Iterator[None]:
    """Send ``reads`` (None for a read not needed after all) in one round trip; inside the
    block, a ``rows()`` call with the same query and values takes its rows, once. Only on
    PostgreSQL, and only for two reads or more: otherwise each reads when asked."""
    wanted = [read for read in reads if read is not None]
    if len(wanted) < 2 or connection.vendor != "postgresql":
        yield
        return
    token = _read_ahead.set(dict(zip([read.key() for read in wanted], _run(wanted), strict=True)))
    try:
        yield
    finally:
        _read_ahead.reset(token)


def _run(reads: list[Read]) -> list[list[tuple[Any, ...]]]:
    prepared = [read.query._prepared(read.values) for read in reads]
    with ExitStack() as cursors:
        opened = [cursors.enter_context(read.query._cursor()) for read in reads]
        # Every query is sent before any answer is awaited; the block's end waits for all.
        with connection.connection.pipeline():
            for cursor, (compiled, params) in zip(opened, prepared, strict=True):
                cursor.execute(compiled.sql, params)
        return [
            _all_converted(cursor.fetchall(), compiled)
            for cursor, (compiled, _) in zip(opened, prepared, strict=True)
        ]


def _all_converted(rows: Sequence[Sequence[Any]], compiled: _Compiled) -> list[tuple[Any, ...]]:
    if not compiled.converters:
        return [tuple(row) for row in rows]
    return [_converted(row, compiled.converters) for row in rows]


def _preparing_cursor() -> Any:
    """A cursor of the default connection that binds parameters on the server and prepares
    every statement it runs, wrapped as Django wraps its own (errors, query logging)."""
    from alliance.prepared import PreparingCursor  # psycopg 3 only: PostgreSQL deployments

    connection.ensure_connection()
    raw: Any = PreparingCursor(connection.connection)
    return (
        connection.make_debug_cursor(raw)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )


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


def insert_fields(model: type[Model]) -> list[Any]:
    """The fields an insert of ``model`` sends, in order: every concrete one but the key."""
    return _insert_sql(model)[1]


def insert_values(instance: Model, fields: Sequence[Any]) -> list[Any]:
    """The values of ``fields`` (``insert_fields``) that insert a new instance."""
    return [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]


def inserted(instance: Model, pk: Any) -> None:
    """Mark an instance stored under ``pk``, as save() would."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias


def insert(instance: Model) -> None:
    """Insert a new instance (its primary key drawn by the database) without the ORM's
    save(): no signals and no save() override run, so only for models that have neither.
    Other databases than PostgreSQL (the SQLite quick start) use save()."""
    if connection.vendor != "postgresql":
        instance.save(force_insert=True)
        return
    sql, fields = _insert_sql(type(instance))
    with connection.cursor() as cursor:
        cursor.execute(sql, insert_values(instance, fields))
        (pk,) = cursor.fetchone()
    inserted(instance, pk)
