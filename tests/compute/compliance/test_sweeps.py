"""Continuous compliance: sweeps turn broken rules of live jobs into findings, once."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from agreements import asset_services, services
from agreements.models import AgreementVersion, Clause
from alliance.errors import AccessDeniedError
from audit.models import AuditEvent
from compute.compliance import sweeps
from compute.compliance.models import Finding, Job
from tests.compute.compliance.conftest import Compliance
from tests.compute.conftest import at

# The sweep runs "now" inside the fixture job's window, so it is live.
NOW = at("2026-06-02")


def live_job(c: Compliance, **changes: Any) -> Job:
    values: dict[str, Any] = {
        "consortium": c.grid.world.consortium_a,
        "organisation": c.grid.world.org_member,
        "name": "Radiology pre-training",
        "purpose": "research_and_development",
        "action": "train",
        "movement": "federated",
        "starts_at": at("2026-06-01"),
        "ends_at": at("2026-06-10"),
        "status": Job.Status.RUNNING,
        "output_jurisdiction_id": "FR",
        "aggregation_site": c.grid.paris,
        "secure_aggregation": True,
        "dp_epsilon": 1.0,
        "proposed_by": c.grid.technician,
    }
    values.update(changes)
    job = Job.objects.create(**values)
    job.datasets.set([c.dataset])
    job.sites.set([c.grid.paris])
    return job


def supersede_with_training_prohibited(c: Compliance) -> AgreementVersion:
    """An amendment of the data sharing agreement that prohibits training, executed."""
    deal = c.deal
    amendment = services.version_new(actor=deal.legal_chair_org, agreement=deal.agreement)
    clause = Clause.objects.get(version=amendment, key=c.clause.key)
    asset_services.clause_set_terms(
        actor=deal.legal_chair_org,
        clause=clause,
        terms={
            **(c.clause.terms or {}),
            "actions_allowed": ["evaluate"],
            "actions_prohibited": ["train", "copy_raw"],
        },
    )
    services.version_submit(actor=deal.legal_chair_org, version=amendment)
    services.approval_give(actor=deal.legal_chair_org, version=amendment)
    services.approval_give(actor=deal.legal_member_org, version=amendment)
    services.agreement_send_for_signature(actor=deal.world.chair, agreement=deal.agreement)
    services.agreement_record_execution(
        actor=deal.world.chair,
        agreement=deal.agreement,
        executed_at=datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC),
    )
    amendment.refresh_from_db()
    assert amendment.status == "executed"
    return amendment


def test_superseding_an_agreement_turns_the_next_sweep_into_a_finding_citing_it(
    compliance: Compliance, mailoutbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = live_job(compliance)
    assert sweeps.sweep_consortium(job.consortium_id, NOW).opened == 0
    assert not Finding.objects.exists()

    amendment = supersede_with_training_prohibited(compliance)
    with django_capture_on_commit_callbacks(execute=True):
        result = sweeps.sweep_consortium(job.consortium_id, NOW)
    assert (result.jobs, result.opened) == (1, 1)
    finding = Finding.objects.get()
    assert (finding.code, finding.status, finding.owner) == (
        "ACTION_NOT_PERMITTED",
        Finding.Status.OPEN,
        compliance.grid.world.org_member,
    )
    assert finding.source is not None
    assert finding.source["version_id"] == amendment.pk
    assert finding.source["link"] == f"/agreement-versions/{amendment.pk}/"
    assert AuditEvent.objects.filter(object_type="compute.finding", action="create").count() == 1
    assert mailoutbox, "the consortium's technical and legal people hear of it"


def test_the_same_sweep_run_twice_opens_no_duplicate(compliance: Compliance) -> None:
    job = live_job(compliance, action="copy_raw")  # prohibited by the clause in force
    first = sweeps.sweep_consortium(job.consortium_id, NOW)
    second = sweeps.sweep_consortium(job.consortium_id, NOW)
    assert first.opened >= 1
    assert (second.opened, second.seen) == (0, first.opened)
    assert Finding.objects.count() == first.opened


def test_a_finding_resolves_itself_when_the_rule_is_met_again(compliance: Compliance) -> None:
    job = live_job(compliance, action="copy_raw")
    sweeps.sweep_consortium(job.consortium_id, NOW)
    Job.objects.filter(pk=job.pk).update(action="evaluate")
    result = sweeps.sweep_consortium(job.consortium_id, NOW)
    assert result.resolved >= 1
    assert not Finding.objects.exclude(status=Finding.Status.RESOLVED).exists()
    assert "rule is now met" in Finding.objects.first().note  # type: ignore[union-attr]


def test_findings_of_a_finished_job_are_resolved(compliance: Compliance) -> None:
    job = live_job(compliance, action="copy_raw")
    sweeps.sweep_consortium(job.consortium_id, NOW)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FINISHED)
    sweeps.sweep_consortium(job.consortium_id, NOW)
    assert set(Finding.objects.values_list("status", flat=True)) == {"resolved"}


def test_people_acknowledge_and_resolve_findings_with_a_note(
    compliance: Compliance, unchanged: Any
) -> None:
    job = live_job(compliance, action="copy_raw")
    sweeps.sweep_consortium(job.consortium_id, NOW)
    finding = Finding.objects.first()
    assert finding is not None
    with unchanged(), pytest.raises(AccessDeniedError):
        sweeps.finding_acknowledge(actor=compliance.grid.world.observer, finding=finding)
    acknowledged = sweeps.finding_acknowledge(
        actor=compliance.grid.technician, finding=finding, note="Pipeline paused"
    )
    assert acknowledged.status == Finding.Status.ACKNOWLEDGED
    with unchanged(), pytest.raises(ValidationError):
        sweeps.finding_resolve(actor=compliance.grid.technician, finding=finding, note=" ")
    resolved = sweeps.finding_resolve(
        actor=compliance.grid.technician, finding=finding, note="Job re-scoped to evaluation"
    )
    assert resolved.status == Finding.Status.RESOLVED
    assert "Job re-scoped" in resolved.note


def test_revoking_an_approval_sweeps_the_consortium_at_once(
    compliance: Compliance,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The trigger queues one sweep per consortium on commit; here the queue runs it in
    place of a worker (tests/compute/test_tasks.py runs tasks on a real one)."""
    from compute import directory, tasks
    from compute.models import Approval

    queued: list[int] = []

    def run_now(consortium_id: int) -> None:
        queued.append(consortium_id)
        sweeps.sweep_consortium(consortium_id)

    monkeypatch.setattr(tasks.compliance_sweep_consortium, "delay", run_now)
    job = live_job(compliance, starts_at=at("2026-11-01"), ends_at=at("2027-03-01"))
    with django_capture_on_commit_callbacks(execute=True):
        directory.approval_revoke(
            actor=compliance.grid.world.chair,
            approval=Approval.objects.get(provider=compliance.grid.provider),
            reason="Provider's certification withdrawn",
        )
    assert queued == [job.consortium_id]
    assert Finding.objects.filter(job=job, code="SITE_NOT_APPROVED").exists()


