"""Take a backup of the database and the stored files (docs/operations.md, "Backup and restore")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from alliance.backup.errors import BackupError
from alliance.backup.services import backup_create


class Command(BaseCommand):
    help = (
        "Write a signed backup (pg_dump of the database, every stored file, a manifest of "
        "their SHA-256 and the audit chains' heads) into a new folder under DESTINATION."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("destination", type=Path, help="Folder that receives the backup.")

    def handle(self, *args: Any, destination: Path, **options: Any) -> None:
        try:
            result = backup_create(destination=destination)
        except BackupError as error:
            raise CommandError(str(error)) from error
        events = sum(head["size"] for head in result.heads.values())
        self.stdout.write(
            f"Backed up {result.files} files ({result.bytes:,} bytes) and the heads of "
            f"{len(result.heads)} audit chains ({events:,} events)."
        )
        self.stdout.write(f"manifest SHA-256 {result.manifest_sha256}")
        self.stdout.write(self.style.SUCCESS(str(result.path)))
