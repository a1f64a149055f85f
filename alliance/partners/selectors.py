"""Reads of partner clients, for the API's authentication and the organisation's pages."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import models
from oauth2_provider.models import AccessToken

from alliance.partners.models import PartnerClient
from consortia.models import Consortium, Organisation


def partner_of_application(application: Any) -> PartnerClient | None:
    return (
        PartnerClient.objects.select_related("application", "organisation")
        .filter(application=application)
        .first()
    )


def token_with_client(raw_token: str) -> Any:
    """DOT's access token for ``raw_token`` (found by its digest, as DOT stores it), with
    its client, the client's account and the account's organisation, in one query."""
    checksum = hashlib.sha256(raw_token.encode()).hexdigest()
    token = (
        AccessToken.objects.select_related("application__partner__account__organisation")
        .filter(token_checksum=checksum)
        .first()
    )
    partner = getattr(token.application, "partner", None) if token is not None else None
    if partner is not None and partner.organisation_id == partner.account.organisation_id:
        partner.organisation = partner.account.organisation  # the same row: no second read
    return token


def consortium_ids_of(partner: PartnerClient) -> frozenset[int]:
    return consortium_ids_of_client(partner.pk)


def consortium_ids_of_client(partner_id: int) -> frozenset[int]:
    return frozenset(
        PartnerClient.consortia.through.objects.filter(partnerclient_id=partner_id).values_list(
            "consortium_id", flat=True
        )
    )


def clients_of(organisation: Organisation) -> models.QuerySet[PartnerClient]:
    return (
        PartnerClient.objects.filter(organisation=organisation)
        .select_related("application", "created_by")
        .prefetch_related("consortia")
        .order_by("name")
    )


def client_of(organisation: Organisation, pk: int) -> PartnerClient | None:
    return clients_of(organisation).filter(pk=pk).first()


def consortia_open_to(organisation: Organisation) -> models.QuerySet[Consortium]:
    """Consortia a client of ``organisation`` may be limited to: those it is a member of."""
    from consortia.permissions import VISIBLE_MEMBERSHIP_STATUSES

    return Consortium.objects.filter(
        memberships__organisation=organisation,
        memberships__status__in=VISIBLE_MEMBERSHIP_STATUSES,
    ).order_by("name")
