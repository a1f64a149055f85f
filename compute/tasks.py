"""Celery tasks of shared compute: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def fair_share_alerts() -> int:
    """Daily: raise (and clear) fair-share alerts in every pool; returns how many were raised.
    Each pool is checked in its own transaction, and an open alert is never raised twice."""
    from compute import fairshare
    from compute.models import Pool

    return sum(len(fairshare.check_alerts(pool)) for pool in Pool.objects.all())
