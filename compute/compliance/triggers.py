"""Sweep at once when something a decision rests on changes: an agreement version executed or
superseded, an agreement expired or terminated, an approval revoked, a certificate or exposure
recorded, a transfer basis changed, a membership ended.

Model signals rather than calls from the services, so the lower apps (agreements, consortia)
need not know compute exists. Each change queues a sweep of its consortium on commit, and only
for consortia with live jobs, running grants or placed data sets; directory changes
(certificates, exposures, transfer bases) reach every such consortium.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone


def _consortia_with_live_items(consortium_id: int | None) -> list[int]:
    """Consortia with something a sweep holds to the rules: a live job, a running grant or a
    data set placed somewhere."""
    from compute.compliance.sweeps import live_allocations, live_jobs, live_placements

    now = timezone.now()
    found: set[int] = set()
    for live in (live_jobs, live_allocations, live_placements):
        items = live(consortium_id, now)
        found |= set(items.values_list("consortium_id", flat=True).distinct())
    return sorted(found)


def _queue(consortium_id: int | None) -> None:
    # Not deduplicated: a change saved several times queues several sweeps, which are
    # idempotent and take turns on each job's lock (a set of pending ids would leak when a
    # transaction rolls back and its on-commit callbacks never run).
    for target in _consortia_with_live_items(consortium_id):
        queue_sweep(target)


def queue_sweep(consortium_id: int) -> None:
    """Sweep the consortium once the current transaction commits. Robust: the change stands
    whether or not the broker takes the sweep; the hourly sweep catches up."""
    transaction.on_commit(_sender(consortium_id), robust=True)


def _sender(consortium_id: int) -> Any:
    def sweep_consortium_on_commit() -> None:
        from compute.tasks import compliance_sweep_consortium

        compliance_sweep_consortium.delay(consortium_id)

    return sweep_consortium_on_commit


def _of_consortium(sender: Any, instance: Any, **kwargs: Any) -> None:
    _queue(instance.consortium_id)


def _of_agreement(sender: Any, instance: Any, **kwargs: Any) -> None:
    _queue(instance.agreement.consortium_id)


def _of_directory(sender: Any, instance: Any, **kwargs: Any) -> None:
    _queue(None)


def connect() -> None:
    from agreements.models import Agreement, AgreementVersion
    from compute.compliance.models import TransferBasis
    from compute.models import Approval, Certification, Exposure
    from consortia.models import Membership

    for owned in (Agreement, Approval, Membership):
        post_save.connect(_of_consortium, sender=owned, dispatch_uid=f"compliance-{owned}")
    post_save.connect(_of_agreement, sender=AgreementVersion, dispatch_uid="compliance-version")
    for shared in (Certification, Exposure, TransferBasis):
        post_save.connect(_of_directory, sender=shared, dispatch_uid=f"compliance-{shared}")
