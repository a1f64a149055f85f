"""Decisions read their rules from a cache, and a change to any rule shows in the very next
decision: whoever makes it and however (a service, ``queryset.update()``, raw SQL, a
many-to-many link), while a transaction's own uncommitted change shows in its own decisions
and never reaches anyone else's.

These tests commit (``committed_db``): inside an ordinary test's transaction every write
marks the transaction as one that wrote rules, so its decisions never use the cache at all.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from agreements import asset_services
from agreements import services as agreement_services
from alliance.round_trips import round_trips
from audit.models import AuditEvent
from compute import directory
from compute.compliance import rules_cache, services
from compute.compliance.generation import rules_generation
from compute.compliance.models import Decision
from compute.models import Approval, Certification
from consortia.models import Jurisdiction, JurisdictionMembership, User
from tests.compute.compliance.conftest import Compliance, job_fields
from tests.compute.compliance.test_api import body as api_body
from tests.compute.conftest import at
from tests.conftest import requires_postgres

DECISIONS = "/api/v1/compliance/decisions/"

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

ALLOWED = "allow_with_obligations"
# Tables of rules: a decision served from the cache reads none of them, not even to check
# that the sites and the jurisdiction a request names exist.
RULE_TABLES = (
    '"agreements_clause"',
    '"compute_approval"',
    '"compute_certification"',
    '"compute_site"',
    '"compute_transferbasis"',
    '"consortia_jurisdiction"',
    '"consortia_jurisdictionmembership"',
)


@pytest.fixture
def c(committed_db: None, compliance: Compliance) -> Compliance:
    rules_cache.forget_books()
    return compliance


def decide(c: Compliance, **changes: Any) -> Decision:
    return services.decide_and_record(
        actor=c.grid.technician,
        consortium=c.grid.world.consortium_a,
        spec_or_job=job_fields(c, **changes),
        at=at("2026-06-01"),
    )


def codes(decision: Decision) -> set[str]:
    return {reason["code"] for reason in decision.reasons}


def rule_reads(queries: CaptureQueriesContext) -> list[str]:
    return [
        query["sql"][:120]
        for query in queries.captured_queries
        if any(table in query["sql"] for table in RULE_TABLES)
    ]


def warm(c: Compliance) -> Decision:
    """A first decision (which loads the rules), then one served from the cache."""
    first = decide(c)
    with CaptureQueriesContext(connection) as queries:
        second = decide(c)
    assert rule_reads(queries) == []
    assert (second.outcome, second.rules_digest) == (first.outcome, first.rules_digest)
    assert second.input_snapshot == first.input_snapshot
    return second


def test_a_second_decision_reads_no_rules_and_decides_the_same(c: Compliance) -> None:
    assert rules_generation() is not None
    assert warm(c).outcome == ALLOWED


def test_another_process_takes_the_book_from_the_shared_cache(c: Compliance) -> None:
    warm(c)
    rules_cache.forget_books()
    with CaptureQueriesContext(connection) as queries:
        assert decide(c).outcome == ALLOWED
    assert rule_reads(queries) == []


def test_decisions_leave_the_shared_book_as_it_was(c: Compliance) -> None:
    # Sources read the book's own dictionaries (no copy per decision): none may add to them.
    warm(c)
    book = rules_cache.fact_source(c.grid.world.consortium_a.pk).rules
    assert book is not None
    before = {name: dict(getattr(book, name)) for name in BOOK_DICTIONARIES}
    for changes in ({"sites": [c.grid.paris, c.grid.frankfurt]}, {"output_jurisdiction": "JP"}):
        decide(c, **changes)
    assert rules_cache.fact_source(c.grid.world.consortium_a.pk).rules is book
    assert {name: dict(getattr(book, name)) for name in BOOK_DICTIONARIES} == before


BOOK_DICTIONARIES = ("sites", "certificates", "exposures", "clauses", "memberships")


def test_an_amendment_that_supersedes_the_version_shows_at_once(c: Compliance) -> None:
    warm(c)
    deal = c.deal
    amendment = agreement_services.version_new(
        actor=deal.legal_chair_org, agreement=deal.agreement, note="No more training"
    )
    clause = amendment.clauses.get(key=c.clause.key)
    terms = dict(c.clause.terms or {})
    asset_services.clause_set_terms(
        actor=deal.legal_chair_org,
        clause=clause,
        terms={**terms, "actions_allowed": ["evaluate"]},
    )
    agreement_services.version_submit(actor=deal.legal_chair_org, version=amendment)
    agreement_services.approval_give(actor=deal.legal_chair_org, version=amendment)
    agreement_services.approval_give(actor=deal.legal_member_org, version=amendment)
    agreement_services.agreement_send_for_signature(
        actor=deal.world.chair, agreement=deal.agreement
    )
    agreement_services.agreement_record_execution(
        actor=deal.world.chair,
        agreement=deal.agreement,
        executed_at=datetime.datetime(2026, 4, 1, tzinfo=datetime.UTC),
    )
    decision = decide(c)
    assert decision.outcome == "deny"
    assert "ACTION_NOT_PERMITTED" in codes(decision)


def test_terminating_the_agreement_shows_at_once(c: Compliance) -> None:
    warm(c)
    agreement_services.agreement_terminate(
        actor=c.grid.world.chair, agreement=c.deal.agreement, reason="Breach."
    )
    decision = decide(c)
    assert decision.outcome == "deny"
    assert "AGREEMENT_EXPIRED" in codes(decision)


def test_revoking_the_approval_shows_at_once(c: Compliance) -> None:
    warm(c)
    approval = Approval.objects.get(consortium=c.grid.world.consortium_a, provider=c.grid.provider)
    directory.approval_revoke(actor=c.grid.world.chair, approval=approval, reason="Audit failed.")
    assert "SITE_NOT_APPROVED" in codes(decide(c))


def test_a_warm_decision_checks_its_generation_with_its_write(c: Compliance, settings: Any) -> None:
    # Outside a transaction the book kept is used unchecked, and the generation travels in
    # the decision's own round trip, nothing read before it. (The statement goes as itself,
    # not prepared, to be seen.)
    settings.ALLIANCE_PREPARED_STATEMENTS = False
    warm(c)
    with round_trips() as sent:
        decide(c)
    trips = sent.statements
    generation_reads = [
        sql for trip in trips for sql in trip if "compliance_rules_generation" in sql
    ]
    assert len(generation_reads) == 1
    assert trips[-1] == generation_reads
    assert generation_reads[0].startswith("BEGIN; SELECT pg_advisory_xact_lock(")
    assert generation_reads[0].endswith("; COMMIT")


def test_the_gate_reads_the_standing_and_data_sets_together_and_writes_in_one(
    c: Compliance, api_as: Callable[[User], APIClient]
) -> None:
    client = api_as(c.grid.technician)
    for _ in range(2):  # the rules read and kept, the statements prepared
        assert client.post(DECISIONS, api_body(c), format="json").status_code == 201
    with round_trips() as sent:
        response = client.post(DECISIONS, api_body(c), format="json")
    assert response.status_code == 201, response.content
    trips = sent.statements
    # After the caller's session: the standing and the data sets in one round trip, then the
    # decision, its generation check and its event in the other (a prepared statement).
    (standing, datasets), (write,) = trips[-2:]
    assert '"consortia_membership"' in standing
    assert datasets.startswith('SELECT "agreements_dataset"')
    assert write.startswith("BEGIN; SELECT pg_advisory_xact_lock(")
    assert "; EXECUTE alliance_" in write
    assert not any("compliance_rules_generation" in sql for trip in trips for sql in trip)


def test_a_decision_made_from_a_stale_book_is_made_again_and_stored_once(c: Compliance) -> None:
    warm(c)
    before = Decision.objects.count()
    events = AuditEvent.objects.filter(object_type="compute.decision").count()
    approval = Approval.objects.get(consortium=c.grid.world.consortium_a, provider=c.grid.provider)
    directory.approval_revoke(actor=c.grid.world.chair, approval=approval, reason="Audit failed.")
    decision = decide(c)
    assert "SITE_NOT_APPROVED" in codes(decision)
    assert Decision.objects.count() == before + 1
    assert AuditEvent.objects.filter(object_type="compute.decision").count() == events + 1
    assert AuditEvent.objects.filter(
        object_type="compute.decision", object_id=str(decision.pk)
    ).exists()


def test_a_certificate_lapsed_by_a_queryset_update_shows_at_once(c: Compliance) -> None:
    certificate = Certification.objects.create(
        provider=c.grid.provider,
        site=c.grid.paris,
        scheme="iso_27001",
        valid_from=datetime.date(2025, 1, 1),
        valid_until=datetime.date(2028, 1, 1),
        evidence="ISO-1",
    )
    warm(c)
    Certification.objects.filter(pk=certificate.pk).update(valid_until=datetime.date(2026, 3, 1))
    assert "CERTIFICATION_EXPIRED" in codes(decide(c))


def test_a_transfer_basis_revoked_in_raw_sql_shows_at_once(c: Compliance) -> None:
    before = warm(c)
    seen = {basis["id"] for basis in before.input_snapshot["transfer_bases"]}
    assert seen, "the job's jurisdictions have transfer bases in force"
    revoked = min(seen)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE compute_transferbasis SET valid_until = %s WHERE id = %s",
            [datetime.date(2026, 2, 1), revoked],
        )
    after = decide(c)
    assert revoked not in {basis["id"] for basis in after.input_snapshot["transfer_bases"]}
    assert after.rules_digest != before.rules_digest


def test_leaving_a_bloc_shows_at_once(c: Compliance) -> None:
    warm(c)
    JurisdictionMembership.objects.filter(member_id="FR", bloc_id="EU").update(
        left_on=datetime.date(2026, 2, 1)
    )
    assert "SITE_JURISDICTION_NOT_ALLOWED" in codes(decide(c))


def test_a_site_administered_from_elsewhere_shows_at_once(c: Compliance) -> None:
    warm(c)
    c.grid.paris.administered_from.add(Jurisdiction.objects.get(pk="US"))
    assert "ADMIN_ACCESS_OUTSIDE_ALLOWED" in codes(decide(c))


def test_an_uncommitted_change_shows_to_its_own_transaction_only(c: Compliance) -> None:
    warm(c)
    approval = Approval.objects.get(consortium=c.grid.world.consortium_a, provider=c.grid.provider)
    with transaction.atomic():
        directory.approval_revoke(
            actor=c.grid.world.chair, approval=approval, reason="Audit failed."
        )
        # Its rules are not committed: this transaction reads them afresh, caching nothing.
        assert rules_generation() is None
        assert "SITE_NOT_APPROVED" in codes(decide(c))
        transaction.set_rollback(True)
    assert decide(c).outcome == ALLOWED
