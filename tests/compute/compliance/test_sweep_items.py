"""Sweeps beyond jobs: granted allocations are held to the terms of the data they name, in
batches that cost a fixed number of queries, with findings and audit events written in bulk."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from audit.services import EventSpec, audit_record_many
from audit.verification import verify
from compute import allocations
from compute.compliance import sweeps
from compute.compliance.models import Finding, Job
from compute.compliance.reasons import SEVERITY, Code, Severity
from compute.compliance.sources import FactSource, gather
from compute.models import AllocationRequest
from tests.compute.compliance.conftest import Compliance
from tests.compute.compliance.test_sweeps import NOW, live_job
from tests.compute.conftest import at


@pytest.fixture
def c(compliance: Compliance) -> Compliance:
    return compliance


DURING = at("2027-01-12")


def granted(c: Compliance, *sites: Any) -> AllocationRequest:
    """A request for the FR dataset at ``sites``, approved by the board, running over
    DURING."""
    request = allocations.request_submit(
        actor=c.grid.technician,
        pool=c.grid.pool,
        gpus=len(sites),
        starts_at=at("2027-01-10"),
        ends_at=at("2027-01-20"),
        purpose="Pre-train the radiology model",
        sites=list(sites),
        datasets=[c.dataset],
    )
    return allocations.request_decide(
        actor=c.grid.board_chair_org, request=request, decision="approve"
    )


def test_a_grant_that_puts_data_outside_its_residency_is_a_finding(c: Compliance) -> None:
    """The FR dataset may only be worked on federated, where it is: GPUs granted for it at
    Frankfurt (DE) move it, and the sweep says so, citing the clause."""
    request = granted(c, c.grid.frankfurt)
    result = sweeps.sweep_consortium(request.consortium_id, DURING)
    assert result.allocations == 1
    finding = Finding.objects.get(allocation=request, code="DATA_RESIDENCY_VIOLATION")
    assert finding.job is None
    assert finding.item == request
    assert finding.owner_id == request.organisation_id
    assert finding.source is not None
    assert finding.source["clause_id"] == c.clause.pk


def test_a_grant_where_the_data_lives_is_clean(c: Compliance) -> None:
    """An allocation has no purpose, action or output destination of its own: none of those
    is held against it."""
    request = granted(c, c.grid.paris)
    result = sweeps.sweep_consortium(request.consortium_id, DURING)
    assert (result.allocations, result.opened) == (1, 0)
    assert not Finding.objects.exists()


def test_the_findings_of_a_grant_resolve_when_it_ends(c: Compliance) -> None:
    request = granted(c, c.grid.frankfurt)
    sweeps.sweep_consortium(request.consortium_id, DURING)
    AllocationRequest.objects.filter(pk=request.pk).update(granted_ends_at=at("2027-01-13"))
    result = sweeps.sweep_consortium(request.consortium_id, at("2027-01-14"))
    assert result.resolved >= 1
    assert set(Finding.objects.values_list("status", flat=True)) == {"resolved"}


def test_batches_give_the_same_findings_as_one_pass(
    c: Compliance, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = [live_job(c, action=action) for action in ("copy_raw", "train", "copy_raw")]
    monkeypatch.setattr(sweeps, "BATCH", 1)
    first = sweeps.sweep_consortium(jobs[0].consortium_id, NOW)
    assert first.jobs == 3
    by_job = {job.pk: set(job.findings.values_list("code", flat=True)) for job in jobs}
    assert by_job[jobs[0].pk] == by_job[jobs[2].pk] == {"ACTION_NOT_PERMITTED"}
    assert by_job[jobs[1].pk] == set()
    again = sweeps.sweep_consortium(jobs[0].consortium_id, NOW)
    assert (again.opened, again.seen) == (0, first.opened)


def test_a_sweeps_queries_do_not_grow_with_its_jobs(c: Compliance) -> None:
    live_job(c, action="copy_raw")
    consortium_id = c.grid.world.consortium_a.pk
    sweeps.sweep_consortium(consortium_id, NOW)
    with CaptureQueriesContext(connection) as one:
        sweeps.sweep_consortium(consortium_id, NOW)
    for _ in range(5):
        live_job(c, action="copy_raw")
    sweeps.sweep_consortium(consortium_id, NOW)
    with CaptureQueriesContext(connection) as six:
        sweeps.sweep_consortium(consortium_id, NOW)
    assert len(six) == len(one), [query["sql"][:80] for query in six.captured_queries]


def test_many_new_findings_make_one_notification(c: Compliance, mailoutbox: Any) -> None:
    from consortia.inbox import Notification

    for _ in range(3):
        live_job(c, action="copy_raw")
    result = sweeps.sweep_consortium(c.grid.world.consortium_a.pk, NOW)
    assert result.opened == 3
    subjects = set(
        Notification.objects.filter(kind=Notification.Kind.COMPLIANCE_FINDING).values_list(
            "title", flat=True
        )
    )
    assert subjects == {"Compliance: 3 new findings on 3 items"}


def test_a_preloaded_source_gives_the_same_facts_without_a_query(c: Compliance) -> None:
    jobs = [live_job(c), live_job(c, action="copy_raw", movement="data_to_compute")]
    specs = [sweeps._job_items(Job.objects.filter(pk=job.pk), NOW)[0].spec for job in jobs]
    source = FactSource(c.grid.world.consortium_a.pk)
    source.preload(specs)
    source.facts(specs[0], NOW)  # the day's approvals and sites are read once, on first use
    with CaptureQueriesContext(connection) as queries:
        preloaded = [source.facts(spec, NOW) for spec in specs]
    assert len(queries) == 0
    assert preloaded == [gather(spec, NOW) for spec in specs]


def test_many_events_append_to_the_chain_under_one_lock(c: Compliance) -> None:
    job = live_job(c)
    before = AuditEvent.objects.count()
    events: list[EventSpec] = [
        {
            "action": "create",
            "actor": None,
            "consortium_id": job.consortium_id,
            "target": job,
            "changes": {"n": {"before": None, "after": n}},
        }
        for n in range(5)
    ]
    events.append({"action": "create", "actor": None, "target": job})  # the platform chain
    records = audit_record_many(events)
    assert AuditEvent.objects.count() == before + 6
    chained = [record for record in records if record.consortium_id == job.consortium_id]
    assert [r.sequence for r in chained] == list(
        range(chained[0].sequence, chained[0].sequence + 5)
    )
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chained))
    assert verify(chains=[chained[0].chain]).ok


def test_jobs_keep_the_finding_keys_they_had(c: Compliance) -> None:
    """Unresolved findings opened before allocations and placements were swept keep matching
    their jobs' reasons, so the first sweep after the upgrade opens nothing twice."""
    import hashlib

    from compute.compliance.reasons import Code, Reason, Subject

    reason = Reason(Code.ACTION_NOT_PERMITTED, Subject("dataset", 7, "x"), "", "", "", None)
    before = hashlib.sha256(b"42|ACTION_NOT_PERMITTED|dataset|7").hexdigest()
    assert sweeps.finding_key("job", 42, reason) == before
    assert sweeps.finding_key("allocation", 42, reason) != before


