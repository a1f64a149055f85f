"""The shortcuts a sweep takes at size build exactly what the plain ORM would."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection

from alliance.copy_insert import copy_insert
from compute.compliance import sweeps
from compute.compliance.facts import JobSpec
from compute.compliance.models import Finding, Job
from compute.compliance.reasons import SEVERITY, Code, Reason, Source, Subject
from tests.compute.compliance.conftest import Compliance
from tests.compute.compliance.test_sweeps import NOW as SWEPT
from tests.compute.compliance.test_sweeps import live_job
from tests.compute.conftest import at

NOW = datetime.datetime(2026, 6, 2, 9, 30, tzinfo=datetime.UTC)


def _values(finding: Finding) -> list[object]:
    return [getattr(finding, field.attname) for field in Finding._meta.concrete_fields]


def test_a_new_finding_built_positionally_is_the_one_keywords_build() -> None:
    source = Source(3, "Data sharing", 4, 2, 5, "2.1")
    for kind, reason in (
        ("job", Reason(Code.SITE_NOT_APPROVED, Subject("site", 9, "Paris (FR)"), "a", "b", "m")),
        (
            "placement",
            Reason(Code.AGREEMENT_EXPIRED, Subject("dataset", 1, "X"), "", "", "", source),
        ),
    ):
        item = sweeps.Item(kind, 42, 7, _spec(), NOW)
        built = sweeps._new_finding(item, "k" * 64, reason, NOW)
        keywords = Finding(
            consortium_id=1,
            **{f"{kind}_id": 42},
            owner_id=7,
            key="k" * 64,
            code=str(reason.code),
            severity=str(SEVERITY[reason.code]),
            subject=reason.subject.as_json(),
            message=reason.message,
            expected=reason.expected,
            actual=reason.actual,
            source=reason.source.as_json() if reason.source else None,
            opened_at=NOW,
            last_seen_at=NOW,
        )
        assert _values(built) == _values(keywords)
        assert built._state.adding
        assert built.pk is None


def _spec() -> JobSpec:
    return JobSpec(
        consortium_id=1,
        organisation_id=7,
        dataset_ids=(1,),
        site_ids=(2,),
        purpose="",
        action="",
        movement="data_to_compute",
        starts_at=NOW,
        ends_at=NOW,
    )


def test_a_jobs_spec_read_as_a_row_is_the_one_its_instance_gives(compliance: Compliance) -> None:
    plain = live_job(compliance)
    federated = live_job(
        compliance,
        movement="federated",
        output_jurisdiction_id=None,
        output_site=compliance.grid.paris,
        dp_epsilon=None,
        secure_aggregation=False,
        starts_at=at("2026-06-05"),
    )
    federated.sites.add(compliance.grid.frankfurt)
    unlinked = live_job(compliance)
    unlinked.datasets.clear()
    unlinked.sites.clear()
    jobs = [plain, federated, unlinked]
    locked = Job.objects.filter(pk__in=[job.pk for job in jobs]).order_by("pk")
    items = sweeps._job_items(locked, SWEPT)
    assert [item.spec for item in items] == [JobSpec.from_job(job) for job in jobs]
    assert [(item.kind, item.pk, item.owner_id, item.at) for item in items] == [
        ("job", job.pk, job.organisation_id, max(SWEPT, job.starts_at)) for job in jobs
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's fill factor")
def test_marking_findings_seen_rewrites_them_in_place(compliance: Compliance) -> None:
    """Every sweep rewrites every finding it sees again: the update must stay on the row's
    page (heap-only, no index entry), or each sweep adds one to each of nine indexes and a
    copy of the table. Rows big enough that pages packed full could not take the update."""
    job = live_job(compliance)
    item = sweeps.Item("job", job.pk, job.organisation_id, JobSpec.from_job(job), SWEPT)
    findings = [
        sweeps._new_finding(
            item,
            f"{n:064d}",
            Reason(Code.SITE_NOT_APPROVED, Subject("site", n, "Paris (FR)"), "", "", "x" * 1_000),
            SWEPT,
        )
        for n in range(24)
    ]
    copy_insert(findings)

    seen = Finding.objects.filter(pk__in=[finding.pk for finding in findings]).update(
        last_seen_at=SWEPT + datetime.timedelta(hours=1)
    )

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables"
            " WHERE relname = 'compute_finding'"
        )
        assert cursor.fetchone() == (seen, seen) == (24, 24)
