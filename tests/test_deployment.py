"""docker-compose.yml cannot run here (no Docker engine), so check what can be checked: it
parses, it has the stack, and its processes run the Makefile's commands."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def makefile_variables() -> dict[str, str]:
    variables = {}
    for line in (ROOT / "Makefile").read_text().splitlines():
        match = re.match(r"^([A-Z_]+) :?= (.+)$", line)
        if match:
            variables[match.group(1)] = match.group(2).strip()
    return variables


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def test_compose_has_the_full_stack() -> None:
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(compose()["services"])


def test_compose_processes_run_the_makefile_commands() -> None:
    services, variables = compose()["services"], makefile_variables()
    assert services["web"]["command"] == variables["WEB_COMMAND"]
    assert services["worker"]["command"] == variables["WORKER_COMMAND"]
    assert services["beat"]["command"] == variables["BEAT_COMMAND"]
    for target, variable in (
        ("web", "WEB_COMMAND"),
        ("worker", "WORKER_COMMAND"),
        ("beat", "BEAT_COMMAND"),
    ):
        assert (
            f"$(BIN)/$({variable})"
            in (ROOT / "Makefile").read_text().split(f"\n{target}: install\n", 1)[1].split("\n")[0]
        )


def test_compose_app_services_are_production_configured() -> None:
    services = compose()["services"]
    for name in ("web", "worker", "beat", "migrate"):
        environment = services[name]["environment"]
        assert environment["DEBUG"] == "0"
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"].startswith("redis://")
        assert "SECRET_KEY_FILE" in environment, (
            "the secret comes from a file, never the compose file"
        )


def test_compose_web_health_check_asks_the_liveness_probe() -> None:
    """It runs inside the container by address over plain HTTP: /healthz is answered ahead
    of host validation and the HTTPS redirect (tests/observability/test_probes.py)."""
    from alliance.observability.middleware import operations_paths

    check = compose()["services"]["web"]["healthcheck"]["test"]
    (url,) = re.findall(r"http://127\.0\.0\.1:8000(/[a-z]*)", " ".join(check))
    assert url == "/healthz"
    assert url in operations_paths()
