"""Readiness: can this deployment do its work now? Database, Redis, and a live Celery worker.

Each check answers ``ok``, ``failed`` or ``not configured`` (no REDIS_URL: the quick start
runs tasks in-process and has no Redis to check) with its latency. The answer names no host,
URL or exception: it is public. Why a check failed goes to the log instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings
from django.db import connections

from alliance.observability import heartbeat
from alliance.observability.store import redis_client

logger = logging.getLogger(__name__)

OK, FAILED, NOT_CONFIGURED = "ok", "failed", "not configured"
Result = dict[str, Any]


def _timed(check: Callable[[], Result]) -> Result:
    started = time.perf_counter()
    result = check()
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _database() -> Result:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.warning("readiness: the database check failed", exc_info=True)
        return {"status": FAILED, "detail": "database unreachable"}
    return {"status": OK}


def _redis(client: redis.Redis) -> Result:
    try:
        client.ping()
    except redis.RedisError:
        logger.warning("readiness: the Redis check failed", exc_info=True)
        return {"status": FAILED, "detail": "Redis unreachable"}
    return {"status": OK}


def _worker(client: redis.Redis) -> Result:
    max_age = settings.WORKER_HEARTBEAT_MAX_AGE
    try:
        found = heartbeat.workers(client, max_age, time.time())
    except redis.RedisError:
        logger.warning("readiness: reading worker heartbeats failed", exc_info=True)
        return {"status": FAILED, "detail": "Redis unreachable"}
    result: Result = {
        "status": OK if found.fresh else FAILED,
        "workers": found.fresh,
        "max_age_seconds": max_age,
    }
    if found.freshest_age is not None:
        result["last_heartbeat_seconds_ago"] = round(found.freshest_age, 1)
    if not found.fresh:
        result["detail"] = f"no Celery worker heartbeat in the last {max_age} s"
    return result


def readiness() -> tuple[bool, dict[str, Result]]:
    checks = {"database": _timed(_database)}
    client = redis_client()
    if client is None:
        checks["redis"] = {"status": NOT_CONFIGURED}
        checks["worker"] = {"status": NOT_CONFIGURED}
    else:
        checks["redis"] = _timed(lambda: _redis(client))
        if checks["redis"]["status"] == OK:
            checks["worker"] = _timed(lambda: _worker(client))
        else:
            # Without Redis there is nothing to read heartbeats from; don't wait on it twice.
            checks["worker"] = {"status": FAILED, "detail": "Redis unreachable"}
    ready = all(check["status"] != FAILED for check in checks.values())
    return ready, checks
