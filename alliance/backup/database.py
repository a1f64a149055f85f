"""pg_dump and pg_restore of the configured database.

The connection settings reach the client programs through libpq's environment variables,
never their command line, where any user of the machine could read the password in the
process list. ``--dbname=postgresql://`` is an empty URI: every setting comes from there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from alliance.backup.errors import BackupError

# Django's OPTIONS keys that libpq also reads from the environment.
_OPTION_VARIABLES = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
}
_EMPTY_URI = "--dbname=postgresql://"


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        raise BackupError(
            f"Backup and restore need PostgreSQL; the configured database is {connection.vendor} "
            "(the quick start's SQLite file can simply be copied while the app is stopped)."
        )


def libpq_environment(settings_dict: dict[str, Any]) -> dict[str, str]:
    """The process environment with the connection settings of ``settings_dict``. PG*
    variables already set stay, as psycopg too reads them for what the settings leave out."""
    environment = dict(os.environ)
    for key, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if settings_dict.get(key):
            environment[variable] = str(settings_dict[key])
    for option, variable in _OPTION_VARIABLES.items():
        if settings_dict.get("OPTIONS", {}).get(option):
            environment[variable] = str(settings_dict["OPTIONS"][option])
    return environment


def _run(program: str, arguments: list[str]) -> None:
    executable = shutil.which(program)
    if executable is None:
        raise BackupError(
            f"{program} is not installed (Debian: apt-get install postgresql-client)."
        )
    finished = subprocess.run(  # noqa: S603 -- fixed arguments, no shell
        [executable, *arguments],
        env=libpq_environment(connection.settings_dict),
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0:
        raise BackupError(
            f"{program} failed (exit {finished.returncode}): {finished.stderr.strip()}"
        )


@contextmanager
def exported_snapshot() -> Iterator[str]:
    """A repeatable-read transaction on the default connection and the id of its snapshot:
    pg_dump given that id sees exactly what queries inside the block see."""
    require_postgresql()
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        row = cursor.fetchone()
        assert row is not None
        yield str(row[0])


def dump(path: Path, *, snapshot: str) -> None:
    """The configured database as it was in ``snapshot``, in pg_dump's custom format."""
    _run("pg_dump", ["--format=custom", f"--snapshot={snapshot}", f"--file={path}", _EMPTY_URI])


def relation_count() -> int:
    """Tables, views and sequences outside PostgreSQL's own schemas: 0 for a fresh database."""
    require_postgresql()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg\\_toast%%'"
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def restore(path: Path) -> None:
    """Load a dump into the configured (empty) database, all or nothing. Owners and grants
    come back as they were (the application role may hold only INSERT and SELECT on the
    audit tables), so the roles must exist in the target cluster first."""
    _run("pg_restore", ["--exit-on-error", "--single-transaction", _EMPTY_URI, str(path)])
    # Statistics are not part of a dump; without them the first queries plan blind.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
