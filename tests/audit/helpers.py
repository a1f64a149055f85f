"""Tampering with the audit tables the way a privileged operator could: behind the triggers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

POSTGRES_TRIGGERS = {
    "audit_auditevent": ["audit_event_no_update_delete"],
    "audit_auditcheckpoint": ["audit_checkpoint_no_update_delete"],
}
SQLITE_TRIGGERS = {
    "audit_auditevent": [
        ("audit_event_no_update", "UPDATE", "audit events are append-only: UPDATE refused"),
        ("audit_event_no_delete", "DELETE", "audit events are append-only: DELETE refused"),
    ],
    "audit_auditcheckpoint": [
        (
            "audit_checkpoint_no_update",
            "UPDATE",
            "audit checkpoints are append-only: UPDATE refused",
        ),
        (
            "audit_checkpoint_no_delete",
            "DELETE",
            "audit checkpoints are append-only: DELETE refused",
        ),
    ],
}


@contextmanager
def behind_the_triggers(table: str) -> Iterator[None]:
    """Disable the append-only triggers as the table owner can, then put them back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for trigger in POSTGRES_TRIGGERS[table]:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
            try:
                yield
            finally:
                for trigger in POSTGRES_TRIGGERS[table]:
                    cursor.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {trigger}")
        else:
            for name, _, _ in SQLITE_TRIGGERS[table]:
                cursor.execute(f"DROP TRIGGER {name}")
            try:
                yield
            finally:
                for name, operation, message in SQLITE_TRIGGERS[table]:
                    cursor.execute(
                        f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
                    )


# Migrations that install SQLite triggers refusing changes: their statements, reused so the
# test suite can step them aside for a flush and put back exactly what the migrations made.
TRIGGER_MIGRATIONS = (
    "audit.migrations.0002_append_only",
    "audit.migrations.0004_checkpoints_append_only",
    "agreements.migrations.0002_version_immutability",
)


def sqlite_triggers(*, present: bool) -> None:
    """Create (or drop) every guarding trigger on SQLite, whatever their current state."""
    import importlib

    modules = [importlib.import_module(name) for name in TRIGGER_MIGRATIONS]
    with connection.cursor() as cursor:
        for module in modules:
            for statement in module.SQLITE_BACKWARD:
                cursor.execute(statement.replace("DROP TRIGGER ", "DROP TRIGGER IF EXISTS "))
        if present:
            for module in modules:
                for statement in module.SQLITE_FORWARD:
                    cursor.execute(statement)
