"""The manifest of a backup: what each file must hash to, and the manifest's own signature.

The manifest is signed with the deployment's audit key, the same key that signs audit
checkpoints. Someone who changes a file and its digest in the manifest together is caught by
the signature; a restore needs that key anyway, or the restored checkpoints would not verify.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from alliance.backup.errors import BackupError

FORMAT = "alliance-backup/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
DUMP = "database.dump"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Digest:
    sha256: str
    size: int

    def as_json(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "size": self.size}


def file_digest(path: Path) -> Digest:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return Digest(digest.hexdigest(), size)


def encode(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def write(directory: Path, manifest: dict[str, Any]) -> str:
    """Write and sign the manifest; its SHA-256."""
    from audit.signing import key_id, sign

    data = encode(manifest)
    (directory / MANIFEST).write_bytes(data)
    signature = {"key_id": key_id(), "signature": sign(data.decode())}
    (directory / SIGNATURE).write_text(json.dumps(signature, indent=2) + "\n")
    return hashlib.sha256(data).hexdigest()


def _require_signing_key() -> None:
    # audit.signing creates a key on first use; a restore must never do that, since a new
    # key can verify neither this manifest nor the restored checkpoints.
    path = Path(settings.AUDIT_SIGNING_KEY_PATH)
    if not path.is_file():
        raise BackupError(
            f"The audit signing key is not at AUDIT_SIGNING_KEY_PATH ({path}). Put the "
            "deployment's key back there first (it is kept apart from the backups); "
            "nothing was restored."
        )


def read_verified(directory: Path) -> tuple[dict[str, Any], str]:
    """The manifest and its SHA-256, once its signature and every file it lists check out,
    and no file is there that it does not list."""
    from audit.signing import key_id, verify

    if not directory.is_dir():
        raise BackupError(f"{directory} is not a backup directory.")
    for name in (MANIFEST, SIGNATURE):
        if not (directory / name).is_file():
            raise BackupError(f"{directory} has no {name}: it is not a complete backup.")
    _require_signing_key()
    data = (directory / MANIFEST).read_bytes()
    try:
        signature = json.loads((directory / SIGNATURE).read_text())
        signed_by, signed = str(signature["key_id"]), str(signature["signature"])
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(f"{SIGNATURE} is not a signature file: {error}") from error
    if signed_by != key_id():
        raise BackupError(
            f"The manifest was signed by key {signed_by[:16]}…, but this deployment holds key "
            f"{key_id()[:16]}…: restore with the deployment's own audit signing key."
        )
    if not verify(data.decode(), signed):
        raise BackupError("The manifest's signature does not verify: the manifest was altered.")
    manifest: dict[str, Any] = json.loads(data)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}; expected {FORMAT}.")
    _check_files(directory, manifest["files"])
    return manifest, hashlib.sha256(data).hexdigest()


def _check_files(directory: Path, listed: dict[str, dict[str, Any]]) -> None:
    present = {
        path.relative_to(directory).as_posix()
        for path in directory.rglob("*")
        if path.is_file() and path.name not in (MANIFEST, SIGNATURE)
    }
    problems = [f"{name}: missing" for name in sorted(set(listed) - present)]
    problems += [f"{name}: not in the manifest" for name in sorted(present - set(listed))]
    for name in sorted(set(listed) & present):
        found = file_digest(directory / name)
        if found.sha256 != listed[name]["sha256"] or found.size != listed[name]["size"]:
            problems.append(
                f"{name}: SHA-256 {found.sha256[:16]}… ({found.size} bytes) does not match the "
                f"manifest's {listed[name]['sha256'][:16]}… ({listed[name]['size']} bytes)"
            )
    if problems:
        raise BackupError(
            "The backup does not match its manifest; nothing was restored:\n  "
            + "\n  ".join(problems)
        )
