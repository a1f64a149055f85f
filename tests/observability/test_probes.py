"""/healthz answers while the process lives; /readyz says whether the database, Redis and a
Celery worker are there, one check each, and tells an anonymous caller nothing secret."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db.utils import OperationalError
from django.test import override_settings

from alliance.observability import health, heartbeat
from alliance.observability.store import redis_client
from tests.conftest import requires_redis
from tests.observability.conftest import DEAD_REDIS_URL


def test_healthz_is_liveness_only(client: Any) -> None:
    response = client.get("/healthz")  # without the db fixture: a query would raise
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["alliance.example.eu"], REDIS_URL=None)
def test_probes_answer_an_orchestrator_by_address_over_plain_http(db: Any, client: Any) -> None:
    """A kubelet or a compose health check sends Host: <container address> over HTTP."""
    for path in ("/healthz", "/readyz"):
        response = client.get(path, HTTP_HOST="10.0.3.7:8000")
        assert response.status_code == 200, path
    # The rest of the site still refuses the address and redirects to HTTPS.
    assert client.get("/accounts/login/", HTTP_HOST="10.0.3.7:8000").status_code == 400
    assert client.get("/accounts/login/", HTTP_HOST="alliance.example.eu").status_code == 301


@override_settings(REDIS_URL=None)
def test_readyz_without_redis_checks_the_database_only(db: Any, client: Any) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["database"]["latency_ms"] >= 0
    assert body["checks"]["redis"] == {"status": "not configured"}
    assert body["checks"]["worker"] == {"status": "not configured"}


@override_settings(REDIS_URL=None)
def test_readyz_fails_when_the_database_does_not_answer(
    db: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Unreachable:
        def cursor(self) -> Any:
            raise OperationalError('connection to "db.internal" failed: password=hunter2')

    monkeypatch.setattr(health, "connections", {"default": Unreachable()})
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failed"
    assert body["checks"]["database"]["status"] == "failed"
    assert "hunter2" not in response.content.decode()
    assert "db.internal" not in response.content.decode()


@requires_redis
@override_settings(REDIS_URL=DEAD_REDIS_URL.replace("redis://", "redis://:s3cret@"))
def test_readyz_fails_when_redis_is_down_and_names_no_url(db: Any, client: Any) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["status"] == "ok"
    assert checks["redis"]["status"] == "failed"
    assert checks["worker"]["status"] == "failed"
    text = response.content.decode()
    for secret in ("s3cret", "18199", "127.0.0.1", "Error", "refused"):
        assert secret not in text


@requires_redis
def test_readyz_fails_without_a_worker_heartbeat(db: Any, client: Any, no_heartbeats: None) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"]["status"] == "ok"
    assert checks["worker"]["status"] == "failed"
    assert checks["worker"]["workers"] == 0


@requires_redis
@override_settings(WORKER_HEARTBEAT_MAX_AGE=60)
def test_readyz_needs_a_heartbeat_fresher_than_the_max_age(
    db: Any, client: Any, no_heartbeats: None
) -> None:
    beats = redis_client()
    assert beats is not None
    heartbeat.record(beats, "celery@stale", time.time() - 61)
    stale = client.get("/readyz")
    assert stale.status_code == 503
    assert stale.json()["checks"]["worker"]["last_heartbeat_seconds_ago"] >= 61

    heartbeat.record(beats, "celery@fresh", time.time() - 5)
    fresh = client.get("/readyz")
    assert fresh.status_code == 200, fresh.json()
    worker = fresh.json()["checks"]["worker"]
    assert (worker["status"], worker["workers"]) == ("ok", 1)
    assert worker["latency_ms"] >= 0
