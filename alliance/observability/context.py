"""What a log line is about: the request being answered or the task being run.

One context variable, bound by ``RequestObservabilityMiddleware`` around each request and by
the ``task_prerun``/``task_postrun`` signals around each task. ``logs.ContextFilter`` reads it
for every record, and ``before_task_publish`` reads it to carry the request id into tasks.
The request itself is kept rather than copies of its fields, because its id and user are set
further down the stack (``AuditContextMiddleware``, authentication) after this is bound.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest


@dataclass(frozen=True)
class LogContext:
    request: HttpRequest | None = None
    request_id: str | None = None
    task_id: str | None = None
    task_name: str | None = None

    def current_request_id(self) -> str | None:
        if self.request_id is not None:
            return self.request_id
        return getattr(self.request, "request_id", None)


_current: contextvars.ContextVar[LogContext | None] = contextvars.ContextVar(
    "alliance_log_context", default=None
)


def current() -> LogContext | None:
    return _current.get()


def bind(context: LogContext) -> contextvars.Token[LogContext | None]:
    return _current.set(context)


def unbind(token: contextvars.Token[LogContext | None]) -> None:
    _current.reset(token)


def current_request_id() -> str | None:
    context = _current.get()
    return context.current_request_id() if context is not None else None
