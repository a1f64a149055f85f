"""Gunicorn settings for ``make web`` and the compose web service (``--config``).

Several worker processes answer requests, so prometheus_client runs in multiprocess mode:
each process writes its metrics to files in PROMETHEUS_MULTIPROC_DIR and /metrics adds them
up. Set the variable to a directory of the web process's own (a tmpfs in a container), or
leave it unset and a fresh temporary directory is used. It must not be shared with another
gunicorn: its files are wiped when gunicorn starts. Gunicorn's own messages use the same
format as Django's (LOG_FORMAT).

It lives outside the ``alliance`` package on purpose: importing that package imports
prometheus_client, which reads PROMETHEUS_MULTIPROC_DIR once, on import, so the variable
must be set before.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

_created_directory = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _created_directory:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="alliance-metrics-")
METRICS_DIRECTORY = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])

from alliance import env  # noqa: E402  (after the variable: see above)
from alliance.observability import logs  # noqa: E402

_logging = logs.logging_config(logs.log_format(), env.string("LOG_LEVEL", "INFO"))
_logging["loggers"]["gunicorn.error"] = {"level": "INFO", "propagate": True}
logconfig_dict = _logging


def on_starting(server: Any) -> None:
    """Counters from a previous run would otherwise be added to this one's."""
    METRICS_DIRECTORY.mkdir(parents=True, exist_ok=True)
    for stale in METRICS_DIRECTORY.glob("*.db"):
        stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    if _created_directory:
        shutil.rmtree(METRICS_DIRECTORY, ignore_errors=True)
