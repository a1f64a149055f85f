"""The Redis in REDIS_URL as the probes, heartbeats and task metrics use it.

Short timeouts: a probe or a scrape must answer "Redis is not there" in about a second, not
hang with it. One client (and so one connection pool) per URL and process; redis-py resets a
pool that crosses a fork.
"""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings

TIMEOUT_SECONDS = 1.0


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
    )


def redis_client() -> redis.Redis | None:
    """A client for REDIS_URL, or None without it (the quick start: SQLite, eager tasks)."""
    url: str | None = settings.REDIS_URL
    return None if url is None else _client(url)
