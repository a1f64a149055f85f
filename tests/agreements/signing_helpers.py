"""Walking a deal through the signing ceremony, for the signing and document tests."""

from __future__ import annotations

from typing import Any

from agreements import services, signing
from agreements.models import AgreementVersion, SignedDocument
from tests.agreements.conftest import Deal

PASSWORD = "password"  # tests.consortia.factories gives every user this one


def send_for_signature(deal: Deal) -> AgreementVersion:
    services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    services.approval_give(actor=deal.legal_chair_org, version=deal.version)
    services.approval_give(actor=deal.legal_member_org, version=deal.version)
    services.agreement_send_for_signature(actor=deal.world.chair, agreement=deal.agreement)
    deal.version.refresh_from_db()
    return deal.version


def sign_all(deal: Deal, capture: Any) -> SignedDocument:
    """Both signatories sign; the sealing task runs (in-process) when the last one commits."""
    with capture(execute=True):
        for signatory in (deal.world.chair, deal.world.member):
            signing.signature_sign(
                actor=signatory, version=deal.version, password=PASSWORD, consent=True
            )
    return SignedDocument.objects.get(version=deal.version)
