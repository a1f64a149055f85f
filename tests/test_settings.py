"""Start-up configuration: bad or missing values stop the process with a message naming them,
and the documented production values pass Django's deployment checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from alliance import env

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 30 + "0123456789abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "alliance.example.eu",
    "CSRF_TRUSTED_ORIGINS": "https://alliance.example.eu",
    "DATABASE_URL": "postgres://alliance@db.internal:5432/alliance",
    "REDIS_URL": "redis://redis.internal:6379/0",
}


def run_manage(*args: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # Only what a process needs to run: none of this test process's own configuration.
    clean = {
        key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SYSTEMROOT") if key in os.environ
    }
    clean["DJANGO_SETTINGS_MODULE"] = "alliance.settings"
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_documented_production_values_pass_check_deploy() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", environment=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"SECRET_KEY": ""}, "The environment variable SECRET_KEY is required."),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be at least 50 random characters"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS is required when DEBUG is off"),
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL must use postgres://"),
        ({"REDIS_URL": "http://redis"}, "REDIS_URL must start with redis://"),
        ({"CONN_MAX_AGE": "forever"}, "CONN_MAX_AGE='forever' is not an integer."),
        ({"CSRF_TRUSTED_ORIGINS": "alliance.example.eu"}, "must include the scheme"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT='xml' must be one of json, plain"),
        ({"METRICS_ALLOWED_NETWORKS": "10.0.0.0/8,intranet"}, "entry 'intranet' is not a network"),
        (
            {"WORKER_HEARTBEAT_INTERVAL": "60", "WORKER_HEARTBEAT_MAX_AGE": "30"},
            "WORKER_HEARTBEAT_MAX_AGE=30 must exceed WORKER_HEARTBEAT_INTERVAL=60",
        ),
    ],
)
def test_bad_configuration_stops_start_up_naming_the_variable(
    override: dict[str, str], message: str
) -> None:
    result = run_manage("check", environment={**PRODUCTION, **override})
    assert result.returncode != 0
    assert message in result.stderr


def test_secret_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.delenv("ALLIANCE_TEST_SECRET", raising=False)
    monkeypatch.setenv("ALLIANCE_TEST_SECRET_FILE", str(secret))
    assert env.string("ALLIANCE_TEST_SECRET") == "from-a-file"
    monkeypatch.setenv("ALLIANCE_TEST_SECRET", "direct")
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env.string("ALLIANCE_TEST_SECRET")
    monkeypatch.delenv("ALLIANCE_TEST_SECRET")
    monkeypatch.setenv("ALLIANCE_TEST_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env.string("ALLIANCE_TEST_SECRET")


def test_quick_start_needs_nothing() -> None:
    result = run_manage("check", environment={"DEBUG": "1"})
    assert result.returncode == 0, result.stderr
