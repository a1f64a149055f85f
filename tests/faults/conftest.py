"""Fixtures of the fault tests: workers and Redis servers started as processes of their
own, on this session's test database, and always killed when the test ends."""

from __future__ import annotations

import importlib
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests.faults.processes import Group, RedisServer, Worker
from tests.webhooks.conftest import hooks, receiver  # noqa: F401 - fixtures, used by name

# Imported before any test app exists: celery.contrib.pytest forgets, when a test's app is
# torn down, the shared tasks first imported during that test, and the next test's app would
# not know them (NotRegistered when the service queues one).
for module in ("agreements.tasks", "alliance.webhooks.tasks"):
    importlib.import_module(module)


class Faults:
    """Starts workers and Redis servers for one test, and kills each at its end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[Group | RedisServer] = []

    def worker(
        self,
        *,
        queue: str,
        broker: str | None = None,
        hold_dir: Path | None = None,
        visibility_timeout: int | None = None,
        extra: dict[str, str] | None = None,
    ) -> Worker:
        database = connection.settings_dict
        name = f"faults-{uuid.uuid4().hex[:8]}"
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "tests.faults.worker_settings",
                # The test database pytest made, which the worker must share.
                "DATABASE_URL": (
                    f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}"
                    f"/{database['NAME']}"
                ),
                "REDIS_URL": broker or str(settings.TEST_REDIS_URL),
                "FAULTS_QUEUE": queue,
                "FAULTS_MEDIA_ROOT": str(settings.MEDIA_ROOT),
                "FAULTS_SIGNING_DEMO_DIR": str(settings.SIGNING_DEMO_DIR),
                "FAULTS_AUDIT_SIGNING_KEY_PATH": str(settings.AUDIT_SIGNING_KEY_PATH),
                "FAULTS_AUDIT_EXPORT_ROOT": str(settings.AUDIT_EXPORT_ROOT),
            }
        )
        if database.get("PASSWORD"):
            env["PGPASSWORD"] = str(database["PASSWORD"])
        if hold_dir is not None:
            env["FAULTS_HOLD_DIR"] = str(hold_dir)
        if visibility_timeout is not None:
            env["FAULTS_VISIBILITY_TIMEOUT"] = str(visibility_timeout)
        env.update(extra or {})
        worker = Worker(name, self.folder / f"{name}.log", env)
        self.started.append(worker)
        return worker

    def redis(self) -> RedisServer:
        folder = self.folder / f"redis-{uuid.uuid4().hex[:8]}"
        folder.mkdir()
        server = RedisServer(folder)
        self.started.append(server)
        return server

    def close(self) -> None:
        for started in reversed(self.started):
            started.kill()


@pytest.fixture
def faults(tmp_path: Path) -> Iterator[Faults]:
    started = Faults(tmp_path)
    try:
        yield started
    finally:
        started.close()


@pytest.fixture
def broker_app(celery_app: Any) -> Any:
    """The test Celery app (tests/conftest.py: a queue of this session's own, never eager),
    made current, so that the application's own ``.delay()`` calls reach the broker and the
    worker that a test starts on that queue. celery.contrib.pytest restores the previous
    app when the test ends."""
    celery_app.set_current()
    celery_app.set_default()
    return celery_app


class Summary(dict[str, object]):
    """The numbers a fault test measured, printed as one PASS or FAIL line when it ends (run
    with -s to see it). The assertions decide; the line reports what they saw."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[_OUTCOME] = report.passed


_OUTCOME = pytest.StashKey[bool]()


@pytest.fixture
def summary(request: pytest.FixtureRequest) -> Iterator[Summary]:
    numbers = Summary()
    yield numbers
    verdict = "PASS" if request.node.stash.get(_OUTCOME, False) else "FAIL"
    measured = ", ".join(f"{name}={value}" for name, value in numbers.items())
    sys.stdout.write(f"\n{verdict} fault {request.node.name}: {measured}\n")
