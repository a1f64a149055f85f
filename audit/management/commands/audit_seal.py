"""Seal every audit chain that grew since its last checkpoint (beat does this periodically)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from audit.services import checkpoint_seal


class Command(BaseCommand):
    help = "Sign a checkpoint for every audit chain that grew since its last one."

    def handle(self, *args: Any, **options: Any) -> None:
        sealed = checkpoint_seal()
        for checkpoint in sealed:
            self.stdout.write(
                f"sealed {checkpoint.chain} at {checkpoint.size} ({checkpoint.head_hash[:16]}…)"
            )
        self.stdout.write(self.style.SUCCESS(f"{len(sealed)} chain(s) sealed."))
