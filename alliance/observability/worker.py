"""Celery's side: the request id travels with each task, task logs say which task they are
from, finished tasks are counted, and workers beat (``heartbeat.WorkerHeartbeat``).

``install(app)`` is called for the project's app in alliance/celery.py (and for the test app
by tests/conftest.py). The signal receivers below are global to Celery, so they also serve
tasks run in-process (eager) by the quick start and the tests.
"""

from __future__ import annotations

import logging.config
import time
from contextvars import Token
from typing import Any

from celery import Celery
from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun

from alliance.observability import context, metrics
from alliance.observability.heartbeat import WorkerHeartbeat

# The message header that carries the id of the request that enqueued a task.
REQUEST_ID_HEADER = "alliance_request_id"

# Task id → (log context token, start time), between task_prerun and task_postrun. Both run
# in the thread that runs the task.
_running: dict[str, tuple[Token[context.LogContext | None], float]] = {}


def install(app: Celery) -> None:
    app.steps["consumer"].add(WorkerHeartbeat)


@setup_logging.connect
def _use_django_logging(**_: Any) -> None:
    """Workers and beat log through Django's LOGGING (LOG_FORMAT, LOG_LEVEL, the context
    filter) instead of Celery's own formats; connecting here tells Celery to leave logging
    alone."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@before_task_publish.connect
def _carry_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = context.current_request_id()
    if request_id is not None and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@task_prerun.connect
def _task_started(task_id: str, task: Any, **_: Any) -> None:
    # Eager tasks are never published: they run inside the request, whose id is still bound.
    request_id = getattr(task.request, REQUEST_ID_HEADER, None) or context.current_request_id()
    token = context.bind(
        context.LogContext(request_id=request_id, task_id=task_id, task_name=task.name)
    )
    _running[task_id] = (token, time.monotonic())


@task_postrun.connect
def _task_finished(task_id: str, task: Any, state: str | None = None, **_: Any) -> None:
    started = _running.pop(task_id, None)
    if started is None:
        return
    token, started_at = started
    context.unbind(token)
    metrics.record_task(task.name, state or "other", time.monotonic() - started_at)
