"""Every error of /api/v1/ is a problem (RFC 9457, alliance.api.problems): one shape for
validation, refusals, authentication, unknown URLs and crashes, each type a page the app
serves, the headers of each error kept, nothing written by a refused request."""

from __future__ import annotations

from typing import Any

import pytest

from alliance.api import problems
from consortia import services
from consortia.models import Consortium
from tests.conftest import World

API = "/api/v1"
PROBLEM = "application/problem+json"


def assert_problem(answer: Any, slug: str, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.content
    assert answer.headers["Content-Type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    assert body["type"] == f"/api/v1/problems/{slug}"
    assert body["title"] == problems.BY_SLUG[slug].title
    assert body["status"] == status
    assert body["code"] == code
    assert body["detail"]
    return body


def test_invalid_fields_are_listed_under_errors(world: World, api_as: Any, unchanged: Any) -> None:
    with unchanged():
        answer = api_as(world.candidate).post(
            f"{API}/consortia/",
            {"name": "", "partnership_model": "cooperative", "home_jurisdiction": "XX"},
            format="json",
        )
    body = assert_problem(answer, "validation-error", 400, "invalid")
    assert set(body["errors"]) == {"name", "partnership_model", "home_jurisdiction"}
    assert body["errors"]["name"] == ["This field may not be blank."]
    assert "name: This field may not be blank." in body["detail"]


def test_nested_errors_are_named_by_their_path() -> None:
    detail = {
        "parties": [{}, {"role": ["Bad."], "non_field_errors": ["Whole item."]}],
        "jobs": {"non_field_errors": ["Too many."], "3": {"datasets": ["Unknown."]}},
        "non_field_errors": ["The request as a whole."],
    }
    assert problems.flatten(detail) == {
        "parties.1.role": ["Bad."],
        "parties.1": ["Whole item."],
        "jobs": ["Too many."],
        "jobs.3.datasets": ["Unknown."],
        "non_field_errors": ["The request as a whole."],
    }


def test_a_refusal_by_the_current_state_keeps_its_code(world: World, api_as: Any) -> None:
    answer = api_as(world.chair).delete(f"{API}/consortia/{world.consortium_a.pk}/")
    body = assert_problem(answer, "conflict", 409, "consortium_has_members")
    assert "errors" not in body
    assert Consortium.objects.filter(pk=world.consortium_a.pk).exists()


def test_an_anonymous_caller_keeps_the_bearer_challenge(db: None, api_as: Any) -> None:
    answer = api_as(None).get(f"{API}/consortia/")
    assert_problem(answer, "not-authenticated", 401, "not_authenticated")
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_read_only_role_is_denied_and_an_outsider_told_not_found(
    world: World, api_as: Any
) -> None:
    url = f"{API}/consortia/{world.consortium_a.pk}/"
    denied = api_as(world.observer).patch(url, {"charter": "Mine."}, format="json")
    assert_problem(denied, "permission-denied", 403, "permission_denied")
    hidden = api_as(world.outsider).get(url)
    assert_problem(hidden, "not-found", 404, "not_found")


def test_an_unknown_url_of_the_api_is_a_problem_too(world: World, api_as: Any) -> None:
    answer = api_as(world.chair).get(f"{API}/no-such-collection/")
    assert_problem(answer, "not-found", 404, "not_found")
    page = api_as(world.chair).get("/no-such-page/")
    assert page.status_code == 404
    assert not page.headers["Content-Type"].startswith(PROBLEM)


def test_a_method_the_url_does_not_take(world: World, api_as: Any) -> None:
    answer = api_as(world.chair).put(f"{API}/consortia/{world.consortium_a.pk}/", {})
    assert_problem(answer, "method-not-allowed", 405, "method_not_allowed")
    assert "PATCH" in answer.headers["Allow"]


def test_a_stale_if_match_is_a_precondition_failure(world: World, api_as: Any) -> None:
    answer = api_as(world.chair).patch(
        f"{API}/consortia/{world.consortium_a.pk}/",
        {"charter": "New."},
        format="json",
        headers={"If-Match": '"stale"'},
    )
    assert_problem(answer, "precondition-failed", 412, "precondition_failed")


def test_the_rate_limit_keeps_retry_after(
    world: World, api_as: Any, settings: Any, time_machine: Any
) -> None:
    import datetime

    from django.core.cache import cache

    from alliance.throttling import counter_key

    settings.API_RATE_LIMIT_PER_MINUTE = 1
    now = datetime.datetime.now(datetime.UTC).replace(second=30, microsecond=0)
    time_machine.move_to(now, tick=False)
    cache.delete(counter_key(f"user:{world.chair.pk}", now.timestamp()))
    client = api_as(world.chair)
    assert client.get(f"{API}/consortia/").status_code == 200
    answer = client.get(f"{API}/consortia/")
    assert_problem(answer, "throttled", 429, "throttled")
    assert int(answer.headers["Retry-After"]) >= 1


def test_idempotency_refusals_are_typed(world: World, api_as: Any) -> None:
    client = api_as(world.candidate)
    url = f"{API}/consortia/"
    data = {"name": "Typed", "partnership_model": "cooperative", "home_jurisdiction": "EU"}
    assert client.post(url, data, format="json", headers={"Idempotency-Key": "k"}).status_code
    other = client.post(
        url, {**data, "name": "Other"}, format="json", headers={"Idempotency-Key": "k"}
    )
    assert_problem(other, "idempotency-key-reused", 422, "idempotency_key_reused")


def test_a_replayed_error_is_the_first_answer_exactly(
    world: World, api_as: Any, unchanged: Any
) -> None:
    client = api_as(world.candidate)
    headers = {"Idempotency-Key": "bad-once"}
    data = {"name": "", "partnership_model": "cooperative", "home_jurisdiction": "XX"}
    with unchanged():
        first = client.post(f"{API}/consortia/", data, format="json", headers=headers)
        again = client.post(f"{API}/consortia/", data, format="json", headers=headers)
    assert_problem(first, "validation-error", 400, "invalid")
    assert again.status_code == 400
    assert again.headers["Content-Type"] == PROBLEM
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()  # stored as jsonb: same value, keys reordered


def test_a_crash_tells_nothing_but_the_request_id(
    world: World, api_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(**kwargs: Any) -> None:
        raise RuntimeError("secret internals at /srv/alliance")

    monkeypatch.setattr(services, "consortium_update", crash)
    client = api_as(world.chair)
    client.raise_request_exception = False
    answer = client.patch(
        f"{API}/consortia/{world.consortium_a.pk}/", {"charter": "x"}, format="json"
    )
    body = assert_problem(answer, "server-error", 500, "server_error")
    assert answer.headers["X-Request-ID"] in body["detail"]
    assert "secret" not in answer.content.decode()
    assert "RuntimeError" not in answer.content.decode()


@pytest.mark.parametrize(
    ("path", "persona"),
    [
        ("/consortia/", "candidate"),
        ("/memberships/", "chair"),
        ("/role-assignments/", "chair"),
        ("/motions/", "chair"),
        ("/compliance/decisions/", "chair"),
    ],
)
def test_malformed_json_is_a_400_naming_the_parse_error(
    path: str, persona: str, world: World, api_as: Any, unchanged: Any
) -> None:
    with unchanged():
        answer = api_as(world.persona(persona)).post(
            f"{API}{path}", '{"a":', content_type="application/json"
        )
    body = assert_problem(answer, "malformed-request", 400, "parse_error")
    assert body["detail"].startswith("JSON parse error")
    assert "errors" not in body


@pytest.mark.parametrize("text", ["Consortium\u0000", "\ud800"], ids=["nul", "unpaired-surrogate"])
def test_strings_the_database_cannot_hold_are_refused_as_input(
    text: str, world: World, api_as: Any, unchanged: Any
) -> None:
    import json

    client = api_as(world.candidate)
    body = json.dumps({"name": text, "partnership_model": text, "home_jurisdiction": "EU"})
    with unchanged():
        answer = client.post(f"{API}/consortia/", body, content_type="application/json")
        # A query string is UTF-8 (an unpaired surrogate cannot be sent), NUL can.
        listed = client.get(f"{API}/consortia/", {"status": "open\u0000"})
    assert_problem(answer, "malformed-request", 400, "parse_error")
    assert_problem(listed, "validation-error", 400, "invalid")
    assert set(listed.json()["errors"]) == {"status"}


def test_an_unsupported_body_type(world: World, api_as: Any) -> None:
    answer = api_as(world.candidate).post(
        f"{API}/consortia/", "<consortium/>", content_type="application/xml"
    )
    assert_problem(answer, "unsupported-media-type", 415, "unsupported_media_type")


def test_the_browsable_api_still_shows_a_page(world: World, api_as: Any) -> None:
    answer = api_as(world.outsider).get(
        f"{API}/consortia/{world.consortium_a.pk}/", headers={"Accept": "text/html"}
    )
    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("text/html")


def test_every_type_is_a_page_the_app_serves(db: None, api_as: Any) -> None:
    client = api_as(None)
    listed = client.get(f"{API}/problems/")
    assert listed.status_code == 200
    assert [entry["type"] for entry in listed.json()] == [
        f"/api/v1/problems/{problem.slug}" for problem in problems.TYPES
    ]
    for entry in listed.json():
        page = client.get(entry["type"])
        assert page.status_code == 200
        assert page.json() == entry
    assert_problem(client.get(f"{API}/problems/no-such-type"), "not-found", 404, "not_found")


def test_the_documentation_describes_every_type() -> None:
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[1] / "docs" / "api-errors.md").read_text()
    missing = [p.slug for p in problems.TYPES if f"### `/api/v1/problems/{p.slug}`" not in guide]
    assert missing == []


def test_a_host_the_deployment_does_not_serve_is_a_problem_under_the_api(
    db: None, api_as: Any
) -> None:
    """Django refuses such a request before any view; under /api/v1/ the answer is still a
    problem body (found by schemathesis fuzzing the Host header), elsewhere Django's page."""
    client = api_as(None)
    refused = client.get("/api/v1/consortia/", HTTP_HOST="not-ours.example")
    assert refused.status_code == 400
    assert refused["Content-Type"] == problems.CONTENT_TYPE
    assert refused.json()["type"].endswith("/malformed-request")
    assert refused.json()["code"] == "bad_request"
    page = client.get("/consortia/", HTTP_HOST="not-ours.example")
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")
