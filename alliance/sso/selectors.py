"""Reads for single sign-on: which provider an organisation, a provider id or an address has."""

from __future__ import annotations

from allauth.socialaccount.models import SocialAccount, SocialApp
from django.db import models

from alliance.sso.models import PROVIDER_ID_PREFIX, IdentityProvider
from consortia.models import Organisation, User


def _providers() -> models.QuerySet[IdentityProvider]:
    return IdentityProvider.objects.select_related("organisation", "app").prefetch_related(
        "domains"
    )


def identity_provider_of(organisation: Organisation) -> IdentityProvider | None:
    """The organisation's provider, enabled or not (its admins' settings page)."""
    return _providers().filter(organisation=organisation).first()


def identity_provider_by_provider_id(
    provider_id: str, *, enabled_only: bool = True
) -> IdentityProvider | None:
    """The provider behind allauth's provider id ``org-<organisation pk>``."""
    organisation_id = provider_id.removeprefix(PROVIDER_ID_PREFIX)
    if not provider_id.startswith(PROVIDER_ID_PREFIX) or not organisation_id.isdigit():
        return None
    providers = _providers().filter(organisation_id=int(organisation_id))
    if enabled_only:
        providers = providers.filter(is_enabled=True)
    return providers.first()


def identity_provider_for_email(email: str) -> IdentityProvider | None:
    """The enabled provider of the organisation that registered the address's domain."""
    domain = email.rpartition("@")[2].strip().lower()
    if not domain:
        return None
    return _providers().filter(is_enabled=True, domains__domain=domain).first()


def enabled_apps() -> models.QuerySet[SocialApp]:
    """allauth's apps that may be used right now: those of enabled providers only."""
    apps: models.QuerySet[SocialApp] = SocialApp.objects.filter(identity_provider__is_enabled=True)
    return apps


def link_of(user: User, identity_provider: IdentityProvider) -> SocialAccount | None:
    """The user's link to an identity at the provider, if any."""
    return SocialAccount.objects.filter(user=user, provider=identity_provider.provider_id).first()


def links_of(identity_provider: IdentityProvider) -> models.QuerySet[SocialAccount]:
    """Every link made through the provider."""
    links: models.QuerySet[SocialAccount] = SocialAccount.objects.filter(
        provider=identity_provider.provider_id
    )
    return links
