"""Log records that say which request or task they belong to, as JSON lines or plain text.

``LOG_FORMAT=json`` (the default unless DEBUG) writes one JSON object a line for a log
shipper; ``plain`` is for a developer's terminal. Both carry the request id that the response
returns in ``X-Request-ID``, the user and path where known, and the task id and name inside a
Celery task (with the id of the request that enqueued it). This module imports nothing from
Django's settings, so the gunicorn master can use it before Django is set up.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.functional import LazyObject, empty
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

from alliance import env
from alliance.observability import context

FORMATS = ("json", "plain")
CONTEXT_FIELDS = ("request_id", "user_id", "path", "task_id", "task_name")


def log_format() -> str:
    """LOG_FORMAT from the environment: json unless DEBUG, where plain is easier to read."""
    value = env.string("LOG_FORMAT", "plain" if env.boolean("DEBUG", False) else "json")
    if value not in FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT={value!r} must be one of {', '.join(FORMATS)}.")
    return value


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """The ``LOGGING`` dictionary: one console handler, the chosen formatter, the context
    filter on the handler so every record that is written carries the context."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "alliance.observability.logs.ContextFilter"}},
        "formatters": {
            "plain": {"()": "alliance.observability.logs.PlainFormatter"},
            "json": {"()": "alliance.observability.logs.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            # WeasyPrint reports each step of each render at INFO: noise, not operations.
            "weasyprint": {"level": "WARNING"},
            "fontTools": {"level": "WARNING"},
        },
    }


def known_user_id(request: HttpRequest | None) -> str | None:
    """The id of the request's user if authentication has already resolved it.

    Never resolves it here: that would query the session and user tables from inside a log
    call. Session users are lazy until a view touches them; DRF sets token users directly.
    """
    if request is None:
        return None
    user = request.__dict__.get("user")
    if isinstance(user, LazyObject):
        user = user.__dict__.get("_wrapped", empty)
        if user is empty:
            return None
    pk = getattr(user, "pk", None)
    return None if pk is None else str(pk)


class ContextFilter(logging.Filter):
    """Stamps each record with the request and task it belongs to (``context.LogContext``).

    Outside the middleware's reach (Django logs a 4xx/5xx response after the middleware has
    returned) the record's own ``request`` attribute, which ``django.request`` passes, is used.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        bound = context.current()
        request = bound.request if bound is not None else None
        if request is None:
            extra = getattr(record, "request", None)
            request = extra if isinstance(extra, HttpRequest) else None
        request_id = bound.current_request_id() if bound is not None else None
        values = {
            "request_id": request_id or getattr(request, "request_id", None),
            "user_id": known_user_id(request),
            "path": request.path if request is not None else None,
            "task_id": bound.task_id if bound is not None else None,
            "task_name": bound.task_name if bound is not None else None,
        }
        for name, value in values.items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


class JsonFormatter(BaseJsonFormatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, pid, the context
    fields that are known, any ``extra`` fields, and the traceback as ``exc_info``."""

    def __init__(self) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}{process}",
            style="{",
            rename_fields={
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "process": "pid",
            },
            # The request object is summarised by the context fields; taskName is asyncio's.
            reserved_attrs=[*RESERVED_ATTRS, "request", "taskName", "color_message"],
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in log_data.items() if value is not None}


class PlainFormatter(logging.Formatter):
    """``time LEVEL logger message [request_id=… user_id=… …]`` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        known = [
            f"{name}={getattr(record, name)}"
            for name in CONTEXT_FIELDS
            if getattr(record, name, None) is not None
        ]
        if not known:
            return line
        first, newline, rest = line.partition("\n")
        return f"{first} [{' '.join(known)}]{newline}{rest}"
