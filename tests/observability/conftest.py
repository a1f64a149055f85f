"""What the observability tests share: the log lines the configured handler writes, and a
Redis that no one listens on."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from alliance.observability import heartbeat, logs
from alliance.observability.store import redis_client

# In this helper's port range and never listened on: Redis "down".
DEAD_REDIS_URL = "redis://127.0.0.1:18199/0"


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The JSON lines that settings.LOGGING's console handler writes during the test (its
    filter as configured, JSON even if LOG_FORMAT=plain, its stream swapped for a buffer)."""
    (handler,) = (h for h in logging.getLogger().handlers if h.get_name() == "console")
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous_stream, previous_formatter = handler.setStream(buffer), handler.formatter
    handler.setFormatter(logs.JsonFormatter())
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        handler.setStream(previous_stream)
        handler.setFormatter(previous_formatter)


@pytest.fixture
def no_heartbeats() -> Iterator[None]:
    """No worker has beaten (this Redis db is the test run's own)."""
    client = redis_client()
    assert client is not None
    client.delete(heartbeat.HEARTBEATS_KEY)
    yield
    client.delete(heartbeat.HEARTBEATS_KEY)
