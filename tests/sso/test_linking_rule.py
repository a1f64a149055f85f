"""The linking rule on its own, with the sign-in allauth would hand it after a verified answer.

The end-to-end tests (test_sign_in.py) cover the rule through a real provider; these cover
the cases a provider cannot easily be made to produce: a linked account that was moved to
another organisation or deactivated, and usernames that are taken.
"""

from __future__ import annotations

from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount, SocialLogin

from alliance.sso import services
from alliance.sso.models import IdentityProvider
from alliance.sso.services import SignInRefusedError
from consortia.models import User
from tests.consortia.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
def identity_provider() -> IdentityProvider:
    x = OrganisationFactory.create(name="Org X")
    admin = UserFactory.create(organisation=x, is_organisation_admin=True)
    return services.identity_provider_save(
        actor=admin,
        organisation=x,
        terms=services.ProviderSettings(
            issuer="https://login.x.example",
            client_id="alliance",
            client_secret="secret",
            email_domains=(),
            is_enabled=True,
            auto_create_accounts=True,
        ),
    )


def answer(identity_provider: IdentityProvider, subject: str, **claims: Any) -> SocialLogin:
    """What allauth builds from the provider's verified answer, looked up as allauth does."""
    userinfo = {"sub": subject, **claims}
    account = SocialAccount(
        provider=identity_provider.provider_id,
        uid=subject,
        extra_data={"userinfo": userinfo, "id_token": {"sub": subject}},
    )
    sociallogin = SocialLogin(user=User(), account=account)
    sociallogin.lookup()
    return sociallogin


def test_linked_account_moved_to_another_organisation_is_refused(
    identity_provider: IdentityProvider,
) -> None:
    person = UserFactory.create(organisation=identity_provider.organisation)
    SocialAccount.objects.create(user=person, provider=identity_provider.provider_id, uid="s1")
    person.organisation = OrganisationFactory.create(name="Org Y")
    person.save()

    with pytest.raises(SignInRefusedError, match="another organisation"):
        services.sso_account_for_sign_in(
            identity_provider=identity_provider, sociallogin=answer(identity_provider, "s1")
        )


def test_deactivated_account_is_refused(identity_provider: IdentityProvider) -> None:
    person = UserFactory.create(organisation=identity_provider.organisation, is_active=False)
    SocialAccount.objects.create(user=person, provider=identity_provider.provider_id, uid="s1")

    with pytest.raises(SignInRefusedError, match="deactivated"):
        services.sso_account_for_sign_in(
            identity_provider=identity_provider, sociallogin=answer(identity_provider, "s1")
        )


def test_a_link_through_another_provider_is_not_this_ones(
    identity_provider: IdentityProvider,
) -> None:
    """Subject "s1" is linked through Y's provider; through X's it is someone new."""
    y = OrganisationFactory.create(name="Org Y")
    of_y = UserFactory.create(organisation=y)
    SocialAccount.objects.create(user=of_y, provider=f"org-{y.pk}", uid="s1")

    user = services.sso_account_for_sign_in(
        identity_provider=identity_provider,
        sociallogin=answer(identity_provider, "s1", preferred_username="sam"),
    )

    assert user.pk != of_y.pk
    assert user.organisation_id == identity_provider.organisation_id


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        pytest.param({"preferred_username": "sam"}, "sam-3", id="taken-twice"),
        pytest.param({"preferred_username": "Sam O'Neil"}, "Sam-O-Neil", id="unsafe-characters"),
        pytest.param({"email": "sam.k@x.example"}, "sam.k", id="from-the-address"),
        pytest.param({}, "person", id="nothing"),
    ],
)
def test_new_usernames(
    identity_provider: IdentityProvider, claims: dict[str, str], expected: str
) -> None:
    UserFactory.create(username="sam")
    UserFactory.create(username="sam-2")

    user = services.sso_account_for_sign_in(
        identity_provider=identity_provider, sociallogin=answer(identity_provider, "s9", **claims)
    )

    assert user.username == expected
    assert user.email == ""  # the provider did not vouch for any address
    assert not user.has_usable_password()
