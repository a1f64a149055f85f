"""Log lines carry the request id that the response returns, the user and path, and inside a
task the task's id and name with the id of the request that enqueued it."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from alliance.observability import logs
from tests.conftest import World

LogLines = Callable[[], list[dict[str, Any]]]
ROOT = Path(__file__).resolve().parent.parent.parent
API = "/api/v1"


def test_a_request_logs_json_with_the_id_in_its_response_header(
    world: World, browser_as: Any, log_lines: LogLines
) -> None:
    response = browser_as(world.chair).get(f"/consortia/{world.consortium_a.pk}/")
    assert response.status_code == 200
    (access,) = [line for line in log_lines() if line["logger"] == "alliance.access"]
    assert access["request_id"] == response["X-Request-ID"]
    assert access["user_id"] == str(world.chair.pk)
    assert access["path"] == f"/consortia/{world.consortium_a.pk}/"
    assert (access["route"], access["method"], access["status"]) == ("consortia:detail", "GET", 200)
    assert access["level"] == "INFO"
    assert access["time"].endswith("+00:00")


def test_django_error_lines_carry_the_request_id_too(
    db: Any, client: Any, log_lines: LogLines
) -> None:
    """Django logs a 4xx/5xx after every middleware has returned; the id still reaches it."""
    response = client.get("/no/such/page/")
    (warning,) = [line for line in log_lines() if line["logger"] == "django.request"]
    assert warning["message"] == "Not Found: /no/such/page/"
    assert warning["request_id"] == response["X-Request-ID"]
    assert "request" not in warning, "the request object is summarised, not dumped"


def test_an_eager_task_logs_with_the_request_that_ran_it(
    committed_db: None, world: World, api_as: Any, log_lines: LogLines
) -> None:
    """The quick start runs tasks in-process at commit, inside the request."""
    response = api_as(world.chair).post(
        f"{API}/memberships/",
        {"consortium": world.consortium_a.pk, "organisation": world.org_candidate.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    (task_line,) = [line for line in log_lines() if line["logger"] == "consortia.tasks"]
    assert task_line["task_name"] == "consortia.tasks.membership_invitation_notify"
    assert task_line["task_id"]
    assert task_line["request_id"] == response["X-Request-ID"]


def test_outside_requests_and_tasks_no_context_is_invented(log_lines: LogLines) -> None:
    logging.getLogger("tests.observability").warning("from a command")
    (line,) = log_lines()
    assert line["message"] == "from a command"
    assert not {"request_id", "user_id", "path", "task_id", "task_name"} & set(line)


def test_the_plain_format_appends_the_context() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    record.request_id, record.user_id = "abc123", "7"
    line = logs.PlainFormatter().format(record)
    assert line.endswith("INFO x hello there [request_id=abc123 user_id=7]")


@pytest.mark.parametrize(
    ("environment", "expected"),
    [({}, "json"), ({"DEBUG": "1"}, "plain"), ({"DEBUG": "1", "LOG_FORMAT": "json"}, "json")],
)
def test_json_is_the_default_unless_debug(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], expected: str
) -> None:
    monkeypatch.delenv("DEBUG", raising=False)
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert logs.log_format() == expected


def test_an_unknown_log_format_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT='xml' must be one of json, plain"):
        logs.log_format()


def test_a_management_command_logs_json_lines() -> None:
    """The configured process, not a test double: stderr of a real manage.py run."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, logging; django.setup(); "
            "logging.getLogger('alliance.probe').warning('hello')",
        ],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (line,) = [json.loads(text) for text in result.stderr.splitlines() if "alliance.probe" in text]
    assert (line["logger"], line["level"], line["message"]) == (
        "alliance.probe",
        "WARNING",
        "hello",
    )
