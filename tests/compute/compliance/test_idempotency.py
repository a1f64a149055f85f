"""Idempotency-Key on the gate: a pipeline that retries a decision after a timeout gets the
first answer back instead of a second stored decision (alliance.idempotency)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from alliance.models import IdempotencyRecord
from compute.compliance import services
from compute.compliance.models import Decision, Job
from tests.compute.compliance.conftest import Compliance
from tests.compute.compliance.test_api import API, Client, body, job_body

DECISIONS = f"{API}/decisions/"


def post(client: Any, data: dict[str, Any], key: str | None) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(DECISIONS, data, format="json", headers=headers)


def test_a_retried_decision_returns_the_first_answer_and_stores_one(
    compliance: Compliance, api_as: Client
) -> None:
    client = api_as(compliance.grid.technician)
    first = post(client, body(compliance), "run-42-gate")
    again = post(client, body(compliance), "run-42-gate")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Decision.objects.count() == 1


def test_without_a_key_every_post_is_a_new_decision(compliance: Compliance, api_as: Client) -> None:
    client = api_as(compliance.grid.technician)
    post(client, body(compliance), None)
    post(client, body(compliance), None)
    assert Decision.objects.count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_a_key_reused_for_a_different_request_is_refused(
    compliance: Compliance, api_as: Client
) -> None:
    client = api_as(compliance.grid.technician)
    post(client, body(compliance), "k1")
    other = post(client, body(compliance, action="evaluate"), "k1")
    assert other.status_code == 422
    assert "different request" in other.json()["detail"]
    assert Decision.objects.count() == 1
    elsewhere = client.post(
        f"{API}/jobs/", job_body(compliance), format="json", headers={"Idempotency-Key": "k1"}
    )
    assert elsewhere.status_code == 422, "the same body on another path is another request"
    assert not Job.objects.exists()


def test_a_retry_while_the_first_still_runs_is_told_to_wait(
    compliance: Compliance, api_as: Client
) -> None:
    user = compliance.grid.technician
    client = api_as(user)
    post(client, body(compliance), "k2")
    IdempotencyRecord.objects.filter(key="k2").update(status=None, response=None)
    answer = post(client, body(compliance), "k2")
    assert answer.status_code == 409
    assert answer.headers["Retry-After"] == "1"
    assert Decision.objects.count() == 1


def test_keys_belong_to_their_caller_and_expire(compliance: Compliance, api_as: Client) -> None:
    mine = post(api_as(compliance.grid.technician), body(compliance), "shared")
    theirs = post(api_as(compliance.grid.world.chair), body(compliance), "shared")
    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]
    IdempotencyRecord.objects.update(created_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    later = post(api_as(compliance.grid.technician), body(compliance), "shared")
    assert later.status_code == 201
    assert "Idempotent-Replayed" not in later.headers
    assert Decision.objects.count() == 3


def test_a_refusal_is_kept_too(compliance: Compliance, api_as: Client, unchanged: Any) -> None:
    """A 4xx is an answer: the retry gets it again without running anything."""
    client = api_as(compliance.grid.technician)
    bad = body(compliance, datasets=[987654])
    with unchanged():
        first = post(client, bad, "k3")
        again = post(client, bad, "k3")
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_server_error_frees_the_key(
    compliance: Compliance, api_as: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = api_as(compliance.grid.technician)
    client.raise_request_exception = False

    def crash(**kwargs: Any) -> Decision:
        raise RuntimeError("engine crashed")

    with monkeypatch.context() as patch:
        patch.setattr(services, "decide_and_record", crash)
        assert post(client, body(compliance), "k4").status_code == 500
    assert not IdempotencyRecord.objects.filter(key="k4").exists()
    assert post(client, body(compliance), "k4").status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "line\nbreak"])
def test_a_malformed_key_is_a_400_naming_the_header(
    compliance: Compliance, api_as: Client, key: str, unchanged: Any
) -> None:
    with unchanged():
        answer = post(api_as(compliance.grid.technician), body(compliance), key)
    assert answer.status_code == 400
    assert "Idempotency-Key" in answer.json()["errors"]


def test_the_schema_offers_the_key_on_every_post(compliance: Compliance, api_as: Client) -> None:
    client = api_as(compliance.grid.technician)
    schema = client.get(
        f"{API[: -len('/compliance')]}/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    posts = [
        operations["post"] for operations in schema.json()["paths"].values() if "post" in operations
    ]
    assert posts
    for post_operation in posts:
        names = [parameter["name"] for parameter in post_operation.get("parameters", [])]
        assert "Idempotency-Key" in names, post_operation["operationId"]


def test_the_daily_purge_forgets_expired_keys_only(compliance: Compliance, api_as: Client) -> None:
    from alliance.tasks import idempotency_purge

    client = api_as(compliance.grid.technician)
    post(client, body(compliance), "old")
    post(client, body(compliance), "new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )
    assert idempotency_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
