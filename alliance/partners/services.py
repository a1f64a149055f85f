"""Creating, changing, rotating and revoking partner clients: organisation admins only,
every change audited. Secrets are returned once and stored hashed (DOT hashes them on save).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, get_application_model

from alliance.partners import selectors
from alliance.partners.catalogue import SCOPES
from alliance.partners.models import PartnerClient
from audit.models import Action
from audit.services import audit_record, changes_between
from consortia.models import Organisation, User
from consortia.permissions import OrganisationAction, require


@dataclass(frozen=True)
class ClientTerms:
    """What an organisation's admins decide about a client."""

    name: str
    consortium_ids: frozenset[int]
    scopes: frozenset[str]
    allowed_networks: tuple[str, ...]
    expires_at: datetime


def _state(partner: PartnerClient) -> dict[str, Any]:
    return {
        "name": partner.name,
        "consortia": sorted(selectors.consortium_ids_of(partner)),
        "scopes": sorted(partner.scopes),
        "allowed_networks": list(partner.allowed_networks),
        "expires_at": partner.expires_at.isoformat(),
    }


def _normalised_networks(blocks: Iterable[str]) -> tuple[str, ...]:
    networks = []
    for block in blocks:
        try:
            networks.append(str(ipaddress.ip_network(block.strip(), strict=False)))
        except ValueError:
            raise ValidationError(
                {"allowed_networks": f"{block!r} is not an address or CIDR block."}
            ) from None
    return tuple(dict.fromkeys(networks))


def _validated(organisation: Organisation, terms: ClientTerms) -> ClientTerms:
    errors: dict[str, str] = {}
    name = terms.name.strip()
    if not name:
        errors["name"] = "Give the client a name."
    unknown = sorted(terms.scopes - SCOPES.keys())
    if unknown:
        errors["scopes"] = f"Unknown scope: {', '.join(unknown)}."
    elif not terms.scopes:
        errors["scopes"] = "Choose at least one scope."
    open_ids = set(selectors.consortia_open_to(organisation).values_list("id", flat=True))
    if not terms.consortium_ids:
        errors["consortia"] = "Choose at least one consortium."
    elif not terms.consortium_ids <= open_ids:
        errors["consortia"] = f"{organisation} is not a member of consortium " + ", ".join(
            str(pk) for pk in sorted(terms.consortium_ids - open_ids)
        )
    now = timezone.now()
    longest = timedelta(days=settings.PARTNER_CLIENT_MAX_DAYS)
    if terms.expires_at <= now:
        errors["expires_at"] = "The expiry must be in the future."
    elif terms.expires_at > now + longest:
        errors["expires_at"] = f"A client may live at most {longest.days} days."
    if errors:
        raise ValidationError(errors)
    return ClientTerms(
        name=name,
        consortium_ids=terms.consortium_ids,
        scopes=terms.scopes,
        allowed_networks=_normalised_networks(terms.allowed_networks),
        expires_at=terms.expires_at,
    )


def _audit(actor: User, action: str, partner: PartnerClient, changes: dict[str, Any]) -> None:
    audit_record(action=action, actor=actor, target=partner, changes=changes)


@transaction.atomic
def client_create(
    *, actor: User, organisation: Organisation, terms: ClientTerms
) -> tuple[PartnerClient, str]:
    """A new client and its secret, which the caller shows once."""
    require(actor, OrganisationAction.CHANGE, organisation)
    terms = _validated(organisation, terms)
    if PartnerClient.objects.filter(organisation=organisation, name=terms.name).exists():
        raise ValidationError({"name": "This organisation already has a client of that name."})
    secret = generate_client_secret()
    application = get_application_model().objects.create(
        name=f"{organisation}: {terms.name}"[:255],
        client_type="confidential",
        authorization_grant_type="client-credentials",
        client_secret=secret,
        hash_client_secret=True,
    )
    account = User(
        username=f"client-{application.client_id}",
        first_name=terms.name[:150],
        organisation=organisation,
    )
    account.set_unusable_password()
    account.save()
    partner = PartnerClient.objects.create(
        application=application,
        account=account,
        organisation=organisation,
        name=terms.name,
        scopes=sorted(terms.scopes),
        allowed_networks=list(terms.allowed_networks),
        expires_at=terms.expires_at,
        created_by=actor,
    )
    partner.consortia.set(terms.consortium_ids)
    _audit(actor, Action.CREATE, partner, changes_between(None, _state(partner)))
    return partner, secret


def _end_tokens(partner: PartnerClient) -> None:
    # Tokens already issued would keep what the client had; the next request gets a new one.
    AccessToken.objects.filter(application_id=partner.application_id).delete()


@transaction.atomic
def client_update(*, actor: User, partner: PartnerClient, terms: ClientTerms) -> PartnerClient:
    require(actor, OrganisationAction.CHANGE, partner.organisation)
    if partner.revoked_at is not None:
        raise ValidationError("A revoked client cannot be changed.")
    terms = _validated(partner.organisation, terms)
    if (
        PartnerClient.objects.filter(organisation_id=partner.organisation_id, name=terms.name)
        .exclude(pk=partner.pk)
        .exists()
    ):
        raise ValidationError({"name": "This organisation already has a client of that name."})
    before = _state(partner)
    partner.name = terms.name
    partner.scopes = sorted(terms.scopes)
    partner.allowed_networks = list(terms.allowed_networks)
    partner.expires_at = terms.expires_at
    partner.save()
    partner.consortia.set(terms.consortium_ids)
    changes = changes_between(before, _state(partner))
    if changes:
        _end_tokens(partner)
        _audit(actor, Action.UPDATE, partner, changes)
    return partner


@transaction.atomic
def client_rotate_secret(*, actor: User, partner: PartnerClient) -> str:
    """A new secret, shown once; the old one and every token issued with it stop working."""
    require(actor, OrganisationAction.CHANGE, partner.organisation)
    if partner.revoked_at is not None:
        raise ValidationError("A revoked client cannot be given a new secret.")
    secret = generate_client_secret()
    application = partner.application
    application.client_secret = secret
    application.save(update_fields=["client_secret", "updated"])
    partner.secret_rotated_at = timezone.now()
    partner.save(update_fields=["secret_rotated_at"])
    _end_tokens(partner)
    _audit(actor, Action.UPDATE, partner, {"secret": {"before": "…", "after": "rotated"}})
    return str(secret)


@transaction.atomic
def client_revoke(*, actor: User, partner: PartnerClient) -> None:
    require(actor, OrganisationAction.CHANGE, partner.organisation)
    if partner.revoked_at is not None:
        return
    partner.revoked_at = timezone.now()
    partner.save(update_fields=["revoked_at"])
    User.objects.filter(pk=partner.account_id).update(is_active=False)
    _end_tokens(partner)
    _audit(
        actor, Action.REMOVE, partner, {"revoked_at": {"before": None, "after": partner.revoked_at}}
    )
