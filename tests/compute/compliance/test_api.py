"""The compliance gate from a pipeline's side: allow and deny round trips, explain mode, the
batch form, the decision log's scoping, and bad input or a refused caller changing nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import resolve
from rest_framework.test import APIClient

from audit.models import AuditEvent
from compute.compliance import services
from compute.compliance.models import Decision, Job
from consortia.models import User
from tests.compute.compliance.conftest import Compliance, job_fields
from tests.compute.conftest import at

API = "/api/v1/compliance"
Client = Callable[[User | None], APIClient]


def body(c: Compliance, **changes: Any) -> dict[str, Any]:
    """A federated training job on the FR images at Paris in June 2026: allowed (with the
    retention obligation)."""
    values: dict[str, Any] = {
        "consortium": c.grid.world.consortium_a.pk,
        "name": "Train on the images",
        "datasets": [c.dataset.pk],
        "sites": [c.grid.paris.pk],
        "purpose": "research_and_development",
        "action": "train",
        "movement": "federated",
        "output_jurisdiction": "FR",
        "starts_at": "2026-06-01T00:00:00Z",
        "ends_at": "2026-06-10T00:00:00Z",
        "aggregation_site": c.grid.paris.pk,
        "secure_aggregation": True,
        "dp_epsilon": 1.0,
        "at": "2026-06-01T00:00:00Z",
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not ...}


def job_body(c: Compliance, **changes: Any) -> dict[str, Any]:
    """The same job, to propose (a job has no evaluation instant)."""
    return {key: value for key, value in body(c, **changes).items() if key != "at"}


def denied_body(c: Compliance) -> dict[str, Any]:
    """The images copied to Frankfurt: the clause allows federated work only, in FR."""
    return body(c, sites=[c.grid.frankfurt.pk], movement="data_to_compute")


def test_an_allowed_job_round_trips(compliance: Compliance, api_as: Client) -> None:
    c = compliance
    client = api_as(c.grid.technician)
    response = client.post(f"{API}/decisions/", body(c), format="json")
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["outcome"] == "allow_with_obligations"
    assert answer["reasons"] == []
    assert [o["code"] for o in answer["obligations"]] == ["RETENTION_LIMIT"]
    assert answer["obligations"][0]["source"]["link"] == (
        f"/agreement-versions/{c.clause.version_id}/"
    )
    assert answer["explain"] == []
    assert answer["job"] is None
    assert answer["consortium"] == c.grid.world.consortium_a.pk
    assert answer["evaluated_for"] == "2026-06-01T00:00:00Z"

    detail = client.get(f"{API}/decisions/{answer['id']}/").json()
    assert detail["outcome"] == "allow_with_obligations"
    assert len(detail["rules_digest"]) == 64
    assert detail["input_snapshot"]["job"]["dataset_ids"] == [c.dataset.pk]
    assert detail["decided_by"] == c.grid.technician.username


def test_a_denied_job_is_an_answer_with_reasons(compliance: Compliance, api_as: Client) -> None:
    c = compliance
    response = api_as(c.grid.technician).post(f"{API}/decisions/", denied_body(c), format="json")
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["outcome"] == "deny"
    codes = {reason["code"] for reason in answer["reasons"]}
    assert {"MOVEMENT_NOT_PERMITTED", "DATA_RESIDENCY_VIOLATION"} <= codes
    movement = next(r for r in answer["reasons"] if r["code"] == "MOVEMENT_NOT_PERMITTED")
    assert movement["message"]
    assert movement["expected"] == "the model goes to the data (federated only)"
    assert movement["actual"] == "the data goes to the compute (data_to_compute)"
    assert movement["subject"]["id"] == c.dataset.pk
    assert movement["source"]["clause_id"] == c.clause.pk
    assert movement["source"]["agreement_id"] == c.deal.agreement.pk
    assert movement["source"]["link"] == f"/agreement-versions/{c.clause.version_id}/"
    assert Decision.objects.get(pk=answer["id"]).outcome == "deny"


def test_explain_lists_every_rule_checked(compliance: Compliance, api_as: Client) -> None:
    c = compliance
    response = api_as(c.grid.technician).post(
        f"{API}/decisions/?explain=true", denied_body(c), format="json"
    )
    assert response.status_code == 201
    answer = response.json()
    checks = answer["explain"]
    assert any(check["passed"] for check in checks)
    failed = {check["code"] for check in checks if not check["passed"]}
    assert failed == {reason["code"] for reason in answer["reasons"]}
    assert {"rule", "subject", "passed", "code", "detail"} <= set(checks[0])
    assert Decision.objects.get(pk=answer["id"]).explain == checks


def test_explain_must_be_true_or_false(
    compliance: Compliance, api_as: Client, unchanged: Any
) -> None:
    c = compliance
    with unchanged():
        response = api_as(c.grid.technician).post(
            f"{API}/decisions/?explain=maybe", body(c), format="json"
        )
    assert response.status_code == 400
    assert "explain" in response.json()["errors"]


def test_a_batch_keeps_order_and_stores_each(compliance: Compliance, api_as: Client) -> None:
    c = compliance
    before = Decision.objects.count()
    jobs = [body(c), denied_body(c), body(c, purpose="commercial_research")]
    response = api_as(c.grid.technician).post(
        f"{API}/decisions/batch/", {"jobs": jobs}, format="json"
    )
    assert response.status_code == 201, response.content
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["allow_with_obligations", "deny", "deny"]
    assert "PURPOSE_NOT_PERMITTED" in {r["code"] for r in results[2]["reasons"]}
    assert Decision.objects.count() == before + 3
    ids = [r["id"] for r in results]
    assert ids == sorted(ids)
    assert [Decision.objects.get(pk=pk).outcome for pk in ids] == [r["outcome"] for r in results]


def test_one_bad_job_refuses_the_whole_batch(
    compliance: Compliance, api_as: Client, unchanged: Any
) -> None:
    c = compliance
    jobs = [body(c), body(c, purpose="world_domination"), body(c)]
    with unchanged():
        response = api_as(c.grid.technician).post(
            f"{API}/decisions/batch/", {"jobs": jobs}, format="json"
        )
    assert response.status_code == 400
    assert "jobs.1.purpose" in response.json()["errors"]


@pytest.mark.parametrize(
    "payload",
    [{"jobs": []}, {"jobs": "all of them"}, {}, [1, 2]],
    ids=["empty", "not-a-list", "no-jobs", "not-an-object"],
)
def test_a_malformed_batch_is_refused(
    compliance: Compliance, api_as: Client, unchanged: Any, payload: Any
) -> None:
    with unchanged():
        response = api_as(compliance.grid.technician).post(
            f"{API}/decisions/batch/", payload, format="json"
        )
    assert response.status_code == 400


def test_a_batch_has_a_limit(compliance: Compliance, api_as: Client, unchanged: Any) -> None:
    c = compliance
    with unchanged():
        response = api_as(c.grid.technician).post(
            f"{API}/decisions/batch/", {"jobs": [body(c)] * 101}, format="json"
        )
    assert response.status_code == 400
    assert "jobs" in response.json()["errors"]


def test_a_decision_is_audited_once(compliance: Compliance, api_as: Client) -> None:
    c = compliance
    response = api_as(c.grid.technician).post(f"{API}/decisions/", body(c), format="json")
    events = AuditEvent.objects.filter(
        object_type="compute.decision", object_id=str(response.json()["id"])
    )
    assert events.count() == 1
    assert events.get().consortium_id == c.grid.world.consortium_a.pk


def _decided(c: Compliance) -> Decision:
    return services.decide_and_record(
        actor=c.grid.technician,
        consortium=c.grid.world.consortium_a,
        spec_or_job=job_fields(c),
        at=at("2026-06-01"),
    )


@pytest.mark.parametrize("persona", ["member", "observer", "auditor", "chair"])
def test_every_reader_of_the_consortium_reads_the_log(
    compliance: Compliance, api_as: Client, persona: str
) -> None:
    c = compliance
    decision = _decided(c)
    client = api_as(getattr(c.grid.world, persona))
    listed = client.get(f"{API}/decisions/")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [decision.pk]
    assert client.get(f"{API}/decisions/{decision.pk}/").status_code == 200


def test_the_log_filters(compliance: Compliance, api_as: Client) -> None:
    c = compliance
    allowed = _decided(c)
    denied = services.decide_and_record(
        actor=c.grid.technician,
        consortium=c.grid.world.consortium_a,
        spec_or_job=job_fields(c, sites=[c.grid.frankfurt], movement="data_to_compute"),
        at=at("2026-06-01"),
    )
    client = api_as(c.grid.world.member)

    def ids(query: str) -> list[int]:
        response = client.get(f"{API}/decisions/{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("") == [denied.pk, allowed.pk]
    assert ids("?outcome=deny") == [denied.pk]
    assert ids(f"?consortium={c.grid.world.consortium_a.pk}") == [denied.pk, allowed.pk]
    assert ids(f"?consortium={c.grid.world.consortium_b.pk}") == []
    assert client.get(f"{API}/decisions/?outcome=maybe").status_code == 400


def test_an_outsider_sees_no_decision_and_no_job(compliance: Compliance, api_as: Client) -> None:
    c = compliance
    decision = _decided(c)
    job = services.job_propose(
        actor=c.grid.technician, consortium=c.grid.world.consortium_a, **job_fields(c)
    )
    client = api_as(c.grid.world.outsider)
    assert client.get(f"{API}/decisions/").json()["results"] == []
    assert client.get(f"{API}/decisions/{decision.pk}/").status_code == 404
    assert client.get(f"{API}/jobs/").json()["results"] == []
    assert client.get(f"{API}/jobs/{job.pk}/").status_code == 404


def test_an_outsider_may_not_decide_for_the_consortium(
    compliance: Compliance, api_as: Client, unchanged: Any
) -> None:
    c = compliance
    job = services.job_propose(
        actor=c.grid.technician, consortium=c.grid.world.consortium_a, **job_fields(c)
    )
    client = api_as(c.grid.world.outsider)
    with unchanged():
        assert client.post(f"{API}/decisions/", body(c), format="json").status_code == 404
        assert client.post(f"{API}/jobs/{job.pk}/decide/", {}, format="json").status_code == 404
        assert client.post(f"{API}/jobs/", job_body(c), format="json").status_code == 404
        by_id = client.post(f"{API}/decisions/", {"job": job.pk}, format="json")
        assert by_id.status_code == 400
        assert "job" in by_id.json()["errors"]


def test_the_observer_may_not_post(compliance: Compliance, api_as: Client, unchanged: Any) -> None:
    c = compliance
    job = services.job_propose(
        actor=c.grid.technician, consortium=c.grid.world.consortium_a, **job_fields(c)
    )
    client = api_as(c.grid.world.observer)
    with unchanged():
        assert client.post(f"{API}/decisions/", body(c), format="json").status_code == 403
        # Whatever it sent: the right is checked before the body's ids.
        bad = body(c, datasets=[999_999], purpose="world_domination")
        assert client.post(f"{API}/decisions/", bad, format="json").status_code == 403
        assert (
            client.post(f"{API}/decisions/batch/", {"jobs": [body(c)]}, format="json").status_code
            == 403
        )
        assert client.post(f"{API}/decisions/", {"job": job.pk}, format="json").status_code == 403
        assert client.post(f"{API}/jobs/", job_body(c), format="json").status_code == 403
        assert client.post(f"{API}/jobs/{job.pk}/decide/", {}, format="json").status_code == 403


def test_anonymous_callers_are_told_to_authenticate(compliance: Compliance, api_as: Client) -> None:
    client = api_as(None)
    assert client.get(f"{API}/decisions/").status_code == 401
    assert client.post(f"{API}/decisions/", body(compliance), format="json").status_code == 401


def test_another_consortiums_dataset_names_the_field(
    compliance: Compliance, api_as: Client, unchanged: Any
) -> None:
    from agreements.models import Dataset

    c = compliance
    foreign = Dataset.objects.create(
        consortium=c.grid.world.consortium_b,
        owner=c.grid.world.org_outsider,
        name="Elsewhere",
        sensitivity="internal",
        residency_id="SA",
    )
    with unchanged():
        response = api_as(c.grid.technician).post(
            f"{API}/decisions/", body(c, datasets=[c.dataset.pk, foreign.pk]), format="json"
        )
    assert response.status_code == 400
    assert "datasets" in response.json()["errors"]
    assert "Elsewhere" not in response.content.decode(), "another consortium's names stay hidden"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"purpose": "world_domination"}, "purpose"),
        ({"action": "sell"}, "action"),
        ({"movement": "teleport"}, "movement"),
        ({"datasets": [999_999]}, "datasets"),
        ({"datasets": "3"}, "datasets"),
        ({"sites": [999_999]}, "sites"),
        ({"model": 999_999}, "model"),
        ({"output_jurisdiction": "ZZ"}, "output_jurisdiction"),
        ({"starts_at": "next tuesday"}, "starts_at"),
        ({"ends_at": "2026-05-01T00:00:00Z"}, "ends_at"),
        ({"purpose": ...}, "purpose"),
        ({"dataset": [1]}, "dataset"),
        ({"organisation": 999_999}, "organisation"),
    ],
)
def test_bad_input_names_the_field(
    compliance: Compliance, api_as: Client, unchanged: Any, changes: dict[str, Any], field: str
) -> None:
    c = compliance
    with unchanged():
        response = api_as(c.grid.technician).post(
            f"{API}/decisions/", body(c, **changes), format="json"
        )
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    "content",
    ["{not json", "[1, 2, 3]", '"a job"'],
    ids=["broken-json", "a-list", "a-string"],
)
def test_a_malformed_body_is_refused(
    compliance: Compliance, api_as: Client, unchanged: Any, content: str
) -> None:
    with unchanged():
        response = api_as(compliance.grid.technician).post(
            f"{API}/decisions/", content, content_type="application/json"
        )
    assert response.status_code == 400


def test_a_job_id_and_fields_do_not_go_together(
    compliance: Compliance, api_as: Client, unchanged: Any
) -> None:
    c = compliance
    job = services.job_propose(
        actor=c.grid.technician, consortium=c.grid.world.consortium_a, **job_fields(c)
    )
    with unchanged():
        response = api_as(c.grid.technician).post(
            f"{API}/decisions/", {"job": job.pk, "purpose": "train"}, format="json"
        )
    assert response.status_code == 400
    assert "job" in response.json()["errors"]


def test_a_job_is_proposed_then_decided(compliance: Compliance, api_as: Client) -> None:
    c = compliance
    client = api_as(c.grid.technician)
    proposed = client.post(f"{API}/jobs/", job_body(c), format="json")
    assert proposed.status_code == 201, proposed.content
    job = proposed.json()
    assert job["status"] == "proposed"
    assert job["organisation"] == c.grid.world.org_member.pk
    assert job["datasets"] == [c.dataset.pk]
    assert job["sites"] == [c.grid.paris.pk]
    assert Job.objects.filter(pk=job["id"]).exists()

    listed = api_as(c.grid.world.observer).get(f"{API}/jobs/?consortium={job['consortium']}")
    assert [row["id"] for row in listed.json()["results"]] == [job["id"]]
    assert client.get(f"{API}/jobs/{job['id']}/").json()["datasets"] == [c.dataset.pk]

    decided = client.post(
        f"{API}/jobs/{job['id']}/decide/?explain=true",
        {"at": "2026-06-01T00:00:00Z"},
        format="json",
    )
    assert decided.status_code == 201, decided.content
    assert decided.json()["job"] == job["id"]
    assert decided.json()["outcome"] == "allow_with_obligations"
    assert decided.json()["explain"]

    by_id = client.post(
        f"{API}/decisions/", {"job": job["id"], "at": "2026-06-01T00:00:00Z"}, format="json"
    )
    assert by_id.status_code == 201, by_id.content
    assert by_id.json()["job"] == job["id"]
    assert (
        client.get(f"{API}/decisions/?job={job['id']}").json()["results"][0]["id"]
        == (by_id.json()["id"])
    )


def test_proposing_checks_the_fields(
    compliance: Compliance, api_as: Client, unchanged: Any
) -> None:
    c = compliance
    with unchanged():
        response = api_as(c.grid.technician).post(
            f"{API}/jobs/", job_body(c, purpose="world_domination"), format="json"
        )
    assert response.status_code == 400
    assert "purpose" in response.json()["errors"]


def test_a_site_the_consortium_has_not_approved_is_a_deny(
    compliance: Compliance, api_as: Client
) -> None:
    """Sites belong to the shared directory, not to a consortium: naming one the consortium
    has not approved is a question the engine answers (SITE_NOT_APPROVED), not bad input."""
    from compute.models import Provider, Site
    from consortia.models import Jurisdiction

    c = compliance
    fr = Jurisdiction.objects.get(pk="FR")
    provider = Provider.objects.create(
        legal_name="Unvetted Cloud SAS",
        head_office_jurisdiction=fr,
        ultimate_parent_jurisdiction=fr,
        registered_by=c.grid.world.outsider,
    )
    lyon = Site.objects.create(provider=provider, name="Lyon-1", jurisdiction=fr)
    lyon.administered_from.set([fr])
    response = api_as(c.grid.technician).post(
        f"{API}/decisions/", body(c, sites=[lyon.pk], aggregation_site=lyon.pk), format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["outcome"] == "deny"
    assert "SITE_NOT_APPROVED" in {reason["code"] for reason in response.json()["reasons"]}


def test_the_gate_is_the_first_route_the_api_tries() -> None:
    # Django tries each pattern in turn: a pipeline's every call would pay for those before.
    match = resolve("/api/v1/compliance/decisions/")
    assert match.url_name == "compliance-decision-list"
    assert [[str(pattern.pattern) for pattern in tried] for tried in match.tried or []] == [
        ["api/v1/", "compliance/decisions/"]
    ]
