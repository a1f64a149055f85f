"""Seed a national-scale world for load tests (PostgreSQL only): see alliance.seeding."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from alliance.seeding import SIZES, SeedingRefusedError, seed_world


class Command(BaseCommand):
    help = (
        "Bulk-load a large synthetic world (organisations, people, consortia, agreements, "
        "compute usage, audit chains) into a fresh PostgreSQL database, reproducibly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            choices=sorted(SIZES),
            default="national",
            help="national: 500 organisations, 50,000 users, 300 consortia, 100,000 agreement "
            "versions, 2,000,000 audit events, 5,000,000 usage rows; tiny: for tests.",
        )
        parser.add_argument("--seed", type=int, default=20261204, help="Random seed.")
        parser.add_argument(
            "--digest", action="store_true", help="Print a digest of the seeded tables."
        )
        parser.add_argument("--force", action="store_true", help="Seed even though DEBUG is off.")

    def handle(
        self, *args: Any, scale: str, seed: int, digest: bool, force: bool, **options: Any
    ) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_world creates accounts with a published password; it runs only with DEBUG "
                "on (or --force, for a disposable load-test database)."
            )
        self.stdout.write(f"Seeding the '{scale}' world (seed {seed})")
        started = time.perf_counter()
        try:
            counts = seed_world(size=SIZES[scale], seed=seed, write=self._say)
        except SeedingRefusedError as refused:
            raise CommandError(str(refused)) from refused
        self.stdout.write(
            self.style.SUCCESS(f"Seeded in {time.perf_counter() - started:.1f} s: ")
            + ", ".join(f"{count:,} {name}" for name, count in counts.items())
        )
        if digest:
            from alliance.seeding.digest import world_digest

            self.stdout.write(f"digest {world_digest()}")

    def _say(self, line: str) -> None:
        # Progress is for a person watching a minutes-long load: show each line as it comes.
        self.stdout.write(line)
        self.stdout.flush()
