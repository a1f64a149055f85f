"""Two clicks at once, made to collide for certain: each contender reads the contested state
before any of them writes, unless the code under test makes it wait for the others.

A test wraps two points of the code: where a contender starts (``enter``, before it locks
anything: it records the contender's database session) and where it has just read what it
will decide on (``after_read``). The first contender to read is held there until every other
contender has read too, or is blocked by a lock that the held one owns (PostgreSQL's
``pg_blocking_pids``). Without the lock, then, both read the same state and both write on it,
and the test's invariant breaks; with it, the second reads only after the first committed.
Nothing here waits for a fixed time: contenders wait for events, under a long deadline that
only stops a hung test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connection, connections

F = TypeVar("F", bound=Callable[..., Any])
DEADLINE_SECONDS = 60


class Race:
    def __init__(self, contenders: int) -> None:
        self.contenders = contenders
        self.sessions: dict[int, int] = {}  # thread id -> PostgreSQL backend pid
        self.have_read: set[int] = set()
        self.blocked_seen = 0  # how often a contender was found waiting on another's lock
        self._guard = threading.Lock()

    def enter(self) -> None:
        connection.ensure_connection()
        with self._guard:
            self.sessions[threading.get_ident()] = connection.connection.info.backend_pid

    def after_read(self) -> None:
        me = threading.get_ident()
        with self._guard:
            # Only a contender's first read is held; reads outside the race pass.
            if me in self.have_read or me not in self.sessions:
                return
            self.have_read.add(me)
        my_session = self.sessions[me]
        monitor = connections.create_connection("default")
        deadline = time.monotonic() + DEADLINE_SECONDS
        try:
            while not self._others_caught_up(me, my_session, monitor):
                if time.monotonic() > deadline:
                    raise AssertionError("the other contenders never read nor waited")
                time.sleep(0.005)
        finally:
            monitor.close()

    def _others_caught_up(self, me: int, my_session: int, monitor: Any) -> bool:
        with self._guard:
            if len(self.sessions) < self.contenders:
                return False
            waiting = {
                session
                for thread, session in self.sessions.items()
                if thread != me and thread not in self.have_read
            }
        if not waiting:
            return True
        with monitor.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM unnest(%s::int[]) AS other "
                "WHERE %s = ANY(pg_blocking_pids(other))",
                [sorted(waiting), my_session],
            )
            blocked = cursor.fetchone()[0]
        if blocked == len(waiting):
            with self._guard:
                self.blocked_seen += blocked
            return True
        return False

    def entering(self, function: F) -> F:
        """``function``, preceded by ``enter``."""

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.enter()
            return function(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    def reading(self, function: F) -> F:
        """``function``, followed by ``after_read`` when it returns."""

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            result = function(*args, **kwargs)
            self.after_read()
            return result

        return wrapped  # type: ignore[return-value]
