"""The signing ceremony: each party's signatory signs (or declines) the version out for
signature, in order when the agreement sets one. The last signature freezes the certificate
of completion and hands the version to the sealing task; the agreement becomes executed only
once that task has produced and validated the sealed PDF (agreements.sealing).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from agreements import permissions as policy
from agreements import services
from agreements.models import (
    Agreement,
    AgreementVersion,
    Party,
    Signature,
    SignedDocument,
)
from agreements.permissions import AgreementAction
from alliance.errors import AccessDeniedError
from audit import context
from audit.models import Action
from audit.services import audit_record
from consortia.models import User

CONSENT_TEXT = (
    "I have read this version of the agreement. I sign it on behalf of {organisation}, which "
    "I am authorised to bind, and I agree that this electronic signature has the same effect "
    "as my handwritten signature."
)
AUTHENTICATION = "Signed in, then password re-entered at signing"


def consent_text(party: Party) -> str:
    return CONSENT_TEXT.format(organisation=party.organisation.name)


def _signed_party_ids(version: AgreementVersion) -> set[int]:
    return set(
        version.signatures.filter(decision=Signature.Decision.SIGNED, voided=False).values_list(
            "party_id", flat=True
        )
    )


def parties_due(version: AgreementVersion) -> list[Party]:
    """Parties that may sign now: unsigned, and (when the agreement sets an order) with no
    unsigned party ahead of them. Order 0 means "any time"."""
    return due_among(
        version.agreement.parties.select_related("organisation", "signatory"),
        _signed_party_ids(version),
    )


def due_among(parties: Iterable[Party], signed: set[int]) -> list[Party]:
    """``parties_due`` for parties and signed party ids already read."""
    unsigned = [party for party in parties if party.pk not in signed]
    ordered = [party.signing_order for party in unsigned if party.signing_order > 0]
    first = min(ordered, default=0)
    return [party for party in unsigned if party.signing_order in (0, first)]


def parties_waiting(version: AgreementVersion) -> list[Party]:
    signed = _signed_party_ids(version)
    return [
        party
        for party in version.agreement.parties.select_related("organisation", "signatory")
        if party.pk not in signed
    ]


@dataclass(frozen=True)
class Ceremony:
    """Where signing stands, for the pages and the API: standing signatures in order, the
    parties still to sign, and the party (if any) the given person may sign for now."""

    signatures: list[Signature]
    waiting: list[Party]
    my_party: Party | None


def ceremony(version: AgreementVersion, user: Any) -> Ceremony:
    due = parties_due(version)
    mine = [party for party in due if party.signatory_id == getattr(user, "pk", None)]
    return Ceremony(
        signatures=list(
            version.signatures.filter(voided=False)
            .select_related("party__organisation")
            .order_by("decided_at")
        ),
        waiting=parties_waiting(version),
        my_party=mine[0] if mine else None,
    )


def _ceremony(actor: User, version: AgreementVersion) -> tuple[Agreement, AgreementVersion]:
    policy.require(actor, AgreementAction.VIEW, version)
    agreement = Agreement.objects.select_for_update().get(pk=version.agreement_id)
    version = AgreementVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != AgreementVersion.Status.OUT_FOR_SIGNATURE:
        raise ValidationError(
            f"Version {version.number} is {version.get_status_display().lower()}, "
            "not out for signature."
        )
    return agreement, version


def _party_of(actor: User, version: AgreementVersion) -> Party:
    mine = [
        party
        for party in version.agreement.parties.select_related("organisation")
        if party.signatory_id == actor.pk
    ]
    if not mine:
        raise AccessDeniedError(
            "Only the signatories named for the parties sign this agreement.",
            consortium_id=version.agreement.consortium_id,
            object_type="agreements.agreementversion",
            object_id=str(version.pk),
            action="sign",
        )
    signed = _signed_party_ids(version)
    due = {party.pk for party in parties_due(version)}
    for party in mine:
        if party.pk in due:
            return party
    if all(party.pk in signed for party in mine):
        raise ValidationError("You have already signed this version.")
    raise ValidationError("It is not your turn yet: the agreement sets a signing order.")


def _reauthenticate(actor: User, password: str) -> None:
    if not password or not actor.check_password(password):
        raise ValidationError({"password": "That is not your password."})


def _new_signature(
    actor: User, version: AgreementVersion, party: Party, decision: str, **evidence: str
) -> Signature:
    """The decision with where it came from: address and user agent of the request."""
    request = context.current()
    return Signature.objects.create(
        version=version,
        party=party,
        signatory=actor,
        signatory_display=actor.get_full_name() or actor.username,
        organisation_display=party.organisation.name,
        decision=decision,
        decided_at=timezone.now(),
        client_address=(request.client_address or "") if request else "",
        user_agent=(request.user_agent if request else "")[:500],
        **evidence,
    )


def _record(
    actor: User, agreement: Agreement, signature: Signature, **details: Any
) -> tuple[int, str]:
    event = audit_record(
        action=Action.SIGN,
        actor=actor,
        consortium_id=agreement.consortium_id,
        target=signature,
        related=agreement,
        **details,
    )
    return event.sequence, event.hash


@transaction.atomic
def signature_sign(
    *, actor: User, version: AgreementVersion, password: str, consent: bool
) -> Signature:
    """Sign for the actor's party. The last signature freezes the certificate of completion
    and starts the sealing task once the transaction commits."""
    agreement, version = _ceremony(actor, version)
    party = _party_of(actor, version)
    if not consent:
        raise ValidationError({"consent": "Confirm the consent text to sign."})
    _reauthenticate(actor, password)
    signature = _new_signature(
        actor,
        version,
        party,
        Signature.Decision.SIGNED,
        authentication=AUTHENTICATION,
        consent_text=consent_text(party),
    )
    sequence, head = _record(
        actor,
        agreement,
        signature,
        changes={
            "decision": {"before": None, "after": "signed"},
            "party": {"before": None, "after": str(party)},
            "content_hash": {"before": None, "after": version.content_hash},
        },
    )
    waiting = parties_waiting(version)
    if not waiting:
        _complete(agreement, version, signature.decided_at, sequence, head)
    from agreements import notifications

    notifications.after_signature(version, signature, complete=not waiting)
    return signature


def _complete(
    agreement: Agreement,
    version: AgreementVersion,
    executed_at: Any,
    audit_sequence: int,
    audit_head: str,
) -> SignedDocument:
    from agreements import sealing
    from agreements.pdf.completion import Completion, SignatureRecord

    signatures = version.signatures.filter(
        decision=Signature.Decision.SIGNED, voided=False
    ).select_related("party")
    completion = Completion(
        signatures=tuple(
            SignatureRecord(
                signatory=signature.signatory_display,
                organisation=signature.organisation_display,
                role=signature.party.get_role_display(),
                signed_at=signature.decided_at,
                client_address=signature.client_address,
                user_agent=signature.user_agent,
                authentication=signature.authentication,
            )
            for signature in signatures
        ),
        executed_at=executed_at,
        audit_chain=f"consortium:{agreement.consortium_id}",
        audit_sequence=audit_sequence,
        audit_head=audit_head,
    ).as_json()
    document, _ = SignedDocument.objects.update_or_create(
        version=version,
        defaults={
            "content_hash": version.content_hash,
            "completion": completion,
            "state": SignedDocument.State.PENDING,
            "error": "",
        },
    )
    sealing.schedule(document)
    return document


@transaction.atomic
def signature_decline(*, actor: User, version: AgreementVersion, reason: str) -> Signature:
    """Decline to sign: the version goes back to review, its approvals and the signatures
    given so far are void, and the parties renegotiate."""
    agreement, version = _ceremony(actor, version)
    party = _party_of(actor, version)
    if not reason.strip():
        raise ValidationError({"reason": "Say why you decline, so the parties can renegotiate."})
    signature = _new_signature(
        actor,
        version,
        party,
        Signature.Decision.DECLINED,
        authentication="Signed in",
        reason=reason.strip()[:1000],
    )
    voided = version.signatures.filter(decision=Signature.Decision.SIGNED, voided=False).update(
        voided=True
    )
    cleared = services.clear_approvals(actor, version, "a signatory declined to sign")
    version.status = AgreementVersion.Status.IN_REVIEW
    version.save(update_fields=["status"])
    if agreement.status == Agreement.Status.OUT_FOR_SIGNATURE:
        agreement.status = Agreement.Status.IN_REVIEW
        agreement.save(update_fields=["status", "updated_at"])
    _record(
        actor,
        agreement,
        signature,
        changes={
            "decision": {"before": None, "after": "declined"},
            "status": {"before": "out_for_signature", "after": "in_review"},
            "signatures_voided": voided,
            "approvals_cleared": cleared,
        },
        reason=signature.reason,
    )
    from agreements import notifications

    notifications.after_decline(version, signature)
    return signature
