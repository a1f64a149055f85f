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


def sqlite_triggers(*, present: bool) -> None:
    """Create (or drop) the append-only triggers on SQLite, whatever their current state."""
    with connection.cursor() as cursor:
        for triggers in SQLITE_TRIGGERS.values():
            for name, _, _ in triggers:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        if present:
            for table, triggers in SQLITE_TRIGGERS.items():
                for name, operation, message in triggers:
                    cursor.execute(
                        f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
                    )
