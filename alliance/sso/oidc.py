"""The OpenID Connect exchange with an organisation's provider, stricter than allauth's default.

allauth's adapter skips the ID token's signature when the token came straight from the token
endpoint (OpenID Connect Core 3.1.3.7 allows that over TLS), takes the issuer from whatever
discovery document the configured URL serves, and falls back to the userinfo endpoint when
no ID token comes back. Alliance links accounts on the strength of the ID token, so here:

- the discovery document must name exactly the issuer the organisation registered;
- an authorisation response that names its issuer (RFC 9207) must name that one, so a code
  from another provider is refused before it is sent anywhere;
- an ID token is required, signed with an asymmetric algorithm by a key the provider
  publishes, for this client, from this issuer, unexpired;
- the userinfo answer must be about the same subject as the ID token.

Each refusal is a ``SignInCheckError`` (an allauth ``OAuth2Error``) whose message the person
sees; allauth's callback view hands it to the social adapter (``on_authentication_error``),
which audits it.
"""

from __future__ import annotations

from typing import Any

import jwt
import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.http import HttpRequest

from alliance.sso import selectors

# Asymmetric only: an HMAC-signed token is signed with the client secret, which Alliance holds
# too, so it proves nothing about who signed it; "none" proves nothing at all.
SIGNING_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


class SignInCheckError(OAuth2Error):  # type: ignore[misc]
    """A check of the provider's answer failed; the message says which, for the person."""


# Seconds of clock difference tolerated between Alliance and the provider.
CLOCK_LEEWAY = 30


def well_known_url(issuer: str) -> str:
    """Where the issuer's discovery document is (OpenID Connect Discovery 1.0, section 4)."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


class OrganisationOIDCAdapter(OpenIDConnectOAuth2Adapter):  # type: ignore[misc]
    """allauth's OpenID Connect adapter for one organisation's provider, with the checks above."""

    def __init__(self, request: HttpRequest, provider_id: str) -> None:
        super().__init__(request, provider_id)
        identity_provider = selectors.identity_provider_by_provider_id(provider_id)
        # The views look the provider up first, so it exists here (and the social adapter
        # lists only enabled providers' apps, so a disabled one fails before this).
        self.expected_issuer = identity_provider.issuer if identity_provider else ""

    @property
    def openid_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().openid_config
        if config.get("issuer") != self.expected_issuer:
            raise SignInCheckError(
                f"The provider's discovery document names the issuer {config.get('issuer')!r}, "
                f"not {self.expected_issuer!r} as registered."
            )
        return config

    def get_access_token_data(
        self, request: HttpRequest, app: Any, client: Any, pkce_code_verifier: Any = None
    ) -> Any:
        answered_by = request.GET.get("iss")
        if answered_by is not None and answered_by != self.expected_issuer:
            raise SignInCheckError(
                f"The sign-in answer came from {answered_by!r}, not from this organisation's "
                "provider."
            )
        if answered_by is None and self.openid_config.get(
            "authorization_response_iss_parameter_supported"
        ):
            raise SignInCheckError("The sign-in answer does not say which provider sent it.")
        return super().get_access_token_data(
            request, app, client, pkce_code_verifier=pkce_code_verifier
        )

    def complete_login(self, request: HttpRequest, app: Any, token: Any, **kwargs: Any) -> Any:
        id_token = kwargs["response"].get("id_token")
        if not id_token:
            raise SignInCheckError("The provider sent no ID token.")
        identity = self._decode_id_token(app, id_token)
        userinfo = self._fetch_user_info(token.token)
        if userinfo.get("sub") != identity["sub"]:
            raise SignInCheckError("The provider's user information is about someone else.")
        data = {"id_token": identity, "userinfo": userinfo}
        return self.get_provider().sociallogin_from_response(request, data)

    def _signing_keys(self) -> jwt.PyJWKSet:
        with get_adapter().get_requests_session() as session:
            response = session.get(self.openid_config["jwks_uri"])
            response.raise_for_status()
            return jwt.PyJWKSet.from_dict(response.json())

    def _decode_id_token(self, app: Any, id_token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as error:
            raise SignInCheckError("The ID token is not a signed token.") from error
        algorithm = header.get("alg")
        if algorithm not in SIGNING_ALGORITHMS:
            raise SignInCheckError(
                f"The ID token is not signed with one of the provider's published keys "
                f"(algorithm {algorithm!r})."
            )
        try:
            keys = self._signing_keys()
        except (requests.RequestException, ValueError, jwt.PyJWTError) as error:
            raise SignInCheckError("The provider's signing keys could not be read.") from error
        kid = header.get("kid")
        candidates = [
            key
            for key in keys.keys
            if (kid is None or key.key_id == kid) and key.public_key_use in (None, "sig")
        ]
        if len(candidates) != 1:
            raise SignInCheckError("The ID token is not signed with one of the provider's keys.")
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key=candidates[0],
                algorithms=[algorithm],
                audience=app.client_id,
                issuer=self.expected_issuer,
                leeway=CLOCK_LEEWAY,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise SignInCheckError("The ID token has expired.") from error
        except jwt.InvalidAudienceError as error:
            raise SignInCheckError("The ID token was issued to another client.") from error
        except jwt.InvalidIssuerError as error:
            raise SignInCheckError("The ID token was issued by another provider.") from error
        except jwt.InvalidSignatureError as error:
            raise SignInCheckError("The ID token's signature does not verify.") from error
        except jwt.PyJWTError as error:
            raise SignInCheckError(f"The ID token is not valid: {error}.") from error
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != app.client_id:
            raise SignInCheckError("The ID token was issued to another client.")
        return claims
