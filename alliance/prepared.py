"""psycopg cursors that bind parameters on the server, for ``alliance.compiled`` (PostgreSQL
only).

Django binds parameters on the client (the SQL is sent with the values in it), which cannot
be prepared. ``ServerCursor`` binds them on the server, so psycopg prepares a statement on
its connection once it has run ``prepare_threshold`` times; ``PreparingCursor`` prepares
every statement the first time, so later runs skip parsing and planning. Django's own
``prepare_threshold`` would do it for every query, including the one-off ones.
"""

from __future__ import annotations

from typing import Any

import psycopg


class ServerCursor(psycopg.Cursor[Any]):
    def _send_query_prepared(self, name: bytes, pgq: Any, **options: Any) -> None:
        # psycopg keeps the text of the query it sent, which Django's query log shows, but
        # not when it runs a prepared statement: without this the log would hold None.
        self._query = pgq
        super()._send_query_prepared(name, pgq, **options)


class PreparingCursor(ServerCursor):
    def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
        return super().execute(query, params, **{**options, "prepare": True})
