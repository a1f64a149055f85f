"""Proposing jobs and recording decisions: who may, what bad input is refused (naming the
field, writing nothing), and what a recorded decision holds."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from agreements.models import Dataset
from alliance.errors import AccessDeniedError
from audit.models import AuditEvent
from compute.compliance import services
from compute.compliance.models import Decision, Job
from tests.compute.compliance.conftest import Compliance, job_fields
from tests.compute.conftest import at


def _counts() -> tuple[int, int, int]:
    return Job.objects.count(), Decision.objects.count(), AuditEvent.objects.count()


def test_a_technician_proposes_a_job(compliance: Compliance) -> None:
    c = compliance
    before = AuditEvent.objects.count()
    job = services.job_propose(
        actor=c.grid.technician,
        consortium=c.grid.world.consortium_a,
        **job_fields(c, name="Train on the images"),
    )
    assert job.status == Job.Status.PROPOSED
    assert job.organisation == c.grid.world.org_member
    assert list(job.datasets.all()) == [c.dataset]
    assert list(job.sites.all()) == [c.grid.paris]
    assert AuditEvent.objects.count() == before + 1


@pytest.mark.parametrize("persona", ["observer", "auditor", "outsider"])
def test_people_without_request_rights_may_not_propose(
    compliance: Compliance, persona: str
) -> None:
    c = compliance
    before = _counts()
    with pytest.raises(AccessDeniedError):
        services.job_propose(
            actor=getattr(c.grid.world, persona),
            consortium=c.grid.world.consortium_a,
            **job_fields(c, name="Train on the images"),
        )
    assert _counts() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"datasets": [999_999]}, "datasets"),
        ({"datasets": []}, "datasets"),
        ({"sites": [999_999]}, "sites"),
        ({"aggregation_site": 999_999}, "aggregation_site"),
        ({"model": 999_999}, "model"),
        ({"purpose": "world_domination"}, "purpose"),
        ({"action": "sell"}, "action"),
        ({"movement": "teleport"}, "movement"),
        ({"output_jurisdiction": "ZZ"}, "output_jurisdiction"),
        ({"output_jurisdiction": None}, "output_jurisdiction"),
        ({"ends_at": at("2026-05-01")}, "ends_at"),
        ({"dp_epsilon": -1}, "dp_epsilon"),
        ({"colour": "blue"}, "spec"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    compliance: Compliance, changes: dict[str, Any], field: str
) -> None:
    c = compliance
    before = _counts()
    with pytest.raises(ValidationError) as caught:
        services.job_propose(
            actor=c.grid.technician,
            consortium=c.grid.world.consortium_a,
            **job_fields(c, name="Train on the images", **changes),
        )
    assert field in caught.value.message_dict
    assert _counts() == before


def test_another_consortiums_dataset_is_refused(compliance: Compliance) -> None:
    c = compliance
    foreign = Dataset.objects.create(
        consortium=c.grid.world.consortium_b,
        owner=c.grid.world.org_outsider,
        name="Elsewhere",
        sensitivity="internal",
        residency_id="SA",
    )
    before = _counts()
    with pytest.raises(ValidationError) as caught:
        services.job_propose(
            actor=c.grid.technician,
            consortium=c.grid.world.consortium_a,
            **job_fields(c, name="Train on the images", datasets=[foreign]),
        )
    assert "Not datasets of this consortium" in str(caught.value.message_dict["datasets"])
    assert _counts() == before


def test_deciding_a_job_records_one_decision_and_one_event(compliance: Compliance) -> None:
    c = compliance
    consortium = c.grid.world.consortium_a
    job = services.job_propose(
        actor=c.grid.technician, consortium=consortium, **job_fields(c, name="Train on the images")
    )
    before = AuditEvent.objects.count()
    decision = services.decide_and_record(
        actor=c.grid.technician, consortium=consortium, spec_or_job=job, at=at("2026-06-01")
    )
    assert AuditEvent.objects.count() == before + 1
    assert decision.job == job
    assert decision.outcome == "allow_with_obligations"
    assert decision.reasons == []
    assert decision.obligations[0]["code"] == "RETENTION_LIMIT"
    assert decision.explain == []
    assert decision.input_snapshot["job"]["job_id"] == job.pk
    assert len(decision.rules_digest) == 64
    assert decision.decided_by == c.grid.technician


def test_a_what_if_is_recorded_without_a_job_and_explained(compliance: Compliance) -> None:
    c = compliance
    decision = services.decide_and_record(
        actor=c.grid.technician,
        consortium=c.grid.world.consortium_a,
        spec_or_job=job_fields(
            c, name="Train on the images", sites=[c.grid.frankfurt], movement="data_to_compute"
        ),
        at=at("2026-06-01"),
        explain=True,
    )
    assert decision.job is None
    assert decision.outcome == "deny"
    codes = {reason["code"] for reason in decision.reasons}
    assert {"MOVEMENT_NOT_PERMITTED", "DATA_RESIDENCY_VIOLATION"} <= codes
    assert {check["code"] for check in decision.explain if not check["passed"]} == codes
    assert any(check["passed"] for check in decision.explain)


def test_the_same_rules_give_the_same_digest(compliance: Compliance) -> None:
    c = compliance
    consortium = c.grid.world.consortium_a
    first, second = (
        services.decide_and_record(
            actor=c.grid.technician,
            consortium=consortium,
            spec_or_job=job_fields(c, name="Train on the images"),
            at=at(day),
        )
        for day in ("2026-06-01", "2026-06-02")
    )
    assert first.rules_digest == second.rules_digest


def test_a_job_of_another_consortium_is_refused(compliance: Compliance) -> None:
    c = compliance
    job = services.job_propose(
        actor=c.grid.technician,
        consortium=c.grid.world.consortium_a,
        **job_fields(c, name="Train on the images"),
    )
    with pytest.raises(ValidationError):
        services.decide_and_record(
            actor=c.grid.world.outsider, consortium=c.grid.world.consortium_b, spec_or_job=job
        )


def test_decisions_are_never_updated(compliance: Compliance) -> None:
    c = compliance
    decision = services.decide_and_record(
        actor=c.grid.technician,
        consortium=c.grid.world.consortium_a,
        spec_or_job=job_fields(c, name="Train on the images"),
        at=at("2026-06-01"),
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        Decision.objects.filter(pk=decision.pk).update(outcome="allow")
    decision.refresh_from_db()
    assert decision.outcome == "allow_with_obligations"
