"""Drafting, review, approval and execution, through the services."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction

from agreements import content, services
from agreements.models import Agreement, AgreementVersion, Approval, Clause, ClauseTemplate
from audit.models import AuditEvent
from consortia.models import Jurisdiction
from tests.agreements.conftest import Deal, execute


def test_a_new_agreement_starts_with_a_draft_version(deal: Deal) -> None:
    assert deal.agreement.status == "draft"
    assert [(c.position, c.heading) for c in deal.version.clauses.order_by("position")] == [
        (1, "Definitions"),
        (2, "Ownership"),
        (3, "Term"),
    ]
    assert (
        AuditEvent.objects.filter(
            related_object_type="agreements.agreement", related_object_id=str(deal.agreement.pk)
        ).count()
        >= 6
    )


def test_only_legal_people_and_the_chair_draft(deal: Deal) -> None:
    with pytest.raises(PermissionDenied):
        services.agreement_create(
            actor=deal.world.observer,
            consortium=deal.world.consortium_a,
            kind="nda",
            title="x",
            governing_law=Jurisdiction.objects.get(pk="DE"),
        )
    with pytest.raises(PermissionDenied):
        services.clause_add(actor=deal.world.member, version=deal.version, heading="x", body="y")


def test_parties_must_be_active_members(deal: Deal) -> None:
    with pytest.raises(ValidationError, match="not an active member"):
        services.party_add(
            actor=deal.legal_chair_org,
            agreement=deal.agreement,
            organisation=deal.world.org_outsider,
            role="licensee",
        )
    with pytest.raises(ValidationError, match="does not belong"):
        services.party_add(
            actor=deal.legal_chair_org,
            agreement=deal.agreement,
            organisation=deal.world.org_member,
            role="contributor",
            signatory=deal.world.chair,
        )


def test_submit_freezes_with_a_content_hash(deal: Deal) -> None:
    version = services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    expected = content.content_hash(
        [
            {
                "key": str(c.key),
                "level": c.level,
                "kind": c.kind,
                "heading": c.heading,
                "body": c.body,
            }
            for c in version.clauses.order_by("position")
        ]
    )
    assert (version.status, version.content_hash) == ("in_review", expected)
    deal.agreement.refresh_from_db()
    assert deal.agreement.status == "in_review"
    with pytest.raises(ValidationError, match="only a draft can be edited"):
        services.clause_add(
            actor=deal.legal_chair_org, version=version, heading="Late", body="addition"
        )


def test_approvals_by_each_party_approve_the_version(deal: Deal) -> None:
    services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    services.approval_give(actor=deal.legal_chair_org, version=deal.version)
    assert services.approvals_missing(deal.version) == ["Member Org"]
    with pytest.raises(PermissionDenied):
        services.approval_give(actor=deal.world.member, version=deal.version)  # not a legal person
    with pytest.raises(ValidationError, match="already"):
        services.approval_give(actor=deal.legal_chair_org, version=deal.version)
    services.approval_give(actor=deal.legal_member_org, version=deal.version)
    deal.version.refresh_from_db()
    deal.agreement.refresh_from_db()
    assert (deal.version.status, deal.agreement.status) == ("approved", "approved")


def test_steering_approval_when_required(deal: Deal) -> None:
    services.agreement_update(
        actor=deal.legal_chair_org, agreement=deal.agreement, requires_steering_approval=True
    )
    services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    services.approval_give(actor=deal.legal_chair_org, version=deal.version)
    services.approval_give(actor=deal.legal_member_org, version=deal.version)
    assert services.approvals_missing(deal.version) == ["the steering committee"]
    with pytest.raises(PermissionDenied):
        services.approval_give(actor=deal.world.observer, version=deal.version, steering=True)
    services.approval_give(actor=deal.world.member, version=deal.version, steering=True)
    deal.version.refresh_from_db()
    assert deal.version.status == "approved"


def test_reopening_for_an_edit_clears_every_approval(deal: Deal) -> None:
    services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    services.approval_give(actor=deal.legal_chair_org, version=deal.version)
    services.version_reopen(
        actor=deal.legal_member_org, version=deal.version, reason="Clause 2 needs a cap"
    )
    assert not Approval.objects.filter(version=deal.version).exists()
    assert (
        AuditEvent.objects.filter(action="revoke", object_type="agreements.approval").count() == 1
    )
    deal.version.refresh_from_db()
    assert deal.version.status == "draft"
    services.clause_add(
        actor=deal.legal_member_org,
        version=deal.version,
        heading="Cap",
        body="Liability is capped.",
    )


def test_execution_and_amendment(deal: Deal) -> None:
    executed = execute(deal)
    deal.agreement.refresh_from_db()
    assert (executed.status, deal.agreement.status) == ("executed", "executed")
    assert executed.executed_at is not None
    amendment = services.version_new(
        actor=deal.legal_chair_org, agreement=deal.agreement, note="Add a cap"
    )
    assert amendment.number == 2
    assert amendment.based_on == executed
    assert list(amendment.clauses.values_list("key", flat=True)) == list(
        executed.clauses.values_list("key", flat=True)
    )
    deal.agreement.refresh_from_db()
    assert deal.agreement.status == "executed", (
        "the executed agreement stays in force during an amendment"
    )
    services.clause_add(
        actor=deal.legal_chair_org, version=amendment, heading="Cap", body="Capped."
    )
    services.version_submit(actor=deal.legal_chair_org, version=amendment)
    services.approval_give(actor=deal.legal_chair_org, version=amendment)
    services.approval_give(actor=deal.legal_member_org, version=amendment)
    services.agreement_send_for_signature(actor=deal.world.chair, agreement=deal.agreement)
    services.agreement_record_execution(actor=deal.world.chair, agreement=deal.agreement)
    executed.refresh_from_db()
    amendment.refresh_from_db()
    assert (executed.status, amendment.status) == ("superseded", "executed")


def test_a_new_round_withdraws_the_version_under_review(deal: Deal) -> None:
    services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    services.approval_give(actor=deal.legal_chair_org, version=deal.version)
    second = services.version_new(
        actor=deal.legal_member_org, agreement=deal.agreement, note="Counter-proposal"
    )
    deal.version.refresh_from_db()
    assert deal.version.status == "withdrawn"
    assert not deal.version.approvals.exists()
    assert second.status == "draft"


def test_sending_for_signature_needs_signatories_and_approval(deal: Deal) -> None:
    with pytest.raises(ValidationError, match="no approved version"):
        services.agreement_send_for_signature(actor=deal.world.chair, agreement=deal.agreement)


def test_library_clause_is_filled_in(deal: Deal) -> None:
    template = ClauseTemplate.objects.get(slug="jdc-joint-ownership")
    clause = services.clause_add(
        actor=deal.legal_chair_org, version=deal.version, template=template, position=1
    )
    assert clause.position == 1
    assert "Chair Org, Member Org" in clause.body
    assert "Consortium A" in clause.body
    assert "${" not in clause.body
    assert [c.heading for c in deal.version.clauses.order_by("position")][:2] == [
        "Joint ownership of developed IP",
        "Definitions",
    ]


def test_clause_move_and_delete_renumber(deal: Deal) -> None:
    term = deal.version.clauses.get(heading="Term")
    services.clause_move(actor=deal.legal_chair_org, clause=term, position=1)
    assert list(deal.version.clauses.order_by("position").values_list("heading", flat=True)) == [
        "Term",
        "Definitions",
        "Ownership",
    ]
    services.clause_delete(
        actor=deal.legal_chair_org, clause=deal.version.clauses.get(heading="Definitions")
    )
    assert list(deal.version.clauses.order_by("position").values_list("heading", "position")) == [
        ("Term", 1),
        ("Ownership", 2),
    ]
    with pytest.raises(ValidationError, match="from 1 to 2"):
        services.clause_move(actor=deal.legal_chair_org, clause=term, position=5)


def test_rendering_strips_html(deal: Deal) -> None:
    html = content.render(
        "**Bold** <script>alert(1)</script> [link](javascript:alert(1)) [ok](https://example.eu)"
    )
    assert "<strong>Bold</strong>" in html
    assert "<script" not in html
    assert "javascript:" not in html
    assert 'href="https://example.eu"' in html


def test_numbering() -> None:
    class C:
        def __init__(self, level: int) -> None:
            self.level = level

    assert [item.number for item in content.numbered([C(0), C(1), C(1), C(0), C(0), C(1)])] == [
        "1",
        "1.1",
        "1.2",
        "2",
        "3",
        "3.1",
    ]


# The database itself refuses what the services refuse.


def test_database_refuses_editing_a_frozen_version(deal: Deal) -> None:
    services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    clause = deal.version.clauses.first()
    assert clause is not None
    attempts: tuple[tuple[str, list[Any]], ...] = (
        ("UPDATE agreements_clause SET body = 'tampered' WHERE id = %s", [clause.pk]),
        ("DELETE FROM agreements_clause WHERE id = %s", [clause.pk]),
        (
            "UPDATE agreements_agreementversion SET content_hash = %s WHERE id = %s",
            ["0" * 64, deal.version.pk],
        ),
        ("DELETE FROM agreements_agreementversion WHERE id = %s", [deal.version.pk]),
    )
    for statement, params in attempts:
        with (
            pytest.raises((DatabaseError, IntegrityError)),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, params)
    assert Clause.objects.get(pk=clause.pk).body != "tampered"


def test_database_keeps_an_executed_version_executed(deal: Deal) -> None:
    executed = execute(deal)
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        AgreementVersion.objects.filter(pk=executed.pk).update(status="draft")
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        Clause.objects.create(version=executed, position=99, heading="Sneaked in", body="x")
    assert AgreementVersion.objects.get(pk=executed.pk).status == "executed"


def test_one_draft_at_a_time(deal: Deal) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        AgreementVersion.objects.create(agreement=deal.agreement, number=2)


def test_bad_dates_are_refused(deal: Deal, unchanged: Any) -> None:
    import datetime

    with pytest.raises(ValidationError, match="expire after"):
        services.agreement_update(
            actor=deal.legal_chair_org,
            agreement=deal.agreement,
            effective_on=datetime.date(2027, 1, 1),
            expires_on=datetime.date(2026, 1, 1),
        )
    assert Agreement.objects.get(pk=deal.agreement.pk).expires_on is None
