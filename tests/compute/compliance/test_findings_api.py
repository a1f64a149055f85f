"""The sweeps' findings through the API: listed and filtered for every reader of the
consortium, acknowledged and resolved with a note by technical and legal people (each an
audit event), refused from outside (404), to a read-only role (403) and on bad input (400
naming the field), and never handled twice (409)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from compute.compliance import sweeps
from compute.compliance.models import Finding
from consortia.models import User
from tests.compute.compliance.conftest import Compliance
from tests.compute.compliance.test_sweeps import NOW, live_job

API = "/api/v1/compliance/findings"
Client = Callable[[User | None], APIClient]


@pytest.fixture
def finding(compliance: Compliance) -> Finding:
    """A running job copies raw data that its clause forbids copying, and a sweep found it."""
    job = live_job(compliance, name="Raw image export", action="copy_raw")
    sweeps.sweep_consortium(job.consortium_id, NOW)
    return Finding.objects.get(job=job)


def handle(client: APIClient, finding: Finding, step: str, payload: dict[str, Any]) -> Any:
    return client.post(f"{API}/{finding.pk}/{step}/", payload, format="json")


def events(finding: Finding) -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(object_type="compute.finding", object_id=str(finding.pk))
        .order_by("pk")
        .values_list("action", "reason")
    )


def test_readers_list_filter_and_read_findings(
    compliance: Compliance, finding: Finding, api_as: Client
) -> None:
    c = compliance
    listed = api_as(c.grid.world.observer).get(f"{API}/")
    assert listed.status_code == 200, listed.content
    (row,) = listed.json()["results"]
    assert row == {
        "id": finding.pk,
        "consortium": c.grid.world.consortium_a.pk,
        "job": finding.job_id,
        "allocation": None,
        "placement": None,
        "owner": c.grid.world.org_member.pk,
        "owner_name": "Member Org",
        "code": "ACTION_NOT_PERMITTED",
        "severity": finding.severity,
        "subject": finding.subject,
        "message": finding.message,
        "expected": finding.expected,
        "actual": finding.actual,
        "source": finding.source,
        "status": "open",
        "note": "",
        "opened_at": row["opened_at"],
        "last_seen_at": row["last_seen_at"],
        "acknowledged_at": None,
        "resolved_at": None,
        "handled_by": None,
    }
    assert row["source"]["link"] == f"/agreement-versions/{c.clause.version_id}/"
    assert api_as(c.grid.world.auditor).get(f"{API}/{finding.pk}/").json() == row

    reader = api_as(c.grid.world.member)
    for query in (
        f"consortium={c.grid.world.consortium_a.pk}",
        "status=open",
        f"severity={finding.severity}",
        "code=ACTION_NOT_PERMITTED",
        f"job={finding.job_id}",
        f"owner={c.grid.world.org_member.pk}",
    ):
        assert [r["id"] for r in reader.get(f"{API}/?{query}").json()["results"]] == [finding.pk]
    for query in (
        f"consortium={c.grid.world.consortium_b.pk}",
        "status=resolved",
        "code=DATA_RESIDENCY_VIOLATION",
        f"owner={c.grid.world.org_chair.pk}",
    ):
        assert reader.get(f"{API}/?{query}").json()["results"] == [], query


def test_technical_people_acknowledge_then_resolve_each_audited(
    compliance: Compliance, finding: Finding, api_as: Client
) -> None:
    c = compliance
    technician = api_as(c.grid.technician)
    acknowledged = technician.post(
        f"{API}/{finding.pk}/acknowledge/", {"note": "Export paused"}, format="json"
    )
    assert acknowledged.status_code == 200, acknowledged.content
    row = acknowledged.json()
    assert (row["status"], row["note"], row["handled_by"]) == (
        "acknowledged",
        "Export paused",
        c.grid.technician.username,
    )
    assert row["acknowledged_at"] is not None
    assert row["resolved_at"] is None

    resolved = technician.post(
        f"{API}/{finding.pk}/resolve/", {"note": "Job cancelled"}, format="json"
    )
    assert resolved.status_code == 200, resolved.content
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["note"] == "Export paused\nJob cancelled"
    assert resolved.json()["resolved_at"] is not None
    assert events(finding) == [
        ("create", ""),  # the sweep's
        ("transition", "Export paused"),
        ("transition", "Job cancelled"),
    ]
    assert technician.get(f"{API}/?status=open").json()["results"] == []


def test_an_acknowledgement_needs_no_note(
    compliance: Compliance, finding: Finding, api_as: Client
) -> None:
    answer = api_as(compliance.grid.technician).post(
        f"{API}/{finding.pk}/acknowledge/", {}, format="json"
    )
    assert answer.status_code == 200, answer.content
    assert (answer.json()["status"], answer.json()["note"]) == ("acknowledged", "")


@pytest.mark.parametrize("step", ["acknowledge", "resolve"])
def test_a_resolved_finding_is_not_handled_again(
    compliance: Compliance, finding: Finding, api_as: Client, unchanged: Any, step: str
) -> None:
    sweeps.finding_resolve(actor=compliance.grid.technician, finding=finding, note="Done")
    with unchanged():
        answer = handle(api_as(compliance.grid.technician), finding, step, {"note": "Again"})
    assert answer.status_code == 409, answer.content
    assert answer.json()["code"] == "finding_handled"


def test_another_organisation_gets_404_and_changes_nothing(
    compliance: Compliance, finding: Finding, api_as: Client, unchanged: Any
) -> None:
    outsider = api_as(compliance.grid.world.outsider)
    assert outsider.get(f"{API}/").json()["results"] == []
    assert outsider.get(f"{API}/{finding.pk}/").status_code == 404
    with unchanged():
        for step in ("acknowledge", "resolve"):
            assert handle(outsider, finding, step, {"note": "x"}).status_code == 404, step


@pytest.mark.parametrize(
    "payload",
    [{"note": "Looks fine"}, {}, {"note": "x" * 5000}, {"notes": "typo"}],
    ids=["with-a-note", "empty", "too-long", "unknown-field"],
)
@pytest.mark.parametrize("step", ["acknowledge", "resolve"])
def test_a_read_only_role_gets_403_whatever_it_sent(
    compliance: Compliance,
    finding: Finding,
    api_as: Client,
    unchanged: Any,
    step: str,
    payload: dict[str, Any],
) -> None:
    with unchanged():
        answer = handle(api_as(compliance.grid.world.observer), finding, step, payload)
    assert answer.status_code == 403, answer.content


@pytest.mark.parametrize(
    ("step", "payload", "field"),
    [
        ("resolve", {}, "note"),
        ("resolve", {"note": "   "}, "note"),
        ("resolve", {"note": "x" * 1001}, "note"),
        ("acknowledge", {"note": "x" * 1001}, "note"),
        ("acknowledge", {"notes": "typo"}, "notes"),
        ("resolve", {"note": 7, "status": "resolved"}, "status"),
    ],
    ids=["no-note", "blank-note", "long-note", "long-ack-note", "unknown-field", "extra-field"],
)
def test_bad_input_is_a_400_naming_the_field(
    compliance: Compliance,
    finding: Finding,
    api_as: Client,
    unchanged: Any,
    step: str,
    payload: dict[str, Any],
    field: str,
) -> None:
    with unchanged():
        answer = handle(api_as(compliance.grid.technician), finding, step, payload)
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["errors"]


@pytest.mark.parametrize(
    "query", ["status=closed", "severity=low", "code=NOT_A_CODE", "job=first", "consortium=A"]
)
def test_a_bad_filter_is_a_400_naming_it(
    compliance: Compliance, finding: Finding, api_as: Client, query: str
) -> None:
    answer = api_as(compliance.grid.technician).get(f"{API}/?{query}")
    assert answer.status_code == 400, answer.content
    assert query.split("=")[0] in answer.json()["errors"]
