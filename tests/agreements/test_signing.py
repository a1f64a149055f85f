"""The signing ceremony: who signs, in which order, with what evidence; declines; and the
executed agreement only once the sealed PDF exists."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from agreements import signing
from agreements.models import Agreement, AgreementVersion, Party, Signature, SignedDocument
from alliance.errors import AccessDeniedError
from audit.models import AuditEvent
from tests.agreements.conftest import Deal
from tests.agreements.signing_helpers import PASSWORD, send_for_signature, sign_all


def test_both_parties_sign_then_the_agreement_is_executed_with_a_sealed_pdf(
    deal: Deal, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        version = send_for_signature(deal)
    asked = {message.to[0] for message in mail.outbox if message.subject.startswith("Please sign")}
    assert asked == {deal.world.chair.email, deal.world.member.email}
    document = sign_all(deal, django_capture_on_commit_callbacks)
    version.refresh_from_db()
    deal.agreement.refresh_from_db()
    assert document.state == SignedDocument.State.SEALED, document.error
    assert version.status == AgreementVersion.Status.EXECUTED
    assert deal.agreement.status == Agreement.Status.EXECUTED
    assert version.executed_at is not None
    assert version.executed_at.isoformat() == document.completion["executed_at"]
    assert [item["organisation"] for item in document.completion["signatures"]] == [
        deal.world.org_chair.name,
        deal.world.org_member.name,
    ]
    head = AuditEvent.objects.get(
        chain=document.completion["audit_chain"], sequence=document.completion["audit_sequence"]
    )
    assert head.hash == document.completion["audit_head"]
    assert head.action == "sign"
    sealed_event = AuditEvent.objects.get(
        object_type="agreements.signeddocument", object_id=str(document.pk)
    )
    assert document.sha256 in sealed_event.changes
    assert any("Signed by every party" in message.subject for message in mail.outbox)


def test_signing_order_is_kept(deal: Deal) -> None:
    Party.objects.filter(agreement=deal.agreement, organisation=deal.world.org_chair).update(
        signing_order=2
    )
    Party.objects.filter(agreement=deal.agreement, organisation=deal.world.org_member).update(
        signing_order=1
    )
    version = send_for_signature(deal)
    assert [party.organisation for party in signing.parties_due(version)] == [deal.world.org_member]
    with pytest.raises(ValidationError, match="not your turn"):
        signing.signature_sign(
            actor=deal.world.chair, version=version, password=PASSWORD, consent=True
        )
    signing.signature_sign(
        actor=deal.world.member, version=version, password=PASSWORD, consent=True
    )
    assert [party.organisation for party in signing.parties_due(version)] == [deal.world.org_chair]


@pytest.mark.parametrize(
    ("password", "consent", "field"),
    [("wrong", True, "password"), ("", True, "password"), (PASSWORD, False, "consent")],
)
def test_bad_signing_input_is_refused_and_changes_nothing(
    deal: Deal, unchanged: Any, password: str, consent: bool, field: str
) -> None:
    version = send_for_signature(deal)
    with unchanged(), pytest.raises(ValidationError) as raised:
        signing.signature_sign(
            actor=deal.world.chair, version=version, password=password, consent=consent
        )
    assert field in raised.value.message_dict


def test_only_named_signatories_sign_and_only_once(deal: Deal, unchanged: Any) -> None:
    version = send_for_signature(deal)
    with unchanged(), pytest.raises(AccessDeniedError):
        signing.signature_sign(
            actor=deal.legal_chair_org, version=version, password=PASSWORD, consent=True
        )
    signing.signature_sign(actor=deal.world.chair, version=version, password=PASSWORD, consent=True)
    with unchanged(), pytest.raises(ValidationError, match="already signed"):
        signing.signature_sign(
            actor=deal.world.chair, version=version, password=PASSWORD, consent=True
        )


def test_a_version_not_out_for_signature_cannot_be_signed(deal: Deal, unchanged: Any) -> None:
    with unchanged(), pytest.raises(ValidationError, match="not out for signature"):
        signing.signature_sign(
            actor=deal.world.chair, version=deal.version, password=PASSWORD, consent=True
        )


def test_a_decline_returns_the_version_to_review(
    deal: Deal, django_capture_on_commit_callbacks: Any
) -> None:
    version = send_for_signature(deal)
    signing.signature_sign(actor=deal.world.chair, version=version, password=PASSWORD, consent=True)
    with pytest.raises(ValidationError):
        signing.signature_decline(actor=deal.world.member, version=version, reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        signing.signature_decline(
            actor=deal.world.member, version=version, reason="The liability cap is missing."
        )
    version.refresh_from_db()
    deal.agreement.refresh_from_db()
    assert version.status == AgreementVersion.Status.IN_REVIEW
    assert deal.agreement.status == Agreement.Status.IN_REVIEW
    assert not version.approvals.exists()
    cleared = AuditEvent.objects.filter(action="revoke", object_type="agreements.approval")
    assert cleared.count() == 2
    assert all("a signatory declined" in event.reason for event in cleared)
    assert list(version.signatures.values_list("decision", "voided")) == [
        ("signed", True),
        ("declined", False),
    ]
    assert not SignedDocument.objects.exists()
    assert "The liability cap is missing." in mail.outbox[-1].body


def test_signature_records_the_evidence_from_the_request(deal: Deal, browser_as: Any) -> None:
    version = send_for_signature(deal)
    client = browser_as(deal.world.chair)
    page = client.get(reverse("agreements:sign", args=[version.pk]))
    assert page.status_code == 200
    assert deal.world.org_chair.name in page.content.decode()
    assert "authorised to bind" in page.content.decode()
    refused = client.post(
        reverse("agreements:sign", args=[version.pk]), {"consent": "on", "password": "nope"}
    )
    assert refused.status_code == 400
    assert "That is not your password." in refused.content.decode()
    assert not Signature.objects.exists()
    response = client.post(
        reverse("agreements:sign", args=[version.pk]),
        {"consent": "on", "password": PASSWORD},
        HTTP_USER_AGENT="Firefox/140 (tests)",
        REMOTE_ADDR="192.0.2.10",
    )
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert (signature.client_address, signature.user_agent) == ("192.0.2.10", "Firefox/140 (tests)")
    assert "password re-entered" in signature.authentication


def test_signing_pages_from_outside(deal: Deal, browser_as: Any, unchanged: Any) -> None:
    version = send_for_signature(deal)
    url = reverse("agreements:sign", args=[version.pk])
    assert browser_as(deal.world.outsider).get(url).status_code == 404
    assert browser_as(None).get(url).status_code == 302
    with unchanged():
        outsider = browser_as(deal.world.outsider).post(
            url, {"consent": "on", "password": PASSWORD}
        )
        observer = browser_as(deal.world.observer).post(
            url, {"consent": "on", "password": PASSWORD}
        )
        decline = browser_as(deal.world.observer).post(
            reverse("agreements:decline", args=[version.pk]), {"reason": "no"}
        )
    assert outsider.status_code == 404
    assert observer.status_code == 403
    assert decline.status_code == 403
