"""Bearer tokens of partner clients, for DRF.

A partner token (DOT's, prefixed ``alc_``) authenticates as the client's own account, marked
with what narrows it: the token's scopes, the client's consortia and the client itself (for
the audit trail). Anything else that looks like a bearer token is left to the next
authenticator (people's personal tokens).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from alliance.partners import selectors
from alliance.partners.models import PartnerClient
from audit import context

TOKEN_PREFIX = "alc_"  # noqa: S105 - a marker, not a secret
# Last use is written at most this often per client, so reading costs no write per request.
LAST_USE_RESOLUTION = timedelta(minutes=1)


def generate_token(request: Any) -> str:
    """DOT's access-token generator: a recognisable prefix on oauthlib's random token."""
    from oauthlib.common import generate_token as random_token

    return TOKEN_PREFIX + str(random_token(40))


def is_partner_token(request: Any) -> bool:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    return bool(header[:7].lower() == "bearer " and header[7:].strip().startswith(TOKEN_PREFIX))


class PartnerClientAuthentication(BaseAuthentication):
    def authenticate_header(self, request: Any) -> str:
        # RFC 6750: a bare challenge when no token came, the error when a client's did not do.
        if is_partner_token(request):
            return 'Bearer error="invalid_token"'
        return "Bearer"

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        if not is_partner_token(request):
            return None
        raw = request.META["HTTP_AUTHORIZATION"][7:].strip()
        # One query finds the token, its client, the client's account and organisation: a
        # partner's request should cost what a session costs (measured by `make bench`).
        token = selectors.token_with_client(raw)
        if token is None or token.is_expired():
            raise exceptions.AuthenticationFailed("The token is invalid or has expired.")
        partner = getattr(token.application, "partner", None)
        if partner is None:
            raise exceptions.AuthenticationFailed("The token does not belong to a partner client.")
        bound = context.current()
        address = bound.client_address if bound else None
        now = timezone.now()
        refusal = partner.refusal(now, address)
        if refusal is not None:
            raise exceptions.AuthenticationFailed(refusal)
        _note_use(partner, now, address)
        account = partner.account
        account.acting_client = partner
        account.client_scopes = frozenset(token.scope.split())
        account.consortium_limit = ClientConsortia(partner.pk)
        return account, token


class ClientConsortia:
    """The consortia a client was limited to, as the access policy asks about them: a
    sub-query for lists (no extra round trip) and, when first needed, the ids themselves."""

    def __init__(self, partner_id: int) -> None:
        self.partner_id = partner_id
        self._ids: frozenset[int] | None = None

    def sql(self) -> tuple[str, tuple[Any, ...]]:
        table = PartnerClient.consortia.through._meta.db_table
        return f"SELECT consortium_id FROM {table} WHERE partnerclient_id = %s", (self.partner_id,)  # noqa: S608 - a table name from the model

    def __contains__(self, consortium_id: object) -> bool:
        if self._ids is None:
            self._ids = selectors.consortium_ids_of_client(self.partner_id)
        return consortium_id in self._ids


def _note_use(partner: PartnerClient, now: Any, address: str | None) -> None:
    if partner.last_used_at is not None and now - partner.last_used_at < LAST_USE_RESOLUTION:
        return
    PartnerClient.objects.filter(pk=partner.pk).update(last_used_at=now, last_used_from=address)