def test_the_compliance_page_shows_what_each_finding_is_on(c: Compliance, browser_as: Any) -> None:
    request = granted(c, c.grid.frankfurt)
    sweeps.sweep_consortium(request.consortium_id, DURING)
    page = browser_as(c.grid.technician).get(
        f"/compute/consortia/{request.consortium_id}/compliance/"
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "DATA_RESIDENCY_VIOLATION" in html
    assert f'Grant: <a href="/compute/requests/{request.pk}/">' in html


@pytest.mark.parametrize("code", list(Code))
def test_every_reason_code_has_a_severity(code: Code) -> None:
    assert SEVERITY[code] in set(Severity)


def test_findings_carry_their_codes_severity_and_the_page_puts_the_worst_first(
    c: Compliance, browser_as: Any
) -> None:
    live_job(c, action="copy_raw", starts_at=DURING, ends_at=at("2027-02-01"))  # high
    request = granted(c, c.grid.frankfurt)  # DATA_RESIDENCY_VIOLATION: critical
    sweeps.sweep_consortium(request.consortium_id, DURING)
    severities = dict(Finding.objects.values_list("code", "severity"))
    assert severities["DATA_RESIDENCY_VIOLATION"] == "critical"
    assert severities["ACTION_NOT_PERMITTED"] == "high"
    html = (
        browser_as(c.grid.technician)
        .get(f"/compute/consortia/{request.consortium_id}/compliance/")
        .content.decode()
    )
    counts = {str(s): list(severities.values()).count(s) for s in Severity}
    assert (
        f"({counts['critical']} critical, {counts['high']} high, {counts['medium']} medium)" in html
    )
    assert html.index("DATA_RESIDENCY_VIOLATION") < html.index("ACTION_NOT_PERMITTED")
