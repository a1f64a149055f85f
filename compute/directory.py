"""The shared directory of providers and sites, and each consortium's approvals of them.

Every attribute that makes a site "sovereign" or not is recorded with its date and evidence
(certificates with validity, exposures with their legal basis and when they were assessed),
so the residency engine can weigh them as of any day instead of trusting a label.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from alliance.errors import ConflictError
from audit.models import Action
from audit.services import audit_record
from compute import permissions
from compute.models import (
    Approval,
    Certification,
    Exposure,
    ExtraterritorialLaw,
    Provider,
    Scheme,
    Site,
)
from compute.permissions import ComputeAction
from consortia import planning_services
from consortia.models import Consortium, Jurisdiction, Motion, User


def _changes(**values: Any) -> dict[str, dict[str, Any]]:
    return {key: {"before": None, "after": value} for key, value in values.items()}


@transaction.atomic
def provider_register(
    *,
    actor: User,
    legal_name: str,
    head_office_jurisdiction: Jurisdiction,
    ultimate_parent_jurisdiction: Jurisdiction,
) -> Provider:
    permissions.require_directory_editor(actor)
    legal_name = legal_name.strip()
    if not legal_name:
        raise ValidationError({"legal_name": "A provider needs its legal name."})
    if Provider.objects.filter(legal_name__iexact=legal_name).exists():
        raise ValidationError({"legal_name": f"{legal_name} is already in the directory."})
    provider = Provider.objects.create(
        legal_name=legal_name,
        head_office_jurisdiction=head_office_jurisdiction,
        ultimate_parent_jurisdiction=ultimate_parent_jurisdiction,
        registered_by=actor,
    )
    audit_record(
        action=Action.CREATE,
        actor=actor,
        target=provider,
        changes=_changes(
            legal_name=legal_name,
            head_office=head_office_jurisdiction.pk,
            ultimate_parent=ultimate_parent_jurisdiction.pk,
        ),
    )
    return provider


@transaction.atomic
def exposure_record(
    *,
    actor: User,
    provider: Provider,
    law: str,
    basis: str,
    assessed_on: datetime.date,
    notes: str = "",
) -> Exposure:
    permissions.require_directory_editor(actor)
    errors: dict[str, str] = {}
    if law not in ExtraterritorialLaw.values:
        errors["law"] = (
            "Name the law: us_cloud_act, us_fisa_702, cn_national_intelligence or other."
        )
    if basis not in Exposure.Basis.values:
        errors["basis"] = f"Say on what basis: {', '.join(Exposure.Basis.values)}."
    if assessed_on > timezone.localdate():
        errors["assessed_on"] = "An assessment is dated when it was made, not in the future."
    if errors:
        raise ValidationError(errors)
    exposure, created = Exposure.objects.update_or_create(
        provider=provider,
        law=law,
        defaults={"basis": basis, "assessed_on": assessed_on, "notes": notes.strip()},
    )
    audit_record(
        action=Action.CREATE if created else Action.UPDATE,
        actor=actor,
        target=exposure,
        related=provider,
        changes=_changes(law=law, basis=basis, assessed_on=assessed_on.isoformat()),
    )
    return exposure


@transaction.atomic
def certification_record(
    *,
    actor: User,
    provider: Provider,
    scheme: str,
    valid_from: datetime.date,
    valid_until: datetime.date,
    evidence: str,
    level: str = "",
    site: Site | None = None,
) -> Certification:
    permissions.require_directory_editor(actor)
    errors: dict[str, str] = {}
    if scheme not in Scheme.values:
        errors["scheme"] = "Name the scheme: secnumcloud, gaia_x, eucs, iso_27001, c5 or other."
    if valid_until <= valid_from:
        errors["valid_until"] = "A certificate expires after it is issued."
    if not evidence.strip():
        errors["evidence"] = "Give the certificate number or where the evidence is kept."
    if site is not None and site.provider_id != provider.pk:
        errors["site"] = f"{site.name} is not a site of {provider}."
    if errors:
        raise ValidationError(errors)
    certification = Certification.objects.create(
        provider=provider,
        site=site,
        scheme=scheme,
        level=level.strip(),
        valid_from=valid_from,
        valid_until=valid_until,
        evidence=evidence.strip(),
    )
    audit_record(
        action=Action.CREATE,
        actor=actor,
        target=certification,
        related=provider,
        changes=_changes(
            scheme=scheme,
            level=level.strip(),
            valid_from=valid_from.isoformat(),
            valid_until=valid_until.isoformat(),
        ),
    )
    return certification


SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")
OPENSSH_EC_PREFIXES = ("ecdsa-sha2-nistp256 ", "ecdsa-sha2-nistp384 ", "ecdsa-sha2-nistp521 ")
PEM_PREFIX = "-----BEGIN PUBLIC KEY-----"


def federation_public_key_openssh(text: str) -> str:
    """The OpenSSH one-line form (``ecdsa-sha2-nistp384 AAAA...``, no comment) of an EC
    public key given in OpenSSH or PEM text: the form a Flower SuperLink's allow-list of node
    keys holds. Flower nodes authenticate with elliptic-curve keys, so any other key, or text
    that is not a key, raises a ValueError that says so."""
    text = text.strip()
    if not text.startswith((*OPENSSH_EC_PREFIXES, PEM_PREFIX)):
        raise ValueError(
            'An EC public key: OpenSSH text ("ecdsa-sha2-nistp384 AAAA...") or PEM text '
            '("-----BEGIN PUBLIC KEY-----").'
        )
    try:
        key = (
            serialization.load_pem_public_key(text.encode())
            if text.startswith(PEM_PREFIX)
            else serialization.load_ssh_public_key(text.encode())
        )
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError("This text is not a readable public key.") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("Flower nodes use elliptic-curve (ECDSA) keys; this key is not one.")
    try:
        return key.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ).decode()
    except ValueError:
        raise ValueError("This curve has no OpenSSH form; use P-256, P-384 or P-521.") from None


@transaction.atomic
def site_register(
    *,
    actor: User,
    provider: Provider,
    name: str,
    jurisdiction: Jurisdiction,
    administered_from: Iterable[Jurisdiction],
    air_gapped: bool = False,
    federation_name: str = "",
    federation_public_key: str = "",
) -> Site:
    """Register a site of ``provider``. ``federation_name`` is the participant name the site
    uses in federated-learning frameworks (a slug; blank means a slug of the site's name) and
    ``federation_public_key`` the EC public key its Flower node authenticates with."""
    permissions.require_directory_editor(actor)
    admins = list(administered_from)
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = "A site needs a name."
    elif Site.objects.filter(provider=provider, name__iexact=name).exists():
        errors["name"] = f"{provider} already has a site called {name}."
    federation_name = federation_name.strip()
    if federation_name and not SLUG.fullmatch(federation_name):
        errors["federation_name"] = (
            "A participant name is letters, digits, hyphens and underscores, up to 50."
        )
    federation_public_key = federation_public_key.strip()
    if federation_public_key:
        try:
            federation_public_key_openssh(federation_public_key)
        except ValueError as error:
            errors["federation_public_key"] = str(error)
    if jurisdiction.kind != Jurisdiction.Kind.COUNTRY:
        errors["jurisdiction"] = "A site is in one country; name it, not a bloc."
    if not admins:
        errors["administered_from"] = (
            "Name every jurisdiction from which the site is administered; an unknown answer "
            "cannot be checked."
        )
    if errors:
        raise ValidationError(errors)
    site = Site.objects.create(
        provider=provider,
        name=name,
        jurisdiction=jurisdiction,
        air_gapped=air_gapped,
        federation_name=federation_name,
        federation_public_key=federation_public_key,
    )
    site.administered_from.set(admins)
    # A public key is no secret: the audit trail keeps it, so a later change shows.
    federation = {
        key: {"before": None, "after": value}
        for key, value in (
            ("federation_name", federation_name),
            ("federation_public_key", federation_public_key),
        )
        if value
    }
    audit_record(
        action=Action.CREATE,
        actor=actor,
        target=site,
        related=provider,
        changes=_changes(
            name=name,
            jurisdiction=jurisdiction.pk,
            administered_from=sorted(str(j.pk) for j in admins),
            air_gapped=air_gapped,
        )
        | federation,
    )
    return site


def approvals_in_force(consortium_id: int, on: datetime.date) -> QuerySet[Approval]:
    return Approval.objects.filter(
        consortium_id=consortium_id, revoked_at__isnull=True, valid_from__lte=on
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=on))


def usable_sites(consortium_id: int, on: datetime.date | None = None) -> QuerySet[Site]:
    """Sites the consortium may use on ``on``. A site needs its provider approved; the
    provider's approval covers all its sites until one of them is approved on its own, from
    then on only the sites approved one by one count (a consortium that names sites means
    those sites)."""
    on = on or timezone.localdate()
    approved = approvals_in_force(consortium_id, on)
    provider_ids = approved.filter(provider__isnull=False).values("provider_id")
    named_sites = approved.filter(site__isnull=False)
    return Site.objects.filter(provider_id__in=provider_ids).filter(
        Q(pk__in=named_sites.values("site_id"))
        | ~Q(provider_id__in=named_sites.values("site__provider_id"))
    )


@transaction.atomic
def approve(
    *,
    actor: User | None,
    consortium: Consortium,
    provider: Provider | None = None,
    site: Site | None = None,
    valid_from: datetime.date,
    valid_until: datetime.date | None = None,
    conditions: str = "",
    motion: Motion | None = None,
) -> Approval:
    """The consortium may use ``provider`` (all its sites) or just ``site`` from ``valid_from``.
    Approving one site of a provider narrows that provider's approval to the sites approved
    one by one. Decided by the chair, or by a motion (``actor`` None, ``motion`` set)."""
    if motion is None:
        permissions.require(actor, ComputeAction.APPROVE_SITES, consortium.pk)
    errors: dict[str, str] = {}
    if (provider is None) == (site is None):
        errors["provider"] = "Approve a provider or a site, one at a time."
    if valid_until is not None and valid_until <= valid_from:
        errors["valid_until"] = "An approval ends after it begins."
    if errors:
        raise ValidationError(errors)
    duplicate = approvals_in_force(consortium.pk, valid_from).filter(provider=provider, site=site)
    if duplicate.exists():
        raise ConflictError(
            f"{provider or site} is already approved on {valid_from}; revoke that approval to "
            "change its dates or conditions.",
            code="already_approved",
        )
    approval = Approval.objects.create(
        consortium=consortium,
        provider=provider,
        site=site,
        valid_from=valid_from,
        valid_until=valid_until,
        conditions=conditions.strip(),
        approved_by=actor,
        motion=motion,
    )
    audit_record(
        action=Action.APPROVE,
        actor=actor,
        consortium_id=consortium.pk,
        target=approval,
        related=provider or site,
        changes=_changes(
            valid_from=valid_from.isoformat(),
            valid_until=valid_until.isoformat() if valid_until else None,
            conditions=conditions.strip(),
            motion=motion.number if motion else None,
        ),
    )
    planning_services.milestone_reached(
        consortium_id=consortium.pk,
        key="infrastructure-approved",
        notes=f"{provider or site} approved from {valid_from:%d %B %Y}.",
    )
    return approval


@transaction.atomic
def approval_revoke(*, actor: User, approval: Approval, reason: str) -> Approval:
    permissions.require(actor, ComputeAction.APPROVE_SITES, approval.consortium_id, approval)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the approval is revoked."})
    if approval.revoked_at is not None:
        raise ConflictError("This approval is already revoked.", code="already_revoked")
    approval.revoked_at = timezone.now()
    approval.save(update_fields=["revoked_at"])
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        consortium_id=approval.consortium_id,
        target=approval,
        changes={"revoked_at": {"before": None, "after": approval.revoked_at.isoformat()}},
        reason=reason.strip(),
    )
    return approval


# The steering committee's side: a motion approving a provider or a site names it as
# "provider:<id>" or "site:<id>".


def _subject_object(subject_id: Any) -> Provider | Site | None:
    kind, _, pk = str(subject_id).partition(":")
    model = {"provider": Provider, "site": Site}.get(kind)
    if model is None or not pk.isdigit():
        return None
    return model.objects.filter(pk=pk).first()  # type: ignore[attr-defined, no-any-return]


def motion_subject(consortium: Any, subject_id: Any) -> tuple[str, str, int | None]:
    found = _subject_object(subject_id)
    if found is None:
        raise ValidationError(
            {
                "subject": "Name a provider or a site of the directory, as provider:<id> or site:<id>."
            }
        )
    field = "provider" if isinstance(found, Provider) else "site"
    if approvals_in_force(consortium.pk, timezone.localdate()).filter(**{field: found}).exists():
        raise ValidationError({"subject": f"{found} is already approved for this consortium."})
    return str(found), str(subject_id), None


def approved_by_motion(motion: Motion) -> None:
    found = _subject_object(motion.subject_id)
    approve(
        actor=None,
        consortium=motion.consortium,
        provider=found if isinstance(found, Provider) else None,
        site=found if isinstance(found, Site) else None,
        valid_from=timezone.localdate(),
        conditions=motion.text,
        motion=motion,
    )
