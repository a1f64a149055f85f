"""Single sign-on's state changes: setting up a provider, and deciding who a sign-in is.

The linking rule (docs/sso.md): a sign-in through organisation X's provider is

- the account already linked to that (provider, subject) pair, if it belongs to X;
- otherwise, when X lets its provider create accounts, a new account of X;
- otherwise refused.

An address is never used to find an account, so a provider cannot reach an account of another
organisation by claiming its address; and a link made through X's provider can only ever
point at an account of X. Every change is audited; so is every refusal (``login_failed``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from allauth.socialaccount.models import SocialAccount, SocialApp, SocialLogin
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from alliance.sso import selectors
from alliance.sso.models import IdentityProvider, IdentityProviderDomain, provider_id_for
from alliance.sso.oidc import well_known_url
from audit.models import Action, Outcome
from audit.services import JSONValue, audit_record, changes_between
from consortia.models import Organisation, User
from consortia.permissions import OrganisationAction, require

# allauth's name for its generic OpenID Connect provider.
OPENID_CONNECT = "openid_connect"
# A domain name: dot-separated labels of letters, digits and inner hyphens.
DOMAIN_PATTERN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")
USERNAME_MAX = 150
ISSUER_MAX = 255  # IdentityProvider.issuer
CLIENT_FIELD_MAX = 191  # allauth's SocialApp.client_id and .secret
APP_NAME_MAX = 40  # allauth's SocialApp.name


@dataclass(frozen=True)
class ProviderSettings:
    """What an organisation's admins decide about its provider. ``client_secret`` None keeps
    the stored secret (it is never shown back)."""

    issuer: str
    client_id: str
    client_secret: str | None
    email_domains: tuple[str, ...]
    is_enabled: bool
    auto_create_accounts: bool


def _issuer_error(issuer: str) -> str | None:
    parts = urlsplit(issuer)
    if not parts.scheme or not parts.hostname:
        return "Give the provider's issuer as a full URL, e.g. https://login.example.org."
    if parts.query or parts.fragment:
        return "An issuer has no query or fragment (OpenID Connect Discovery 1.0)."
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and _is_loopback(parts.hostname):
        if settings.SSO_ALLOW_LOOPBACK_HTTP_ISSUERS:
            return None
        return (
            "The issuer must use https (http is allowed on this machine's own address only in "
            "development)."
        )
    return "The issuer must use https."


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _validated(
    organisation: Organisation, terms: ProviderSettings, *, creating: bool
) -> ProviderSettings:
    errors: dict[str, str] = {}
    issuer = terms.issuer.strip()
    client_id = terms.client_id.strip()
    secret = terms.client_secret.strip() if terms.client_secret else None
    if not issuer:
        errors["issuer"] = "Give the provider's issuer."
    elif len(issuer) > ISSUER_MAX:
        errors["issuer"] = "The issuer is too long."
    elif message := _issuer_error(issuer):
        errors["issuer"] = message
    elif IdentityProvider.objects.filter(issuer=issuer).exclude(organisation=organisation).exists():
        errors["issuer"] = "Another organisation signs in through this issuer."
    if not client_id:
        errors["client_id"] = "Give the client id the provider issued to Alliance."
    elif len(client_id) > CLIENT_FIELD_MAX:
        errors["client_id"] = "The client id is too long."
    if creating and not secret:
        message = "Give the client secret the provider issued to Alliance."
        errors["client_secret"] = message
    elif secret and len(secret) > CLIENT_FIELD_MAX:
        message = "The client secret is too long."
        errors["client_secret"] = message
    domains = tuple(dict.fromkeys(domain.strip().lower() for domain in terms.email_domains))
    domains = tuple(domain for domain in domains if domain)
    bad = [domain for domain in domains if not DOMAIN_PATTERN.match(domain)]
    taken = sorted(
        IdentityProviderDomain.objects.filter(domain__in=domains)
        .exclude(identity_provider__organisation=organisation)
        .values_list("domain", flat=True)
    )
    if bad:
        errors["email_domains"] = f"Not a domain name: {', '.join(bad)}."
    elif taken:
        errors["email_domains"] = f"Registered by another organisation: {', '.join(taken)}."
    if errors:
        raise ValidationError(errors)
    return ProviderSettings(
        issuer=issuer,
        client_id=client_id,
        client_secret=secret,
        email_domains=tuple(sorted(domains)),
        is_enabled=terms.is_enabled,
        auto_create_accounts=terms.auto_create_accounts,
    )


def _state(identity_provider: IdentityProvider) -> dict[str, JSONValue]:
    return {
        "issuer": identity_provider.issuer,
        "client_id": identity_provider.app.client_id,
        "email_domains": sorted(domain.domain for domain in identity_provider.domains.all()),
        "is_enabled": identity_provider.is_enabled,
        "auto_create_accounts": identity_provider.auto_create_accounts,
    }


def _app_settings(issuer: str) -> dict[str, Any]:
    # The discovery URL is spelled out, so an issuer with a trailing slash still finds it; PKCE
    # protects the code even where the provider does not insist on it.
    return {"server_url": well_known_url(issuer), "oauth_pkce_enabled": True}


@transaction.atomic
def identity_provider_save(
    *, actor: User, organisation: Organisation, terms: ProviderSettings
) -> IdentityProvider:
    """Create or change the organisation's provider, with its allauth app, in one step.

    Changing the issuer ends every link made through the old one: subjects are unique only
    per issuer, so an old link could otherwise sign in whoever the new provider gives the
    same subject.
    """
    require(actor, OrganisationAction.CHANGE, organisation)
    existing = (
        IdentityProvider.objects.select_for_update()
        .select_related("app")
        .filter(organisation=organisation)
        .first()
    )
    terms = _validated(organisation, terms, creating=existing is None)
    before = _state(existing) if existing is not None else None
    if existing is None:
        app = SocialApp(provider=OPENID_CONNECT, provider_id=provider_id_for(organisation.pk))
        identity_provider = IdentityProvider(organisation=organisation)
    else:
        app = existing.app
        identity_provider = existing
    app.name = organisation.name[:APP_NAME_MAX]
    app.client_id = terms.client_id
    if terms.client_secret:
        app.secret = terms.client_secret
    app.settings = _app_settings(terms.issuer)
    app.full_clean()
    app.save()
    issuer_changed = existing is not None and existing.issuer != terms.issuer
    identity_provider.app = app
    identity_provider.issuer = terms.issuer
    identity_provider.is_enabled = terms.is_enabled
    identity_provider.auto_create_accounts = terms.auto_create_accounts
    identity_provider.full_clean()
    identity_provider.save()
    identity_provider.domains.exclude(domain__in=terms.email_domains).delete()
    kept = set(identity_provider.domains.values_list("domain", flat=True))
    # A domain another organisation took since the check above fails the unique constraint,
    # and the whole change with it.
    IdentityProviderDomain.objects.bulk_create(
        [
            IdentityProviderDomain(identity_provider=identity_provider, domain=domain)
            for domain in terms.email_domains
            if domain not in kept
        ]
    )
    changes: dict[str, Any] = changes_between(before, _state(identity_provider))
    if existing is not None and terms.client_secret:
        changes["client_credential"] = {"before": "kept", "after": "replaced"}
    if issuer_changed:
        ended, _ = selectors.links_of(identity_provider).delete()
        changes["links_ended"] = ended
    audit_record(
        action=Action.CREATE if existing is None else Action.UPDATE,
        actor=actor,
        target=identity_provider,
        changes=changes,
    )
    return identity_provider


# Signing in -------------------------------------------------------------------------------


class SignInRefusedError(Exception):
    """A sign-in or link that the rule refuses: ``message`` is for the person, ``reason`` for
    the audit trail."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class Claims:
    """What the provider said about the person, from its verified answer."""

    subject: str
    email: str
    email_verified: bool
    preferred_username: str
    name: str

    @classmethod
    def of(cls, sociallogin: SocialLogin) -> Claims:
        data = sociallogin.account.extra_data
        # The userinfo answer was checked to be about the ID token's subject.
        userinfo = data.get("userinfo") or data.get("id_token") or {}
        verified = userinfo.get("email_verified")
        return cls(
            subject=str(sociallogin.account.uid),
            email=str(userinfo.get("email") or "").strip(),
            email_verified=verified is True or str(verified).lower() == "true",
            preferred_username=str(userinfo.get("preferred_username") or "").strip(),
            name=str(userinfo.get("name") or "").strip(),
        )


