"""Taking a backup, checking one, and restoring one into a fresh deployment.

A backup is consistent: the dump, the audit heads and the list of referenced files all come
from one database snapshot, and the files are copied after it (see files.py for why that
order is enough). A restore changes nothing until the backup has proved intact and the
target proved empty; afterwards it proves the result: the audit chains verify and end where
the manifest says, and every stored file matches the row that names it.
"""

from __future__ import annotations

import datetime
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from alliance.backup import database, files, manifest
from alliance.backup.errors import BackupError
from audit.models import Action, AuditEvent
from audit.services import audit_record, checkpoint_seal


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest_sha256: str
    files: int
    bytes: int
    heads: dict[str, dict[str, Any]]


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    manifest_sha256: str
    files: int = 0
    events: int = 0
    checkpoints: int = 0
    references: int = 0
    problems: list[str] = field(default_factory=list)


def _audit_heads() -> dict[str, dict[str, Any]]:
    return {
        chain: {"size": size, "hash": head}
        for chain, size, head in AuditEvent.objects.order_by("chain", "-sequence")
        .distinct("chain")
        .values_list("chain", "sequence", "hash")
    }


def backup_create(*, destination: Path) -> BackupResult:
    """Write a complete, signed backup into a new folder under ``destination``."""
    database.require_postgresql()
    for folder, root in files.roots().items():
        # Else the backup would copy itself, and the next one every earlier one.
        if destination.resolve().is_relative_to(root):
            raise BackupError(f"{destination} lies inside the {folder} folder ({root}).")
    taken_at = timezone.now()
    final = destination / f"alliance-{taken_at:%Y%m%dT%H%M%SZ}"
    partial = destination / f".{final.name}.partial"
    if final.exists() or partial.exists():
        raise BackupError(f"{final} already exists; wait a second and run the backup again.")
    # Seal first, so the heads this backup records are signed by the deployment.
    checkpoint_seal()
    destination.mkdir(parents=True, exist_ok=True)
    try:
        partial.mkdir(mode=0o700)  # owner-only: it holds everything the database holds
    except FileExistsError:
        raise BackupError(f"Another backup is writing {partial}.") from None
    try:
        with database.exported_snapshot() as snapshot:
            database.dump(partial / manifest.DUMP, snapshot=snapshot)
            heads = _audit_heads()
            references = files.references()
            migrations = sorted(MigrationRecorder.Migration.objects.values_list("app", "name"))
        copied = files.copy_out(partial)
        problems = files.mismatches(references, copied)
        if problems:
            raise BackupError(
                "The live files do not match the database, so no backup was kept; restore the "
                "damaged files from the previous backup first:\n  " + "\n  ".join(problems)
            )
        listed = {manifest.DUMP: manifest.file_digest(partial / manifest.DUMP), **copied}
        content = {
            "format": manifest.FORMAT,
            "taken_at": taken_at.isoformat(),
            "database": {
                "name": connection.settings_dict["NAME"],
                "server_version": connection.pg_version,  # type: ignore[attr-defined]
            },
            "migrations": [list(migration) for migration in migrations],
            "audit_heads": heads,
            "references": [
                {"row": item.row, "name": item.name, "sha256": item.sha256} for item in references
            ],
            "files": {name: digest.as_json() for name, digest in sorted(listed.items())},
        }
        manifest_sha256 = manifest.write(partial, content)
        os.rename(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    size = sum(digest.size for digest in listed.values())
    audit_record(
        action=Action.EXPORT,
        actor=None,
        object_type="backup",
        object_id=final.name,
        object_display=f"Backup {final.name}",
        changes={"manifest_sha256": manifest_sha256, "files": len(listed), "bytes": size},
    )
    return BackupResult(final, manifest_sha256, len(listed), size, heads)


def backup_check(*, source: Path) -> tuple[dict[str, Any], str]:
    """The verified manifest of a backup and its SHA-256; raises if the backup is unusable
    by this code."""
    content, manifest_sha256 = manifest.read_verified(source)
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [f"{app}.{name}" for app, name in content["migrations"] if (app, name) not in known]
    if unknown:
        raise BackupError(
            "The backup was taken by a newer Alliance (its database has migrations this code "
            f"does not know: {', '.join(unknown[:5])}); restore it with that version."
        )
    return content, manifest_sha256


def backup_prove(*, content: dict[str, Any], result: RestoreResult) -> None:
    """Check the configured deployment against a backup's manifest, adding to
    ``result.problems``: the audit chains verify and end at the manifest's heads, and every
    stored file the database names has the SHA-256 its row recorded."""
    from audit.verification import verify

    if _audit_heads() != content["audit_heads"]:
        result.problems.append(
            "the restored audit chains do not end where the manifest says they did"
        )
    report = verify()
    result.events, result.checkpoints = report.events, report.checkpoints
    result.problems += [f"audit chain broken: {broken}" for broken in report.breaks]
    references = files.references()
    result.references = len(references)
    present = {
        item.name: manifest.file_digest(files.live_path(item.name))
        for item in references
        if files.live_path(item.name).is_file()
    }
    result.problems += files.mismatches(references, present)


def backup_restore(*, source: Path) -> RestoreResult:
    """Restore a backup into the configured database, which must be empty, and the
    configured file folders, which must hold no file; then prove the result."""
    database.require_postgresql()
    content, manifest_sha256 = backup_check(source=source)
    tables = database.relation_count()
    if tables:
        raise BackupError(
            f"The database {connection.settings_dict['NAME']!r} already holds {tables} tables, "
            "views or sequences. Restore only into a freshly created database, before "
            "`migrate` runs; nothing was changed."
        )
    occupied = files.unrestorable_roots()
    if occupied:
        raise BackupError(
            f"These folders already hold files: {', '.join(occupied)}. Restore only into empty "
            "folders; nothing was changed."
        )

    database.restore(source / manifest.DUMP)
    names = [name for name in content["files"] if name != manifest.DUMP]
    copied = files.copy_in(source, names)

    result = RestoreResult(content, manifest_sha256, files=len(copied))
    result.problems += [
        f"{name}: the restored copy does not match the manifest"
        for name, digest in copied.items()
        if digest.as_json() != content["files"][name]
    ]
    backup_prove(content=content, result=result)
    if result.problems:
        raise BackupError(
            "Restored, but the result does not verify; do not put this deployment into "
            "service:\n  " + "\n  ".join(result.problems)
        )
    audit_record(
        action=Action.CREATE,
        actor=None,
        object_type="restore",
        object_id=source.name,
        object_display=f"Restored from backup {source.name}",
        changes={
            "manifest_sha256": manifest_sha256,
            "taken_at": content["taken_at"],
            "restored_at": datetime.datetime.now(tz=datetime.UTC).isoformat(),
        },
    )
    return result
