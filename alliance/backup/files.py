"""The stored files: where they live, copying them with their digests, and checking them
against the database rows that name them and their SHA-256.

Rows reference files that were written before the row committed and never change after
(sealing.py, the export tasks), so files copied after the database snapshot include every
file that snapshot references. Files written later are copied too and are harmless: no row
of the backup names them.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages

from alliance.backup.errors import BackupError
from alliance.backup.manifest import Digest

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Reference:
    """A database row that names a stored file and the SHA-256 the file must have."""

    row: str
    name: str  # the file's name inside the backup, e.g. media/agreements/executed/….pdf
    sha256: str


def roots() -> dict[str, Path]:
    """Backup folder name → live folder. Audit exports are a root of their own only when
    AUDIT_EXPORT_ROOT lies outside MEDIA_ROOT."""
    storage = storages["default"]
    if not isinstance(storage, FileSystemStorage):
        raise BackupError(
            f"The default storage is {type(storage).__name__}; this backup copies MEDIA_ROOT, "
            "so back that storage up with its own tools."
        )
    media = Path(settings.MEDIA_ROOT).resolve()
    audit_exports = Path(settings.AUDIT_EXPORT_ROOT).resolve()
    found = {"media": media}
    if not audit_exports.is_relative_to(media):
        found["audit-exports"] = audit_exports
    return found


def backup_name(path: Path) -> str:
    """The name inside a backup of a live file under one of the roots."""
    resolved = path.resolve()
    # Longest root first, in case MEDIA_ROOT lies inside AUDIT_EXPORT_ROOT.
    for folder, root in sorted(roots().items(), key=lambda item: -len(str(item[1]))):
        if resolved.is_relative_to(root):
            return f"{folder}/{resolved.relative_to(root).as_posix()}"
    raise BackupError(f"{path} lies outside MEDIA_ROOT and AUDIT_EXPORT_ROOT.")


def references() -> list[Reference]:
    """Every file the database names, with the digest it recorded."""
    from agreements.models import AgreementExport, SignedDocument
    from audit.models import AuditExport

    media = Path(settings.MEDIA_ROOT)
    found: list[Reference] = []
    for pk, file_name, sha256 in SignedDocument.objects.filter(
        state=SignedDocument.State.SEALED
    ).values_list("pk", "file_name", "sha256"):
        found.append(Reference(f"executed PDF {pk}", backup_name(media / file_name), sha256))
    for pk, file_name, sha256 in AgreementExport.objects.filter(
        status=AgreementExport.Status.DONE
    ).values_list("pk", "file_name", "sha256"):
        found.append(Reference(f"agreement export {pk}", backup_name(media / file_name), sha256))
    for pk, file_name, sha256 in AuditExport.objects.filter(
        status=AuditExport.Status.DONE
    ).values_list("pk", "file_name", "sha256"):
        path = Path(settings.AUDIT_EXPORT_ROOT) / file_name
        found.append(Reference(f"audit export {pk}", backup_name(path), sha256))
    return sorted(found, key=lambda reference: reference.name)


def mismatches(references: list[Reference], digests: dict[str, Digest]) -> list[str]:
    """What is wrong with the referenced files, given the digest of each file present."""
    problems = []
    for reference in references:
        digest = digests.get(reference.name)
        if digest is None:
            problems.append(f"{reference.row}: {reference.name} is missing")
        elif digest.sha256 != reference.sha256:
            problems.append(
                f"{reference.row}: {reference.name} has SHA-256 {digest.sha256[:16]}…, "
                f"the database recorded {reference.sha256[:16]}…"
            )
    return problems


def _copy(source: Path, target: Path) -> Digest:
    """Copy one file, hashing the bytes written, so the digest is the copy's own."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as reading, target.open("xb") as writing:
        for chunk in iter(lambda: reading.read(_CHUNK), b""):
            writing.write(chunk)
            digest.update(chunk)
            size += len(chunk)
        writing.flush()
        os.fsync(writing.fileno())
    return Digest(digest.hexdigest(), size)


def copy_out(destination: Path) -> dict[str, Digest]:
    """Copy every live file into ``destination``; the digest of each, by backup name."""
    copied: dict[str, Digest] = {}
    for folder, root in roots().items():
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                name = f"{folder}/{path.relative_to(root).as_posix()}"
                copied[name] = _copy(path, destination / name)
    return copied


def unrestorable_roots() -> list[str]:
    """Live folders that already hold files: a restore must not mix backups with them."""
    return [
        f"{root} ({folder})"
        for folder, root in roots().items()
        if root.is_dir() and any(path.is_file() for path in root.rglob("*"))
    ]


def live_path(name: str) -> Path:
    """Where the file a backup calls ``name`` lives in this deployment."""
    folder, _, relative = name.partition("/")
    live = roots()
    if folder not in live:
        raise BackupError(
            f"The backup holds {name}, but here AUDIT_EXPORT_ROOT lies inside MEDIA_ROOT; "
            "set AUDIT_EXPORT_ROOT as it was where the backup was taken."
        )
    return live[folder] / relative


def copy_in(source: Path, names: list[str]) -> dict[str, Digest]:
    """Copy the named files of a backup into the live folders; the digest of each copy."""
    targets = {name: live_path(name) for name in names}  # every name checked before a copy
    return {name: _copy(source / name, target) for name, target in targets.items()}