def _check_domains(identity_provider: IdentityProvider, claims: Claims) -> None:
    domains = {domain.domain for domain in identity_provider.domains.all()}
    if not domains:
        return
    organisation = identity_provider.organisation
    domain = claims.email.rpartition("@")[2].lower()
    if not claims.email or domain not in domains:
        raise SignInRefusedError(
            f"{organisation} signs in only addresses at {', '.join(sorted(domains))}.",
            reason=f"address domain {domain!r} is not one of the organisation's",
        )
    if not claims.email_verified:
        raise SignInRefusedError(
            f"{organisation}'s provider did not confirm your address {claims.email}.",
            reason="email_verified is not true",
        )


def _check_linked_user(identity_provider: IdentityProvider, user: User) -> None:
    if user.organisation_id != identity_provider.organisation_id:
        # A link made through X's provider points at an account of X; this one moved away.
        raise SignInRefusedError(
            "This identity is linked to an account of another organisation.",
            reason=f"linked account {user.pk} is not of organisation "
            f"{identity_provider.organisation_id}",
        )
    if not user.is_active:
        raise SignInRefusedError(
            "Your Alliance account is deactivated.", reason=f"account {user.pk} is inactive"
        )


def _username_candidates(claims: Claims) -> Iterator[str]:
    base = claims.preferred_username or claims.email.partition("@")[0] or "person"
    base = USERNAME_UNSAFE.sub("-", base)[: USERNAME_MAX - 8] or "person"
    yield base
    for number in range(2, 100):
        yield f"{base}-{number}"


