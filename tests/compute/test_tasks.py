"""The daily fair-share sweep, run by a real Celery worker on Redis."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from celery.worker import state as worker_state
from django.core import mail
from django.utils import timezone

from compute import shares, usage
from compute.models import FairShareAlert
from compute.tasks import fair_share_alerts
from tests.compute.conftest import make_grid
from tests.conftest import World, requires_redis
from tests.consortia.test_tasks import wait_for

pytestmark = [requires_redis, pytest.mark.celery_integration]


def test_the_daily_sweep_raises_an_overuse_alert_once(
    committed_db: None, world: World, celery_app: Any, celery_worker: Any
) -> None:
    grid = make_grid(world)
    today = timezone.localdate()
    for organisation, amount in ((world.org_chair, "100"), (world.org_member, "300")):
        shares.contribution_record(
            actor=world.chair,
            pool=grid.pool,
            organisation=organisation,
            kind="capital",
            amount=Decimal(amount),
            contributed_on=today - datetime.timedelta(days=30),
        )
    # Chair Org holds a quarter of the pool and uses everything: four times its share.
    usage.usage_ingest(
        actor=grid.technician,
        pool=grid.pool,
        rows=[
            {
                "organisation": world.org_chair.pk,
                "site": grid.paris.pk,
                "day": today - datetime.timedelta(days=1),
                "gpu_hours": "200",
            }
        ],
    )
    mail.outbox.clear()
    runs = worker_state.total_count.get(fair_share_alerts.name, 0)
    fair_share_alerts.delay()
    wait_for(FairShareAlert.objects.exists)
    alert = FairShareAlert.objects.get()
    assert (alert.organisation, alert.kind, alert.ratio) == (world.org_chair, "overuse", Decimal(4))
    wait_for(lambda: bool(mail.outbox))  # the representatives and the board hear of it
    # The second run finds the alert open and raises nothing (run to the end: .get() waits).
    assert fair_share_alerts.apply_async(ignore_result=False).get(timeout=30) == 0
    assert worker_state.total_count[fair_share_alerts.name] == runs + 2
    assert FairShareAlert.objects.count() == 1, "an open alert is not raised twice"