def test_the_compliance_page_lists_findings_to_acknowledge_and_resolve(
    compliance: Compliance, browser_as: Any, unchanged: Any
) -> None:
    job = live_job(compliance, action="copy_raw")
    sweeps.sweep_consortium(job.consortium_id, NOW)
    finding = Finding.objects.first()
    assert finding is not None
    consortium_id = compliance.grid.world.consortium_a.pk
    page = browser_as(compliance.grid.technician).get(
        f"/compute/consortia/{consortium_id}/compliance/"
    )
    assert page.status_code == 200
    assert "ACTION_NOT_PERMITTED" in page.content.decode()
    assert (
        browser_as(compliance.grid.world.outsider)
        .post(f"/compute/compliance/findings/{finding.pk}/acknowledge/")
        .status_code
        == 404
    )
    with unchanged():
        observer = browser_as(compliance.grid.world.observer)
        assert (
            observer.post(
                f"/compute/compliance/findings/{finding.pk}/resolve/", {"note": "x"}
            ).status_code
            == 403
        )
    technician = browser_as(compliance.grid.technician)
    technician.post(f"/compute/compliance/findings/{finding.pk}/acknowledge/", {"note": "Looking"})
    finding.refresh_from_db()
    assert finding.status == Finding.Status.ACKNOWLEDGED
    technician.post(f"/compute/compliance/findings/{finding.pk}/resolve/", {"note": "Re-scoped"})
    finding.refresh_from_db()
    assert finding.status == Finding.Status.RESOLVED


def test_a_note_too_long_to_keep_is_refused_on_the_page(
    compliance: Compliance, browser_as: Any, unchanged: Any
) -> None:
    job = live_job(compliance, action="copy_raw")
    sweeps.sweep_consortium(job.consortium_id, NOW)
    finding = Finding.objects.get(job=job)
    page = f"/compute/consortia/{job.consortium_id}/compliance/"
    technician = browser_as(compliance.grid.technician)
    assert f'name="note" maxlength="{sweeps.FINDING_NOTE_LENGTH}"' in technician.get(page).text
    with unchanged():
        answer = technician.post(
            f"/compute/compliance/findings/{finding.pk}/resolve/", {"note": "x" * 1001}, follow=True
        )
    assert "Keep the note within 1000 characters (1001 sent)." in answer.content.decode()
