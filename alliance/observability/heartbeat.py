"""Celery workers say they are alive; /readyz asks whether any said so recently.

Each worker's consumer runs ``WorkerHeartbeat``, a bootstep on the worker's own timer (as
Celery's event heartbeat does), which writes the time into a Redis sorted set keyed by the
worker's hostname every WORKER_HEARTBEAT_INTERVAL seconds. Because the timer runs in the
consumer's event loop, a worker whose loop is stuck or which lost its broker stops beating,
which is what readiness should notice. A worker shut down cleanly removes its entry.
Times are the hosts' own clocks: keep them in sync (NTP), as TLS and the audit trail need.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import redis
from celery import bootsteps
from django.conf import settings

from alliance.observability.store import redis_client

logger = logging.getLogger(__name__)

HEARTBEATS_KEY = "alliance:celery:heartbeats"
# Entries of workers that vanished without a clean shutdown are dropped after a day.
FORGET_AFTER_SECONDS = 24 * 3600


def record(client: redis.Redis, hostname: str, now: float) -> None:
    with client.pipeline(transaction=False) as pipeline:
        pipeline.zadd(HEARTBEATS_KEY, {hostname: now})
        pipeline.zremrangebyscore(HEARTBEATS_KEY, "-inf", now - FORGET_AFTER_SECONDS)
        pipeline.execute()


@dataclass(frozen=True)
class Workers:
    fresh: int
    freshest_age: float | None


def workers(client: redis.Redis, max_age: float, now: float) -> Workers:
    """How many workers beat within ``max_age`` seconds, and the age of the freshest beat."""
    with client.pipeline(transaction=False) as pipeline:
        pipeline.zcount(HEARTBEATS_KEY, now - max_age, "+inf")
        pipeline.zrevrange(HEARTBEATS_KEY, 0, 0, withscores=True)
        fresh, freshest = pipeline.execute()
    age = max(0.0, now - float(freshest[0][1])) if freshest else None
    return Workers(fresh=int(fresh), freshest_age=age)


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Consumer bootstep: beat once on start, then every WORKER_HEARTBEAT_INTERVAL seconds."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.timer_entry: Any = None
        self.hostname = ""

    def start(self, parent: Any) -> None:
        if redis_client() is None:
            return
        self.hostname = parent.hostname
        self.beat()
        self.timer_entry = parent.timer.call_repeatedly(
            settings.WORKER_HEARTBEAT_INTERVAL, self.beat, priority=10
        )

    def beat(self) -> None:
        client = redis_client()
        if client is None:
            return
        try:
            record(client, self.hostname, time.time())
        except redis.RedisError:
            logger.warning("could not record the worker heartbeat", exc_info=True)

    def stop(self, parent: Any) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None
        client = redis_client()
        if client is None or not self.hostname:
            return
        try:
            client.zrem(HEARTBEATS_KEY, self.hostname)
        except redis.RedisError:
            logger.warning("could not remove the worker heartbeat", exc_info=True)

    shutdown = stop
