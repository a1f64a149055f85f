"""Recompute every audit hash, check sequences and checkpoints; exit 1 on any break."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.verification import verify


class Command(BaseCommand):
    help = "Verify the audit chains: hashes, gapless sequences, checkpoint signatures. Exits 1 on any break."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--chain", action="append", help="A chain to verify (repeatable); default: all."
        )
        parser.add_argument(
            "--python", action="store_true", help="Verify in Python even on PostgreSQL."
        )

    def handle(self, *args: Any, chain: list[str] | None, python: bool, **options: Any) -> None:
        report = verify(chains=chain, method="python" if python else "auto")
        self.stdout.write(
            f"Verified {report.events:,} events in {report.chains} chains and {report.checkpoints} checkpoints "
            f"in {report.seconds:.2f} s ({report.events_per_second:,.0f} events/s, {report.method})."
        )
        if report.ok:
            self.stdout.write(self.style.SUCCESS("Every chain is intact."))
            return
        for broken in report.breaks:
            self.stderr.write(self.style.ERROR(f"BROKEN {broken}"))
        raise CommandError(
            f"{len(report.breaks)} broken chain(s); the first broken event of each is named above."
        )
