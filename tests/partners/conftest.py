from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from alliance.partners import services
from alliance.partners.catalogue import SCOPES
from alliance.partners.models import PartnerClient
from alliance.partners.services import ClientTerms
from consortia.models import Consortium, Organisation, User


def terms(
    consortia: Iterable[Consortium],
    scopes: Iterable[str] = SCOPES,
    *,
    name: str = "Partner portal",
    networks: Iterable[str] = (),
    days: int = 30,
) -> ClientTerms:
    return ClientTerms(
        name=name,
        consortium_ids=frozenset(c.pk for c in consortia),
        scopes=frozenset(scopes),
        allowed_networks=tuple(networks),
        expires_at=timezone.now() + timedelta(days=days),
    )


MakeClient = Callable[..., tuple[PartnerClient, str]]


@pytest.fixture
def make_client(world: Any) -> MakeClient:
    """A client of the chair's organisation (Consortium A), by its admin."""

    def make(
        consortia: Iterable[Consortium] | None = None,
        scopes: Iterable[str] = SCOPES,
        *,
        actor: User | None = None,
        organisation: Organisation | None = None,
        **more: Any,
    ) -> tuple[PartnerClient, str]:
        return services.client_create(
            actor=actor or world.chair,
            organisation=organisation or world.org_chair,
            terms=terms(consortia or [world.consortium_a], scopes, **more),
        )

    return make


def basic(partner: PartnerClient, secret: str) -> str:
    pair = f"{partner.client_id}:{secret}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def obtain(partner: PartnerClient, secret: str, scope: str = "", **extra: Any) -> Any:
    body = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    return APIClient().post(
        "/oauth/token/",
        body,
        format="multipart",
        HTTP_AUTHORIZATION=basic(partner, secret),
        **extra,
    )


def token_for(partner: PartnerClient, secret: str, scope: str = "") -> str:
    answer = obtain(partner, secret, scope)
    assert answer.status_code == 200, answer.content
    return str(answer.json()["access_token"])


def api_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client
