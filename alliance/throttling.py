"""Rate limits on the API: so many requests a minute per person, counted in the shared cache
(Redis in production), answered 429 with Retry-After. (An endpoint open to anonymous callers
counts them by address; elsewhere they are refused with 401 before they count.)

A fixed one-minute window with one atomic INCR per request: DRF's stock throttles keep every
request's time in a list that is read and rewritten on each call, which costs more the higher
the limit. Each worker process counts in the same Redis, so the limit holds however many
processes serve the API.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

WINDOW = 60


def counter_key(caller: str, now: float) -> str:
    """The cache key counting ``caller``'s requests in the minute of ``now``."""
    return f"ratelimit:{caller}:{int(now // WINDOW)}"


class PerMinute(BaseThrottle):
    """``settings.API_RATE_LIMIT_PER_MINUTE`` requests per caller per minute; 0 turns the
    limit off."""

    def __init__(self) -> None:
        self.retry_in = 0.0

    def allow_request(self, request: Request, view: Any) -> bool:
        limit = int(getattr(settings, "API_RATE_LIMIT_PER_MINUTE", 0))
        if limit <= 0:
            return True
        user = request.user
        caller = (
            f"user:{user.pk}" if user.is_authenticated else f"address:{self.get_ident(request)}"
        )
        now = time.time()
        window = int(now // WINDOW)
        key = counter_key(caller, now)
        # add() creates the counter only if absent; incr() is atomic in Redis.
        cache.add(key, 0, timeout=WINDOW + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=WINDOW + 5)
            count = 1
        self.retry_in = (window + 1) * WINDOW - now
        return bool(count <= limit)

    def wait(self) -> float:
        return max(1.0, self.retry_in)
