"""Who hears about each step of the signing ceremony, in the inbox and by e-mail once the step
commits: the next signatories when it is their turn, every party's signatory and legal people
when the agreement is complete or a signatory declines."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse

from agreements.models import AgreementVersion, Party, Signature
from consortia.inbox import Notification, deliver
from consortia.models import Membership, Role, User


def _legal_and_signatories(version: AgreementVersion) -> QuerySet[User]:
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
    return User.objects.filter(Q(pk__in=legal.values("pk")) | Q(pk__in=signatories.values("pk")))


def _sign_path(version: AgreementVersion) -> str:
    return reverse("agreements:sign", args=[version.pk])


def _agreement_path(version: AgreementVersion) -> str:
    return reverse("agreements:detail", args=[version.agreement_id])


def sent_for_signature(version: AgreementVersion) -> None:
    from agreements.signing import parties_due

    _ask_to_sign(version, parties_due(version))


def _ask_to_sign(version: AgreementVersion, parties: list[Party]) -> None:
    link = settings.PUBLIC_BASE_URL + _sign_path(version)
    body = f"{version.agreement.title} (version {version.number}) is waiting for your signature."
    deliver(
        [party.signatory for party in parties if party.signatory],
        kind=Notification.Kind.SIGNATURE_REQUESTED,
        subject=f"Please sign: {version.agreement.title}, version {version.number}",
        body=body,
        url=_sign_path(version),
        consortium=version.agreement.consortium_id,
        email_body=f"{body}\n\nRead it and sign or decline here: {link}\n",
    )


def after_signature(version: AgreementVersion, signature: Signature, *, complete: bool) -> None:
    from agreements.signing import parties_due

    title = f"{version.agreement.title}, version {version.number}"
    if complete:
        body = (
            f"{signature.signatory_display} ({signature.organisation_display}) signed last. "
            "The executed PDF is being sealed; the agreement becomes executed when it is ready."
        )
        deliver(
            _legal_and_signatories(version),
            kind=Notification.Kind.AGREEMENT_SIGNED,
            subject=f"Signed by every party: {title}",
            body=body,
            url=_agreement_path(version),
            consortium=version.agreement.consortium_id,
            email_body=f"{body.removesuffix('.')}: "
            f"{settings.PUBLIC_BASE_URL}{_agreement_path(version)}\n",
        )
        return
    # Parties without an order, and those sharing the signer's place, were asked already.
    signer_order = signature.party.signing_order
    newly_due = [
        party for party in parties_due(version) if party.signing_order not in (0, signer_order)
    ]
    _ask_to_sign(version, newly_due)


def after_decline(version: AgreementVersion, signature: Signature) -> None:
    body = (
        f"{signature.signatory_display} ({signature.organisation_display}) declined to sign:\n\n"
        f"  {signature.reason}\n\nThe version is back in review and every signature and "
        "approval given so far is void."
    )
    deliver(
        _legal_and_signatories(version),
        kind=Notification.Kind.SIGNATURE_DECLINED,
        subject=f"Signature declined: {version.agreement.title}, version {version.number}",
        body=body,
        url=_agreement_path(version),
        consortium=version.agreement.consortium_id,
        email_body=f"{body.removesuffix('.')}: "
        f"{settings.PUBLIC_BASE_URL}{_agreement_path(version)}\n",
    )
