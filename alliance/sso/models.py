"""Each organisation's own OpenID Connect provider (its "IdP") and the e-mail domains it claims.

The protocol side lives in django-allauth: the provider's client id and secret, and its
issuer as allauth's ``server_url``, are one allauth ``SocialApp`` (provider
``openid_connect``, provider id ``org-<organisation pk>``), and each linked person is one
allauth ``SocialAccount`` keyed by that provider id and the provider's subject. Because the
provider id names the organisation, a subject is only ever looked up among the links made
through that organisation's provider. What allauth has no place for — which organisation the
provider belongs to, whether it is on, whether it may create accounts, which e-mail domains
send people to it — is here.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from consortia.models import Organisation

PROVIDER_ID_PREFIX = "org-"


def provider_id_for(organisation_id: int) -> str:
    """allauth's provider id for the organisation's IdP: its links are keyed by it."""
    return f"{PROVIDER_ID_PREFIX}{organisation_id}"


class IdentityProvider(models.Model):
    """An organisation's OpenID Connect provider, through which its people sign in.

    ``issuer`` is the provider's exact issuer identifier; the ID tokens it signs must name it,
    and one issuer belongs to one organisation. The client id and secret are stored on
    ``app`` (allauth's SocialApp), whose ``server_url`` the services keep equal to ``issuer``.
    """

    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, related_name="identity_provider"
    )
    app = models.OneToOneField(
        "socialaccount.SocialApp", on_delete=models.PROTECT, related_name="identity_provider"
    )
    issuer = models.CharField(
        max_length=255,
        unique=True,
        help_text="The provider's issuer identifier, e.g. https://login.example.org/realms/staff.",
    )
    is_enabled = models.BooleanField(
        default=True, help_text="People may sign in through this provider."
    )
    auto_create_accounts = models.BooleanField(
        default=False,
        help_text=(
            "Someone the provider signs in who has no linked account gets a new account of "
            "this organisation. Off: only people already linked may sign in."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(issuer=""),
                name="sso_identity_provider_issuer_not_blank",
                violation_error_message="Give the provider's issuer.",
            ),
        ]

    def __str__(self) -> str:
        return f"Identity provider of {self.organisation}"

    @property
    def provider_id(self) -> str:
        return provider_id_for(self.organisation_id)


class IdentityProviderDomain(models.Model):
    """An e-mail domain whose people sign in through one organisation's provider.

    Typing an address at this domain on the sign-in page starts that provider's sign-in, and
    when an organisation lists domains, its provider may sign in only people whose verified
    address is at one of them. A domain belongs to one organisation.
    """

    # Part of the provider's record: removed with it, never referred to by history.
    identity_provider = models.ForeignKey(
        IdentityProvider, on_delete=models.CASCADE, related_name="domains"
    )
    domain = models.CharField(max_length=253, unique=True)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.CheckConstraint(
                condition=Q(domain=Lower("domain")) & ~Q(domain=""),
                name="sso_domain_lower_case_not_blank",
            ),
        ]

    def __str__(self) -> str:
        return self.domain
