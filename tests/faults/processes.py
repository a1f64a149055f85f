"""Processes a fault test starts and kills: Celery workers and a Redis server of its own.

Each runs in a session of its own (its own process group), so a test kills exactly what it
started, parent and pool processes together, and nothing else on the machine.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]
# The ports this suite's helper processes may take (the machine's other suites use others).
PORTS = range(18400, 18500)
WAIT_SECONDS = 60.0


def wait_for(condition: Callable[[], bool], what: str, seconds: float = WAIT_SECONDS) -> None:
    """Poll until ``condition()`` holds; fail naming ``what`` when it never does."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


class Group:
    """A process started in a session of its own, with its output in a log file."""

    def __init__(self, command: list[str], log: Path, env: dict[str, str]) -> None:
        self.log = log
        with log.open("ab") as output:
            self.process = subprocess.Popen(  # noqa: S603 - our own binaries, no shell
                command,
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole group: nothing gets to clean up, as when a machine dies."""
        if self.running():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self, seconds: float = 20) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL if it does not end."""
        if self.running():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(seconds)
            except subprocess.TimeoutExpired:
                self.kill()


class Worker(Group):
    """``celery -A alliance worker`` with prefork, one pool process, on one queue."""

    def __init__(self, name: str, log: Path, env: dict[str, str]) -> None:
        celery = str(Path(sys.executable).with_name("celery"))
        super().__init__(
            [
                celery,
                "-A",
                "alliance",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                f"--queues={env['FAULTS_QUEUE']}",
                f"--hostname={name}@%h",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            log,
            env,
        )
        wait_for(lambda: " ready." in self.output() or not self.running(), f"worker {name}")
        if not self.running():
            raise AssertionError(f"worker {name} did not start:\n{self.output()}")


class RedisServer:
    """A redis-server that writes every command to its append-only file before answering
    (``appendfsync always``), as production must run it, so that a restart loses nothing."""

    BINARY = "/usr/bin/redis-server"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.group: Group | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.group = Group(
            [
                self.BINARY,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            self.folder / "redis.log",
            dict(os.environ),
        )
        wait_for(self._answers, f"redis-server on port {self.port}")

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.ConnectionError:
            return False

    def restart(self) -> None:
        """SHUTDOWN (which flushes the append-only file), then start again from the same
        folder, which reloads it."""
        assert self.group is not None
        with contextlib.suppress(redis.ConnectionError):  # the server hangs up as it goes
            self.client().shutdown()
        self.group.process.wait(WAIT_SECONDS)
        self.start()

    def kill(self) -> None:
        if self.group is not None:
            self.group.kill()
