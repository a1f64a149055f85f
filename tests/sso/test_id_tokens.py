"""Alliance's checks of the ID token, on real tokens from the test providers.

The end-to-end tests (test_sign_in.py) cannot make a provider sign for the wrong client or
leave a token unsigned; here real tokens, fetched from the providers as any relying party
would, are handed to Alliance's adapter as if they had come from organisation X's provider A.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from django.test import RequestFactory

from alliance.sso.oidc import OrganisationOIDCAdapter, SignInCheckError
from tests.consortia.factories import OrganisationFactory, UserFactory
from tests.sso.conftest import CLIENT_SECRET, Person, Providers, provider_for

pytestmark = pytest.mark.usefixtures("db", "sso_settings")


def id_token(providers: Providers, issuer: str, client_id: str, login: str = "ada") -> str:
    """An ID token from ``issuer`` for ``client_id``: the authorisation code flow with PKCE."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    redirect_uri = "http://localhost:1/callback/"
    query = {
        "client_id": client_id,
        "response_type": "code",
        "scope": "openid email profile",
        "redirect_uri": redirect_uri,
        "state": secrets.token_urlsafe(16),
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    answer = Person("http://localhost:1").sign_in_at(f"{issuer}/auth?{urlencode(query)}", login)
    code = dict(parse_qsl(urlsplit(answer).query))["code"]
    tokens = requests.post(
        f"{issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "client_secret": CLIENT_SECRET,
            "code_verifier": verifier,
        },
        timeout=10,
    )
    tokens.raise_for_status()
    return str(tokens.json()["id_token"])


def segment(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


@pytest.fixture
def check(oidc_providers: Providers) -> Any:
    """Organisation X's provider A, client "alliance": Alliance's check of an ID token."""
    x = OrganisationFactory.create(name="Org X")
    UserFactory.create(organisation=x, is_organisation_admin=True)
    identity_provider = provider_for(x, oidc_providers.a)
    adapter = OrganisationOIDCAdapter(RequestFactory().get("/"), identity_provider.provider_id)

    def decode(token: str) -> dict[str, Any]:
        return adapter._decode_id_token(identity_provider.app, token)

    return decode


def test_a_token_of_x_provider_for_alliance_is_accepted(
    oidc_providers: Providers, check: Any
) -> None:
    claims = check(id_token(oidc_providers, oidc_providers.a, "alliance"))

    assert claims["sub"] == "ada"
    assert claims["iss"] == oidc_providers.a
    assert claims["aud"] == "alliance"


def test_a_token_signed_by_another_provider_is_refused(
    oidc_providers: Providers, check: Any
) -> None:
    """Provider B knows the same client and the same people, but signs with its own key."""
    token = id_token(oidc_providers, oidc_providers.b, "alliance")

    with pytest.raises(SignInCheckError, match="not signed with one of the provider's keys"):
        check(token)


def test_a_token_for_another_client_is_refused(oidc_providers: Providers, check: Any) -> None:
    token = id_token(oidc_providers, oidc_providers.a, "other-app")

    with pytest.raises(SignInCheckError, match="issued to another client"):
        check(token)


def test_an_unsigned_token_is_refused(oidc_providers: Providers, check: Any) -> None:
    real = id_token(oidc_providers, oidc_providers.a, "alliance")
    unsigned = f"{segment({'alg': 'none', 'typ': 'JWT'})}.{real.split('.')[1]}."

    with pytest.raises(SignInCheckError, match="algorithm 'none'"):
        check(unsigned)


def test_a_token_whose_claims_were_altered_is_refused(
    oidc_providers: Providers, check: Any
) -> None:
    header, _, signature = id_token(oidc_providers, oidc_providers.a, "alliance").split(".")
    real = id_token(oidc_providers, oidc_providers.a, "alliance")
    forged = f"{header}.{segment({**claims_of(real), 'sub': 'bob'})}.{signature}"

    with pytest.raises(SignInCheckError, match="signature does not verify"):
        check(forged)


def test_garbage_is_refused(check: Any) -> None:
    with pytest.raises(SignInCheckError, match="not a signed token"):
        check("not-a-token")