def _account_create(
    identity_provider: IdentityProvider, sociallogin: SocialLogin, claims: Claims
) -> User:
    first_name, _, last_name = claims.name.partition(" ")
    user = User(
        # Only an address the provider vouches for is kept: Alliance mails it.
        email=claims.email if claims.email_verified else "",
        first_name=first_name[:150],
        last_name=last_name[:150],
        organisation=identity_provider.organisation,
    )
    user.set_unusable_password()
    for username in _username_candidates(claims):
        if User.objects.filter(username=username).exists():
            continue
        user.username = username
        try:
            with transaction.atomic():
                user.save()
            break
        except IntegrityError:
            continue  # taken meanwhile: try the next one
    else:
        raise SignInRefusedError(
            "No free username could be made for you; ask your organisation's admins.",
            reason=f"no free username from {claims.preferred_username or claims.email!r}",
        )
    account = sociallogin.account
    account.user = user
    account.save()
    audit_record(
        action=Action.CREATE,
        actor=user,
        target=user,
        changes={
            "username": user.username,
            "organisation": user.organisation_id,
            "identity_provider": identity_provider.provider_id,
            "subject": claims.subject,
        },
    )
    return user


def sso_account_for_sign_in(
    *, identity_provider: IdentityProvider, sociallogin: SocialLogin
) -> User:
    """The account this sign-in through ``identity_provider`` is, by the linking rule,
    creating it if the rule says so; ``SignInRefusedError`` otherwise."""
    claims = Claims.of(sociallogin)
    _check_domains(identity_provider, claims)
    if sociallogin.is_existing:
        user: User = sociallogin.user
        _check_linked_user(identity_provider, user)
        return user
    if not identity_provider.auto_create_accounts:
        raise SignInRefusedError(
            f"No Alliance account is linked to this {identity_provider.organisation} identity. "
            "Ask your organisation's admins for one, or sign in with your password and link it.",
            reason="no linked account and account creation is off",
        )
    try:
        with transaction.atomic():
            return _account_create(identity_provider, sociallogin, claims)
    except IntegrityError:
        # The same person's other sign-in linked this subject first: use that account.
        account = (
            SocialAccount.objects.select_related("user")
            .filter(provider=identity_provider.provider_id, uid=claims.subject)
            .first()
        )
        if account is None:
            raise
        _check_linked_user(identity_provider, account.user)
        return account.user  # type: ignore[no-any-return]


@transaction.atomic
def sso_link_create(
    *, actor: User, identity_provider: IdentityProvider, sociallogin: SocialLogin
) -> SocialAccount:
    """Link the signed-in ``actor`` to the identity their organisation's provider vouched for."""
    claims = Claims.of(sociallogin)
    if actor.organisation_id != identity_provider.organisation_id:
        raise SignInRefusedError(
            "You can link only your own organisation's provider.",
            reason=f"account {actor.pk} is not of organisation {identity_provider.organisation_id}",
        )
    _check_domains(identity_provider, claims)
    if sociallogin.is_existing:
        if sociallogin.user.pk == actor.pk:
            return sociallogin.account
        raise SignInRefusedError(
            "This identity is already linked to another Alliance account.",
            reason=f"subject is linked to account {sociallogin.user.pk}",
        )
    if selectors.link_of(actor, identity_provider) is not None:
        raise SignInRefusedError(
            "Your account is already linked to another identity at this provider.",
            reason="account already linked at this provider",
        )
    account = sociallogin.account
    account.user = actor
    account.save()
    audit_record(
        action=Action.CREATE,
        actor=actor,
        object_type="socialaccount.socialaccount",
        object_id=str(account.pk),
        object_display=f"{actor.username} linked to {identity_provider.provider_id}",
        changes={"identity_provider": identity_provider.provider_id, "subject": claims.subject},
    )
    return account


def sso_sign_in_refuse(
    *,
    actor: Any,
    identity_provider: IdentityProvider | None,
    provider_id: str,
    reason: str,
    subject: str = "",
) -> None:
    """Record a refused sign-in or link (``login_failed``). Called outside any transaction
    of the attempt, so the record stays whatever else rolls back."""
    changes: dict[str, Any] = {"identity_provider": provider_id}
    if subject:
        changes["subject"] = subject
    audit_record(
        action=Action.LOGIN_FAILED,
        actor=actor if actor is not None else AnonymousUser(),
        target=identity_provider,
        object_type="sso.identityprovider",
        object_display=provider_id,
        outcome=Outcome.DENIED,
        reason=reason[:1000],
        changes=changes,
    )
