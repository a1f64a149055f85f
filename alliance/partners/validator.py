"""DOT's validator, told about partner clients: a revoked or expired client, or one calling
from outside its networks, gets no token, and a token never carries more than the scopes its
organisation's admins gave the client."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from oauth2_provider.oauth2_validators import OAuth2Validator

from alliance.partners import selectors
from audit import context


class PartnerValidator(OAuth2Validator):  # type: ignore[misc]
    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        partner = selectors.partner_of_application(request.client)
        if partner is None:
            return False
        bound = context.current()
        refusal = partner.refusal(timezone.now(), bound.client_address if bound else None)
        if refusal is not None:
            request.partner_refusal = refusal
            return False
        request.partner = partner
        return True

    def validate_scopes(
        self,
        client_id: str,
        scopes: list[str],
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        partner = getattr(request, "partner", None)
        return partner is not None and set(scopes) <= set(partner.scopes)

    def get_default_scopes(
        self, client_id: str, request: Any, *args: Any, **kwargs: Any
    ) -> list[str]:
        partner = getattr(request, "partner", None)
        return list(partner.scopes) if partner is not None else []
