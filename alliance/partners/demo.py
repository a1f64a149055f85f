"""The demo's partner client: Lumière's usage feed in EuroLLM, so the quick start shows the
clients page and has a client to try the token endpoint with."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from alliance.partners import services
from alliance.partners.models import PartnerClient
from consortia.models import Consortium, User

NAME = "Usage feed"


def seed_partners() -> str | None:
    """Creates the client once; returns how to use it (the secret exists only now)."""
    amelie = User.objects.select_related("organisation").get(username="amelie")
    organisation = amelie.organisation
    assert organisation is not None
    if PartnerClient.objects.filter(organisation=organisation, name=NAME).exists():
        return None
    eurollm = Consortium.objects.get(name__startswith="EuroLLM")
    partner, secret = services.client_create(
        actor=amelie,
        organisation=organisation,
        terms=services.ClientTerms(
            name=NAME,
            consortium_ids=frozenset({eurollm.pk}),
            scopes=frozenset({"agreements:read", "compute:read", "usage:write"}),
            allowed_networks=(),
            expires_at=timezone.now() + timedelta(days=365),
        ),
    )
    return (
        f"Partner client '{NAME}' of {organisation}: client id {partner.client_id}, "
        f"secret {secret} (shown once; docs/integration.md)"
    )
