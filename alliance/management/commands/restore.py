"""Restore a backup into a fresh deployment and prove it (docs/operations.md, "Backup and restore")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from alliance.backup.errors import BackupError
from alliance.backup.services import backup_check, backup_restore


class Command(BaseCommand):
    help = (
        "Restore BACKUP into the configured database (which must be freshly created and empty) "
        "and MEDIA_ROOT / AUDIT_EXPORT_ROOT (which must hold no file), then verify the audit "
        "chains and every stored file against its database row. Exits 1 on any problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", type=Path, help="A backup folder written by `backup`.")
        parser.add_argument(
            "--check-only",
            action="store_true",
            help="Only verify the backup's signature and files; restore nothing.",
        )

    def handle(self, *args: Any, backup: Path, check_only: bool, **options: Any) -> None:
        try:
            if check_only:
                content, manifest_sha256 = backup_check(source=backup)
                self.stdout.write(
                    f"{len(content['files'])} files match the signed manifest {manifest_sha256}."
                )
                self.stdout.write(self.style.SUCCESS(f"{backup} is intact."))
                return
            result = backup_restore(source=backup)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Restored the backup taken at {result.manifest['taken_at']} "
            f"(manifest SHA-256 {result.manifest_sha256}) and {result.files} stored file(s)."
        )
        self.stdout.write(
            f"Verified {result.events:,} audit events and {result.checkpoints} checkpoints; "
            f"the chains end where the manifest says; {result.references} referenced file(s) "
            "match their database rows."
        )
        self.stdout.write(self.style.SUCCESS("The restored deployment verifies."))
