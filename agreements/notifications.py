"""Who hears about each step of the signing ceremony, by e-mail once the step commits: the
next signatories when it is their turn, every party's signatory and legal people when the
agreement is complete or a signatory declines."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from agreements.models import AgreementVersion, Party, Signature
from consortia.models import Membership, Role, User


def _legal_and_signatories(version: AgreementVersion) -> list[str]:
    agreement = version.agreement
    organisations = agreement.parties.values_list("organisation_id", flat=True)
    legal = User.objects.filter(
        is_active=True,
        organisation_id__in=organisations,
        role_assignments__consortium_id=agreement.consortium_id,
        role_assignments__role__in=[Role.LEGAL, Role.CHAIR],
        organisation__memberships__consortium_id=agreement.consortium_id,
        organisation__memberships__status=Membership.Status.ACTIVE,
    )
    signatories = User.objects.filter(signatory_for__agreement=agreement, is_active=True)
    return sorted(
        {address for address in (legal | signatories).values_list("email", flat=True) if address}
    )


def _send(subject: str, body: str, recipients: list[str]) -> None:
    if not recipients:
        return
    from consortia.tasks import send_notice

    transaction.on_commit(lambda: send_notice.delay(subject, body, recipients), robust=True)


def _link(version: AgreementVersion) -> str:
    return f"{settings.PUBLIC_BASE_URL}/agreement-versions/{version.pk}/sign/"


def sent_for_signature(version: AgreementVersion) -> None:
    from agreements.signing import parties_due

    _ask_to_sign(version, parties_due(version))


def _ask_to_sign(version: AgreementVersion, parties: list[Party]) -> None:
    recipients = sorted(
        {party.signatory.email for party in parties if party.signatory and party.signatory.email}
    )
    _send(
        f"Please sign: {version.agreement.title}, version {version.number}",
        f"{version.agreement.title} (version {version.number}) is waiting for your signature.\n\n"
        f"Read it and sign or decline here: {_link(version)}\n",
        recipients,
    )


def after_signature(version: AgreementVersion, signature: Signature, *, complete: bool) -> None:
    from agreements.signing import parties_due

    title = f"{version.agreement.title}, version {version.number}"
    if complete:
        _send(
            f"Signed by every party: {title}",
            f"{signature.signatory_display} ({signature.organisation_display}) signed last. "
            "The executed PDF is being sealed; the agreement becomes executed when it is "
            f"ready: {settings.PUBLIC_BASE_URL}/agreements/{version.agreement_id}/\n",
            _legal_and_signatories(version),
        )
        return
    # Parties without an order, and those sharing the signer's place, were asked already.
    signer_order = signature.party.signing_order
    newly_due = [
        party for party in parties_due(version) if party.signing_order not in (0, signer_order)
    ]
    _ask_to_sign(version, newly_due)


def after_decline(version: AgreementVersion, signature: Signature) -> None:
    _send(
        f"Signature declined: {version.agreement.title}, version {version.number}",
        f"{signature.signatory_display} ({signature.organisation_display}) declined to sign:\n\n"
        f"  {signature.reason}\n\nThe version is back in review and every signature and "
        f"approval given so far is void: {settings.PUBLIC_BASE_URL}/agreements/"
        f"{version.agreement_id}/\n",
        _legal_and_signatories(version),
    )
