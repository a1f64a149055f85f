"""Prometheus metrics: HTTP requests, Celery tasks, queue depth and live workers.

Where each number lives, and why:

- HTTP requests are counted in the web process that answered them, with prometheus_client.
  Gunicorn runs several worker processes, so ``alliance/gunicorn_config.py`` turns on its
  multiprocess mode (PROMETHEUS_MULTIPROC_DIR): every process writes to its own memory-mapped
  file and /metrics adds them up, whichever process answers the scrape.
- Celery tasks run in other processes, often in other containers or hosts, and prefork
  children are replaced every ``--max-tasks-per-child`` tasks. Files per process would pile up
  (one set per child, forever) and would not be visible to the web container. So each task's
  outcome and runtime are added to one Redis hash (one pipelined round trip per task) and
  /metrics reads it at scrape time: one scrape target for the whole deployment, no files.
  Redis-held counters only grow; if Redis loses them, Prometheus sees an ordinary reset.
- Queue depth and live workers are read from Redis at scrape time as well.

Labels stay bounded: routes are URL names (``api:consortium-detail``), never raw paths;
methods outside the standard set become ``other``; tasks are the registered task names.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Iterable, Iterator

import redis
from django.conf import settings
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from alliance.observability import heartbeat
from alliance.observability.store import redis_client

logger = logging.getLogger(__name__)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUESTS = Counter(
    "alliance_http_requests",
    "HTTP requests answered, by URL name, method and status code.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "alliance_http_request_duration_seconds",
    "Time from the request entering Django to the response leaving it, by URL name and method.",
    ["route", "method"],
)

TASKS_KEY = "alliance:metrics:celery-tasks"
TASK_OUTCOMES = frozenset({"success", "failure", "retry", "ignored", "rejected", "revoked"})
TASK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, math.inf)


def _bound_label(bound: float) -> str:
    return "+Inf" if bound == math.inf else repr(bound)


def record_request(route: str, method: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "other"
    HTTP_REQUESTS.labels(route=route, method=method, status=str(status)).inc()
    HTTP_DURATION.labels(route=route, method=method).observe(seconds)


def record_task(name: str, state: str, seconds: float) -> None:
    """Add one finished task to the Redis-held counters; a metrics failure never fails it."""
    client = redis_client()
    if client is None:
        return
    outcome = state.lower() if state.lower() in TASK_OUTCOMES else "other"
    bound = next(bucket for bucket in TASK_BUCKETS if seconds <= bucket)
    try:
        with client.pipeline(transaction=False) as pipeline:
            pipeline.hincrby(TASKS_KEY, f"count|{name}|{outcome}", 1)
            pipeline.hincrby(TASKS_KEY, f"bucket|{name}|{_bound_label(bound)}", 1)
            pipeline.hincrbyfloat(TASKS_KEY, f"sum|{name}", seconds)
            pipeline.execute()
    except redis.RedisError:
        logger.warning("could not record the metrics of task %s", name, exc_info=True)


def celery_queue_names() -> list[str]:
    from alliance.celery import app

    names = {app.conf.task_default_queue}
    names.update(queue.name for queue in app.conf.task_queues or ())
    return sorted(names)


def _redis_queue_keys(queue: str) -> list[str]:
    # kombu's Redis transport keeps one list per queue, plus one per priority step when
    # messages carry a priority (kombu.transport.redis: sep "\x06\x16", steps 3, 6, 9).
    return [queue, *(f"{queue}\x06\x16{step}" for step in (3, 6, 9))]


class CeleryCollector(Collector):
    """Read at scrape time from Redis: task counters, queue lengths, live workers."""

    def collect(self) -> Iterable[Metric]:
        client = redis_client()
        if client is None:
            return
        queues = celery_queue_names()
        try:
            with client.pipeline(transaction=False) as pipeline:
                pipeline.hgetall(TASKS_KEY)
                for queue in queues:
                    for key in _redis_queue_keys(queue):
                        pipeline.llen(key)
                replies = pipeline.execute()
            workers = heartbeat.workers(client, settings.WORKER_HEARTBEAT_MAX_AGE, time.time())
        except redis.RedisError:
            logger.warning("metrics: Redis could not be read", exc_info=True)
            yield GaugeMetricFamily("alliance_redis_up", "Whether Redis answered the scrape.", 0)
            return
        yield GaugeMetricFamily("alliance_redis_up", "Whether Redis answered the scrape.", 1)
        yield from _task_families(replies[0])
        lengths = GaugeMetricFamily(
            "alliance_celery_queue_length",
            "Messages waiting in each Celery queue (not yet taken by a worker).",
            labels=["queue"],
        )
        steps = len(_redis_queue_keys(""))
        for index, queue in enumerate(queues):
            start = 1 + index * steps
            lengths.add_metric([queue], sum(replies[start : start + steps]))
        yield lengths
        yield GaugeMetricFamily(
            "alliance_celery_workers",
            "Celery workers whose heartbeat is fresher than WORKER_HEARTBEAT_MAX_AGE.",
            workers.fresh,
        )


def _task_families(fields: dict[bytes, bytes]) -> Iterator[Metric]:
    counts = CounterMetricFamily(
        "alliance_celery_tasks",
        "Celery tasks finished, by task name and outcome.",
        labels=["task", "outcome"],
    )
    buckets: dict[str, dict[float, int]] = {}
    sums: dict[str, float] = {}
    for raw_field, raw_value in sorted(fields.items()):
        kind, _, rest = raw_field.decode().partition("|")
        name, _, label = rest.partition("|")
        if kind == "count":
            counts.add_metric([name, label], int(raw_value))
        elif kind == "bucket":
            buckets.setdefault(name, {})[float(label.replace("+Inf", "inf"))] = int(raw_value)
        elif kind == "sum":
            sums[name] = float(raw_value)
    yield counts
    durations = HistogramMetricFamily(
        "alliance_celery_task_duration_seconds",
        "Time a Celery task ran, by task name.",
        labels=["task"],
    )
    for name, per_bucket in sorted(buckets.items()):
        cumulative, series = 0, []
        for bound in TASK_BUCKETS:
            cumulative += per_bucket.get(bound, 0)
            series.append((_bound_label(bound), float(cumulative)))
        durations.add_metric([name], series, sum_value=sums.get(name, 0.0))
    yield durations


class _ThisProcess(Collector):
    """The default registry (this process's metrics and its process/GC collectors)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def exposition() -> bytes:
    """The text exposition format for one scrape: this process's metrics, or with several
    processes (PROMETHEUS_MULTIPROC_DIR) all of theirs, plus what Redis holds."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ThisProcess())
    registry.register(CeleryCollector())
    return generate_latest(registry)
