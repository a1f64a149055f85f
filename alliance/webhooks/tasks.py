"""Celery tasks of webhooks: thin wrappers around the delivery services."""

from __future__ import annotations

from celery import shared_task


# Late acknowledgement: a worker killed mid-run leaves the task on the queue, and the next
# run claims only messages still pending (services.messages_deliver), so none is sent twice
# by a second run; one the dead worker had sent may be (receivers deduplicate on webhook-id).
@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def webhooks_deliver(endpoint_id: int) -> int:
    """Send an endpoint's due messages; returns how many were attempted."""
    from alliance.webhooks import services

    return services.messages_deliver(endpoint_id=endpoint_id).attempted


@shared_task(ignore_result=True)
def webhooks_sweep() -> int:
    """Every minute: retries that came due, messages of a worker that died, and fan-outs
    lost with the process that committed their change."""
    from alliance.webhooks import services

    return services.messages_sweep()
