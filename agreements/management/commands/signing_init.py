"""Create the demo CA and signing certificate that seal agreements when no real key is set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from agreements.pdfsign.keys import DEMO_CA_NAME, create_demo_ca


class Command(BaseCommand):
    help = (
        "Create a local demo CA and a document-signing certificate for sealing agreements. "
        "For demos and tests only; production sets SIGNING_PKCS12_PATH."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--directory",
            type=Path,
            default=None,
            help="Where to write the files (default: SIGNING_DEMO_DIR).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["directory"] or Path(settings.SIGNING_DEMO_DIR)
        keys = create_demo_ca(directory.resolve())
        if keys.created:
            self.stdout.write(self.style.SUCCESS(f"Created the demo CA in {keys.directory}:"))
        else:
            self.stdout.write(f"The demo CA already exists in {keys.directory}; left as it was:")
        self.stdout.write(f"  CA certificate      {keys.ca_certificate}")
        self.stdout.write(f"  signing key + cert  {keys.pkcs12}")
        self.stdout.write(f"  passphrase          {keys.passphrase_file}")
        self.stdout.write(
            self.style.WARNING(
                f'These are for demos and tests only: "{DEMO_CA_NAME}" is trusted by nobody but '
                "this installation. Production sets SIGNING_PKCS12_PATH to the organisation's "
                "own PKCS#12 file."
            )
        )
        if Path(settings.SIGNING_DEMO_DIR).resolve() != keys.directory:
            self.stdout.write(
                f"Set SIGNING_DEMO_DIR={keys.directory} for the app to seal with this CA."
            )
