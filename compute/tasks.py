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


@shared_task(ignore_result=True)
def compliance_sweep() -> int:
    """Hourly: re-evaluate every live job, running grant and placed data set of every
    consortium; returns findings opened."""
    from compute.compliance import sweeps

    return sweeps.sweep_all().opened


@shared_task(ignore_result=True, acks_late=True)
def compliance_sweep_consortium(consortium_id: int) -> int:
    """At once, when something a decision rests on changes in a consortium. Idempotent: a
    re-delivered or overlapping run opens nothing twice."""
    from compute.compliance import sweeps

    return sweeps.sweep_consortium(consortium_id).opened
