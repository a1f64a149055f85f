"""The production web command (the Makefile's WEB_COMMAND: gunicorn, two worker processes):
/metrics adds up what every process counted, and gunicorn's own lines are JSON too."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.test_deployment import makefile_variables

ROOT = Path(__file__).resolve().parent.parent.parent
PORT = 18150  # this suite's port range (18100-18199)


def get(path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Path]:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", PORT)) == 0:
            pytest.skip(f"port {PORT} is taken")
    command = shlex.split(makefile_variables()["WEB_COMMAND"])
    command[command.index("--bind") + 1] = f"127.0.0.1:{PORT}"
    log = tmp_path / "gunicorn.log"
    environment = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "DJANGO_SETTINGS_MODULE": "alliance.settings",
        "DEBUG": "0",
        "SECRET_KEY": "gunicorn-test-" + "s" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 - the Makefile's own command
            command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield log
    finally:
        process.terminate()
        process.wait(timeout=30)


def not_found_count(body: bytes) -> float:
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == "alliance_http_requests_total" and sample.labels == {
                "route": "unmatched",
                "method": "GET",
                "status": "404",
            }:
                return sample.value
    return 0.0


def served_by(log: Path) -> dict[int, int]:
    """Requests for the test path per worker process, from the JSON access lines."""
    counts: dict[int, int] = {}
    for text in log.read_text().splitlines():
        line = json.loads(text) if text.startswith("{") else {}
        if line.get("logger") == "alliance.access" and line.get("path") == "/no/such/page/":
            counts[line["pid"]] = counts.get(line["pid"], 0) + 1
    return counts


def test_metrics_add_up_every_worker_process(gunicorn: Path) -> None:
    status, body = get("/metrics")
    assert status == 200
    before = not_found_count(body)
    # Concurrent requests, until both processes have answered some (bounded).
    sent = 0
    with ThreadPoolExecutor(max_workers=6) as pool:
        while len(served_by(gunicorn)) < 2 and sent < 300:
            assert set(pool.map(lambda _: get("/no/such/page/")[0], range(30))) == {404}
            sent += 30
    per_process = served_by(gunicorn)
    assert len(per_process) == 2, per_process
    assert sum(per_process.values()) == sent
    # Each process counted only its own; whichever answers the scrape reports them all.
    for _ in range(4):
        assert not_found_count(get("/metrics")[1]) == before + sent
