"""Celery tasks of the API's own machinery."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def idempotency_purge() -> int:
    """Daily: forget the answers kept for Idempotency-Keys past their lifetime; returns how
    many. Expired keys are already treated as new; this only keeps the table small."""
    from alliance import idempotency

    return idempotency.purge()


@shared_task(ignore_result=True)
def personal_tokens_purge() -> int:
    """Daily: delete people's API tokens past their expiry; returns how many. They are
    refused from the moment they expire; this only keeps the table small."""
    from alliance import personal_tokens

    return personal_tokens.purge_expired()
