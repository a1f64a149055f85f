"""Prepared statements, two ways (PostgreSQL only).

``PreparingCursor`` is for ``alliance.compiled``'s prepared queries. Django binds parameters
on the client (the SQL is sent with the values in it), which cannot be prepared; this cursor
binds them on the server and prepares each statement on its connection the first time, so
later runs skip parsing and planning. Django's own ``prepare_threshold`` would do it for
every query, including the one-off ones.

``SessionStatement`` is for a statement that travels in one message with others (the
compliance gate's write): PREPAREd in SQL once per connection, then EXECUTEd.
"""

from __future__ import annotations

import hashlib
import weakref
from typing import Any

import psycopg
from django.db import ProgrammingError, connection


class PreparingCursor(psycopg.Cursor[Any]):
    def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
        return super().execute(query, params, **{**options, "prepare": True})

    def _send_query_prepared(self, name: bytes, pgq: Any, **options: Any) -> None:
        # psycopg keeps the text of the query it sent, which Django's query log shows, but
        # not when it runs a prepared statement: without this the log would hold None.
        self._query = pgq
        super()._send_query_prepared(name, pgq, **options)


class SessionStatement:
    """A statement that each connection PREPAREs by name, in SQL, before it first runs it
    there; ``call()`` is then ``EXECUTE name(%s, ...)``.

    Unlike a statement psycopg prepares (protocol level, one per message), an EXECUTE can
    share a simple query with other statements ("BEGIN; ...; EXECUTE ...; COMMIT"): one
    message, which psycopg sends for a fraction of the CPU a pipeline of the same
    statements costs it, and whose short text psycopg's query cache keeps. A pooler in
    transaction mode keeps no session state, so behind one ``ALLIANCE_PREPARED_STATEMENTS``
    must be off; callers then send the statement itself.
    """

    def __init__(self, sql: str) -> None:
        numbered, count = _numbered(sql)
        self.name = "alliance_" + hashlib.sha256(sql.encode()).hexdigest()[:16]
        self.definition = f"PREPARE {self.name} AS {numbered}"
        self.parameters = count
        self._prepared_on: weakref.WeakSet[Any] = weakref.WeakSet()

    def call(self) -> str:
        """The EXECUTE for the default connection, PREPAREd there first if it is not yet."""
        connection.ensure_connection()
        if connection.connection not in self._prepared_on:
            with connection.cursor() as cursor:
                try:
                    cursor.execute(self.definition)
                except ProgrammingError as error:
                    if _sqlstate(error) != DUPLICATE_PREPARED_STATEMENT:
                        raise
            self._prepared_on.add(connection.connection)
        return f"EXECUTE {self.name}({', '.join(['%s'] * self.parameters)})"

    def forget(self) -> None:
        """The connection no longer has it (a DISCARD ALL, or a pooler between): the next
        ``call()`` prepares it again."""
        self._prepared_on.discard(connection.connection)


DUPLICATE_PREPARED_STATEMENT, UNKNOWN_PREPARED_STATEMENT = "42P05", "26000"


def is_unknown_statement(error: BaseException) -> bool:
    return _sqlstate(error) == UNKNOWN_PREPARED_STATEMENT


def _sqlstate(error: BaseException) -> str | None:
    return getattr(error.__cause__, "sqlstate", None)


def _numbered(sql: str) -> tuple[str, int]:
    """``%s`` placeholders as ``$1``, ``$2``, ...: PREPARE's own parameters."""
    parts = sql.split("%s")
    if any("%" in part for part in parts):
        raise ValueError("a statement to prepare may hold no % but its placeholders")
    numbered = parts[0] + "".join(f"${index}{part}" for index, part in enumerate(parts[1:], 1))
    return numbered, len(parts) - 1
