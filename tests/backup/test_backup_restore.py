"""Backup and restore, exercised as an operator would: back up a deployment with an executed
PDF, an audit export and sealed audit chains, restore it into a freshly created database by
running ``manage.py restore`` with DATABASE_URL pointing there, and run ``audit_verify``
against it. Tampered backups and occupied targets are refused and change nothing."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from agreements.models import SignedDocument
from agreements.pdfsign.verify import verify as verify_pdf
from alliance.backup import manifest
from alliance.backup.services import RestoreResult, backup_check, backup_prove
from audit.exports import audit_export_create, export_path
from audit.models import AuditEvent
from tests.agreements.conftest import make_deal
from tests.agreements.signing_helpers import send_for_signature, sign_all
from tests.conftest import World, requires_postgres

pytestmark = requires_postgres

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class Backup:
    path: Path
    document: SignedDocument
    audit_export_file: Path


@pytest.fixture
def own_folders(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "live" / "media"
    settings.AUDIT_EXPORT_ROOT = tmp_path / "live" / "audit-exports"


@pytest.fixture
def backup(
    committed_db: None,
    own_folders: None,
    world: World,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> Backup:
    deal = make_deal(world)
    send_for_signature(deal)
    document = sign_all(deal, django_capture_on_commit_callbacks)
    assert document.state == SignedDocument.State.SEALED, document.error
    with django_capture_on_commit_callbacks(execute=True):
        export = audit_export_create(
            actor=world.auditor, consortium_id=world.consortium_a.pk, format="jsonl", filters={}
        )
    export.refresh_from_db()
    call_command("backup", str(tmp_path / "backups"), stdout=io.StringIO())
    (path,) = (tmp_path / "backups").iterdir()
    return Backup(path, document, export_path(export))


def database_url(name: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A database created for this test, empty, and dropped afterwards."""
    name = f"test_alliance_restore_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(*arguments: str, database: str, folders: Path) -> subprocess.CompletedProcess[str]:
    """manage.py in a process of its own, configured as a production deployment would be."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    environment.pop("REDIS_URL", None)  # tasks in-process: the restore enqueues nothing here
    environment.update(
        DJANGO_SETTINGS_MODULE="alliance.settings",
        DEBUG="0",
        DATABASE_URL=database_url(database),
        MEDIA_ROOT=str(folders / "media"),
        AUDIT_EXPORT_ROOT=str(folders / "audit-exports"),
        AUDIT_SIGNING_KEY_PATH=str(settings.AUDIT_SIGNING_KEY_PATH),
        SIGNING_DEMO_DIR=str(settings.SIGNING_DEMO_DIR),
    )
    return subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "manage.py"), *arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def query(database: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url(database)) as restored:
        return restored.execute(sql).fetchall()


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_a_restored_backup_verifies_in_a_fresh_database(
    backup: Backup, fresh_database: str, tmp_path: Path
) -> None:
    restored = tmp_path / "restored"
    # The backup records its own event after its snapshot, so the backup does not hold it.
    events = set(
        AuditEvent.objects.exclude(object_type="backup").values_list("chain", "sequence", "hash")
    )
    assert AuditEvent.objects.filter(object_type="backup").count() == 1

    # Folders that already hold files are refused before the empty database is touched.
    (restored / "media").mkdir(parents=True)
    (restored / "media" / "left-over.txt").write_text("from another deployment")
    refused = manage("restore", str(backup.path), database=fresh_database, folders=restored)
    assert refused.returncode == 1
    assert "already hold files" in refused.stderr
    assert query(fresh_database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [
        (0,)
    ]
    (restored / "media" / "left-over.txt").unlink()

    done = manage("restore", str(backup.path), database=fresh_database, folders=restored)
    assert done.returncode == 0, done.stderr
    assert "The restored deployment verifies." in done.stdout

    verified = manage("audit_verify", database=fresh_database, folders=restored)
    assert verified.returncode == 0, verified.stderr
    assert "Every chain is intact." in verified.stdout

    # Every event came back as it was, and the restore added its own to the platform chain.
    restored_events = query(
        fresh_database, "SELECT chain, sequence, hash, object_type FROM audit_auditevent"
    )
    assert {row[:3] for row in restored_events if row[3] != "restore"} == events
    assert [row[3] for row in restored_events].count("restore") == 1
    assert query(fresh_database, "SELECT count(*) FROM audit_auditcheckpoint")[0][0] > 0

    # The executed PDF is byte for byte the one the database names, and its seal verifies.
    ((file_name, sha256),) = query(
        fresh_database,
        "SELECT file_name, sha256 FROM agreements_signeddocument WHERE state = 'sealed'",
    )
    assert (file_name, sha256) == (backup.document.file_name, backup.document.sha256)
    pdf = (restored / "media" / file_name).read_bytes()
    assert pdf == (Path(settings.MEDIA_ROOT) / file_name).read_bytes()
    verdict = verify_pdf(pdf)
    assert verdict.valid, verdict.summary
    assert verdict.sha256 == sha256
    assert files_under(restored / "audit-exports") == files_under(Path(settings.AUDIT_EXPORT_ROOT))
    assert backup.audit_export_file.name in files_under(restored / "audit-exports")


def flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


def test_restoring_over_a_database_that_is_in_use_is_refused(
    backup: Backup, unchanged: Callable[[], Any]
) -> None:
    live_files = files_under(Path(settings.MEDIA_ROOT))
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError, match=r"already holds \d+ tables"), unchanged():
        call_command("restore", str(backup.path))
    assert AuditEvent.objects.count() == events
    assert files_under(Path(settings.MEDIA_ROOT)) == live_files


def forge_manifest(backup: Path, name: str) -> None:
    """The forger's move: change a file and its digest in the manifest together."""
    flip_last_byte(backup / name)
    content = json.loads((backup / manifest.MANIFEST).read_text())
    content["files"][name] = manifest.file_digest(backup / name).as_json()
    (backup / manifest.MANIFEST).write_bytes(manifest.encode(content))


