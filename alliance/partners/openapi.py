"""How the schema describes partner clients: an OAuth2 client-credentials scheme with the
scope catalogue, and on each operation the one scope it needs."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from alliance.partners.catalogue import SCOPES
from alliance.partners.scopes import required_scope


class PartnerClientScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "alliance.partners.authentication.PartnerClientAuthentication"
    name = "partnerClient"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "oauth2",
            "description": "A partner client of an organisation (its admins create it). The "
            "token is narrowed to the client's consortia and scopes, and the client's account "
            "still needs the role an action requires.",
            "flows": {"clientCredentials": {"tokenUrl": "/oauth/token/", "scopes": SCOPES}},
        }

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[str]]:
        needed = required_scope(auto_schema.view, auto_schema.method)
        return {self.name: [needed] if needed else []}
