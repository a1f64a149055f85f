"""Celery tasks of the audit trail: thin wrappers around its services."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def audit_seal_checkpoints() -> int:
    """Beat: sign a checkpoint for every chain that grew (idempotent)."""
    from audit.services import checkpoint_seal

    return len(checkpoint_seal())


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def audit_export_run(export_id: int) -> bool:
    """Write one export's file. Safe to deliver twice: the run claims the export first, and
    a run on a dead worker's claim rewrites the file from scratch."""
    from audit.exports import audit_export_run as run

    return run(export_id=export_id)