def test_a_tampered_backup_is_refused(backup: Backup, tmp_path: Path) -> None:
    # One backup, copied for each case: building a sealed PDF is the slow part.
    pdf = f"media/{backup.document.file_name}"
    cases: dict[str, tuple[Callable[[Path], object], str]] = {
        "changed PDF": (lambda copy: flip_last_byte(copy / pdf), "does not match the manifest's"),
        "removed PDF": (lambda copy: (copy / pdf).unlink(), f"{pdf}: missing"),
        "added file": (
            lambda copy: (copy / "media" / "extra.pdf").write_bytes(b"%PDF-"),
            "media/extra.pdf: not in the manifest",
        ),
        "changed dump": (
            lambda copy: flip_last_byte(copy / manifest.DUMP),
            "database.dump: SHA-256",
        ),
        "manifest rewritten to match a changed PDF": (
            lambda copy: forge_manifest(copy, pdf),
            "signature does not verify",
        ),
    }
    for case, (tamper, message) in cases.items():
        copy = tmp_path / "tampered" / case.replace(" ", "-")
        shutil.copytree(backup.path, copy)
        call_command("restore", "--check-only", str(copy), stdout=io.StringIO())  # intact
        tamper(copy)
        with pytest.raises(CommandError, match=message):
            call_command("restore", "--check-only", str(copy))


def test_a_backup_needs_the_deployments_own_signing_key(
    backup: Backup, settings: Any, tmp_path: Path
) -> None:
    settings.AUDIT_SIGNING_KEY_PATH = tmp_path / "elsewhere" / "key.pem"
    with pytest.raises(CommandError, match="audit signing key is not at"):
        call_command("restore", "--check-only", str(backup.path))
    assert not settings.AUDIT_SIGNING_KEY_PATH.exists(), "a restore must never make a new key"


def test_no_backup_is_kept_when_a_stored_pdf_no_longer_matches_its_row(
    backup: Backup, tmp_path: Path
) -> None:
    flip_last_byte(Path(settings.MEDIA_ROOT) / backup.document.file_name)
    again = tmp_path / "second"
    with pytest.raises(CommandError, match=rf"executed PDF {backup.document.pk}: .* has SHA-256"):
        call_command("backup", str(again))
    assert list(again.iterdir()) == []


def test_a_backup_is_never_written_inside_the_folders_it_copies(
    db: None, own_folders: None
) -> None:
    inside = Path(settings.MEDIA_ROOT) / "backups"
    with pytest.raises(CommandError, match="lies inside the media folder"):
        call_command("backup", str(inside))
    assert not inside.exists()


def test_the_proof_after_a_restore_catches_altered_files_and_missing_events(
    backup: Backup,
) -> None:
    """What restore checks once the data is in, run here on the deployment the backup came
    from: it has since grown by the backup's own audit event, which the proof must notice."""
    content, _ = backup_check(source=backup.path)
    grown = RestoreResult(content, "")
    backup_prove(content=content, result=grown)
    assert grown.problems == [
        "the restored audit chains do not end where the manifest says they did"
    ]

    as_now = {
        **content,
        "audit_heads": {
            chain: {"size": size, "hash": head}
            for chain, size, head in AuditEvent.objects.order_by("chain", "-sequence")
            .distinct("chain")
            .values_list("chain", "sequence", "hash")
        },
    }
    intact = RestoreResult(as_now, "")
    backup_prove(content=as_now, result=intact)
    assert intact.problems == []
    assert intact.references == 2  # the executed PDF and the audit export
    assert intact.checkpoints > 0

    flip_last_byte(Path(settings.MEDIA_ROOT) / backup.document.file_name)
    altered = RestoreResult(as_now, "")
    backup_prove(content=as_now, result=altered)
    (problem,) = altered.problems
    assert problem.startswith(
        f"executed PDF {backup.document.pk}: media/{backup.document.file_name}"
    )
    assert "the database recorded" in problem
