"""Signing in through an organisation's own provider, end to end: Alliance's live server, a
real OpenID provider (tests/sso/provider) and a person with a browser between them.

Organisation X signs in through provider A, organisation Y (when it has one) through provider
B. Both providers know the same people under the same subjects, so only the provider an
answer came from tells the organisations apart.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from allauth.socialaccount.models import SocialAccount
from django.utils import timezone

from alliance.sso import services
from audit.models import Action, AuditEvent, Outcome
from consortia.models import Organisation, User
from tests.consortia.factories import OrganisationFactory, UserFactory
from tests.sso.conftest import Person, Providers, messages_on, provider_for, with_query

pytestmark = pytest.mark.usefixtures("committed_db", "sso_settings")


@dataclass
class Orgs:
    """Organisations X and Y with an admin each, and where Alliance is served."""

    url: str
    x: Organisation
    y: Organisation
    x_admin: User
    y_admin: User


@pytest.fixture
def orgs(live_server: Any) -> Orgs:
    x = OrganisationFactory.create(name="Org X")
    y = OrganisationFactory.create(name="Org Y")
    return Orgs(
        url=live_server.url,
        x=x,
        y=y,
        x_admin=UserFactory.create(username="x-admin", organisation=x, is_organisation_admin=True),
        y_admin=UserFactory.create(username="y-admin", organisation=y, is_organisation_admin=True),
    )


def at_home(url: str) -> bool:
    """Signed in, a person lands on the home page (what waits on them)."""
    return urlsplit(url).path == "/"


def refused(page: Any, words: str) -> None:
    """The person is back on the sign-in page, told why, and not signed in."""
    assert page.status_code == 200
    assert page.url.split("?")[0].endswith("/accounts/login/"), page.url
    shown = messages_on(page)
    assert any(words in message for message in shown), shown


def failures() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=Action.LOGIN_FAILED).order_by("id"))


def state() -> tuple[Any, ...]:
    """Accounts and links: a refused sign-in changes neither."""
    return (
        sorted(User.objects.values_list("pk", "username", "organisation_id")),
        sorted(SocialAccount.objects.values_list("pk", "provider", "uid", "user_id")),
    )


def test_person_of_x_gets_a_new_account_of_x_then_the_same_one(
    oidc_providers: Providers, orgs: Orgs
) -> None:
    provider_for(orgs.x, oidc_providers.a, email_domains=("x.example",))
    person = Person(orgs.url)

    landed = person.sign_in_with_email("ada@x.example", login="ada")

    assert landed.status_code == 200
    assert at_home(landed.url), landed.url
    assert "Ada Lovelace" in landed.text  # the session works on a page
    ada = User.objects.get(socialaccount__provider=f"org-{orgs.x.pk}", socialaccount__uid="ada")
    assert (ada.username, ada.organisation_id, ada.email) == ("ada", orgs.x.pk, "ada@x.example")
    assert not ada.has_usable_password()
    created = AuditEvent.objects.get(action=Action.CREATE, object_type="consortia.user")
    assert created.actor_id == str(ada.pk)
    assert created.changes_data["subject"] == "ada"
    assert AuditEvent.objects.filter(action=Action.LOGIN, actor_id=str(ada.pk)).count() == 1

    again = Person(orgs.url)
    landed = again.sign_in_with_email("ada@x.example", login="ada")

    assert at_home(landed.url)
    assert "Ada Lovelace" in landed.text
    assert User.objects.filter(username__startswith="ada").count() == 1
    assert AuditEvent.objects.filter(action=Action.LOGIN, actor_id=str(ada.pk)).count() == 2
    assert failures() == []


def test_the_organisations_sign_in_link_works_too(oidc_providers: Providers, orgs: Orgs) -> None:
    identity_provider = provider_for(orgs.x, oidc_providers.a)
    person = Person(orgs.url)

    answer = person.sign_in_at_provider(
        person.start_with_link(identity_provider.provider_id), login="ada"
    )
    landed = person.come_back(answer)

    assert at_home(landed.url)
    assert User.objects.get(username="ada").organisation_id == orgs.x.pk


def test_address_of_another_organisations_account_never_reaches_it(
    oidc_providers: Providers, orgs: Orgs
) -> None:
    """X's provider vouches for bob@y.example, the address of Y's local account "bob": the
    sign-in becomes a new account of X, and Y's bob is not touched."""
    bob_of_y = UserFactory.create(username="bob", email="bob@y.example", organisation=orgs.y)
    identity_provider = provider_for(orgs.x, oidc_providers.a)
    person = Person(orgs.url)

    landed = person.come_back(
        person.sign_in_at_provider(person.start_with_link(identity_provider.provider_id), "bob")
    )

    assert at_home(landed.url)
    new = User.objects.get(socialaccount__uid="bob")
    assert new.pk != bob_of_y.pk
    assert new.organisation_id == orgs.x.pk
    assert new.username == "bob-2"
    bob_of_y.refresh_from_db()
    assert bob_of_y.last_login is None
    assert not SocialAccount.objects.filter(user=bob_of_y)


def test_without_account_creation_an_unlinked_person_is_refused(
    oidc_providers: Providers, orgs: Orgs
) -> None:
    UserFactory.create(username="bob", email="bob@y.example", organisation=orgs.y)
    identity_provider = provider_for(orgs.x, oidc_providers.a, auto_create_accounts=False)
    before = state()
    person = Person(orgs.url)

    page = person.come_back(
        person.sign_in_at_provider(person.start_with_link(identity_provider.provider_id), "bob")
    )

    refused(page, "No Alliance account is linked to this Org X identity")
    assert state() == before
    assert person.page("/consortia/").status_code == 302  # not signed in
    (failure,) = failures()
    assert failure.outcome == Outcome.DENIED
    assert "account creation is off" in failure.reason
    assert failure.object_id == str(identity_provider.pk)
    assert failure.changes_data == {"identity_provider": f"org-{orgs.x.pk}", "subject": "bob"}


def test_disabled_provider_is_refused(oidc_providers: Providers, orgs: Orgs) -> None:
    identity_provider = provider_for(orgs.x, oidc_providers.a, email_domains=("x.example",))
    person = Person(orgs.url)
    answer = person.sign_in_at_provider(person.start_with_email("ada@x.example"), "ada")
    services.identity_provider_save(
        actor=orgs.x_admin,
        organisation=orgs.x,
        terms=services.ProviderSettings(
            issuer=oidc_providers.a,
            client_id="alliance",
            client_secret=None,
            email_domains=("x.example",),
            is_enabled=False,
            auto_create_accounts=True,
        ),
    )
    before = state()

    refused(person.come_back(answer), "Single sign-on for this organisation is turned off")
    assert state() == before
    assert "disabled" in failures()[-1].reason

    # Nor can a new sign-in start: the domain and the link lead nowhere while it is off.
    started = person.start_with_email("ada@x.example")
    assert started.headers["Location"] == "/accounts/login/"
    page = person.page("/accounts/login/")
    assert any("No organisation signs in here" in message for message in messages_on(page))
    link = person.page(f"/accounts/sso/oidc/{identity_provider.provider_id}/login/")
    assert link.status_code == 404


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param({"state": "forged-state-value"}, id="forged"),
        pytest.param({"state": None}, id="missing"),
    ],
)
def test_tampered_state_is_refused(
    oidc_providers: Providers, orgs: Orgs, tamper: dict[str, str | None]
) -> None:
    provider_for(orgs.x, oidc_providers.a, email_domains=("x.example",))
    person = Person(orgs.url)
    answer = person.sign_in_at_provider(person.start_with_email("ada@x.example"), "ada")
    before = state()

    refused(person.come_back(with_query(answer, **tamper)), "does not match a sign-in started here")
    assert state() == before
    assert "state" in failures()[-1].reason


def test_state_of_another_browser_is_refused(oidc_providers: Providers, orgs: Orgs) -> None:
    """An answer meant for someone else's browser (login CSRF) does not sign this one in."""
    provider_for(orgs.x, oidc_providers.a, email_domains=("x.example",))
    victim, attacker = Person(orgs.url), Person(orgs.url)
    victim.page("/accounts/login/")
    answer = attacker.sign_in_at_provider(attacker.start_with_email("ada@x.example"), "ada")
    before = state()

    refused(victim.come_back(answer), "does not match a sign-in started here")
    assert state() == before


def test_an_answer_is_used_once(oidc_providers: Providers, orgs: Orgs) -> None:
    provider_for(orgs.x, oidc_providers.a, email_domains=("x.example",))
    person = Person(orgs.url)
    answer = person.sign_in_at_provider(person.start_with_email("ada@x.example"), "ada")
    assert at_home(person.come_back(answer).url)
    ada = User.objects.get(username="ada")

    # The same browser, still signed in: told so on the page it lands on, and still Ada.
    page = person.come_back(answer)

    assert any("does not match a sign-in started here" in m for m in messages_on(page))
    assert "Ada Lovelace" in page.text
    assert User.objects.filter(username__startswith="ada").count() == 1
    assert failures()[-1].actor_id == str(ada.pk)


def test_two_organisations_two_providers_two_accounts(
    oidc_providers: Providers, orgs: Orgs
) -> None:
    """Both providers know "ada" by the same subject; each organisation gets its own account,
    and neither provider's answer reaches the other organisation's account."""
    provider_for(orgs.x, oidc_providers.a, email_domains=("x.example",))
    provider_y = provider_for(orgs.y, oidc_providers.b)

    at_x = Person(orgs.url).sign_in_with_email("ada@x.example", "ada")
    person = Person(orgs.url)
    at_y = person.come_back(
        person.sign_in_at_provider(person.start_with_link(provider_y.provider_id), "ada")
    )

    assert at_home(at_x.url)
    assert at_home(at_y.url)
    links = dict(SocialAccount.objects.filter(uid="ada").values_list("provider", "user_id"))
    assert set(links) == {f"org-{orgs.x.pk}", f"org-{orgs.y.pk}"}
    users = User.objects.in_bulk(links.values())
    assert users[links[f"org-{orgs.x.pk}"]].organisation_id == orgs.x.pk
    assert users[links[f"org-{orgs.y.pk}"]].organisation_id == orgs.y.pk


def test_answer_from_another_organisations_provider_is_refused(
    oidc_providers: Providers, orgs: Orgs
) -> None:
    """A sign-in started for X, answered by Y's provider B (which knows the same client id):
    refused before the code is sent anywhere, and nothing is linked."""
    provider_for(orgs.x, oidc_providers.a, email_domains=("x.example",))
    provider_for(orgs.y, oidc_providers.b)
    person = Person(orgs.url)
    started = person.start_with_email("ada@x.example")
    to_b = started.headers["Location"].replace(oidc_providers.a, oidc_providers.b)
    started.headers["Location"] = to_b
    answer = person.sign_in_at_provider(started, "ada")
    assert f"iss={oidc_providers.b.replace(':', '%3A').replace('/', '%2F')}" in answer
    before = state()

    refused(person.come_back(answer), "not from this organisation's provider")
    assert state() == before

    # Without the answer's issuer it is refused too: provider A always names itself.
    started = person.start_with_email("ada@x.example")
    started.headers["Location"] = started.headers["Location"].replace(
        oidc_providers.a, oidc_providers.b
    )
    answer = with_query(person.sign_in_at_provider(started, "ada"), iss=None)

    refused(person.come_back(answer), "does not say which provider sent it")
    assert state() == before


def test_expired_id_token_is_refused(oidc_providers: Providers, orgs: Orgs) -> None:
    """The "alliance-short" client's ID tokens live a minute; the answer is used after five."""
    provider_for(orgs.x, oidc_providers.a, client_id="alliance-short", email_domains=("x.example",))
    person = Person(orgs.url)
    answer = person.sign_in_at_provider(person.start_with_email("ada@x.example"), "ada")
    before = state()

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5), tick=True):
        page = person.come_back(answer)

    refused(page, "The ID token has expired")
    assert state() == before


def test_id_token_not_signed_by_the_providers_key_is_refused(
    oidc_providers: Providers, orgs: Orgs
) -> None:
    """The "alliance-hs256" client's ID tokens are HMAC-signed with the client secret, which
    Alliance holds too: they prove nothing about the provider, so they are refused."""
    provider_for(orgs.x, oidc_providers.a, client_id="alliance-hs256", email_domains=("x.example",))
    person = Person(orgs.url)
    before = state()

    page = person.sign_in_with_email("ada@x.example", "ada")

    refused(page, "not signed with one of the provider's published keys (algorithm 'HS256')")
    assert state() == before


def test_registered_issuer_must_be_the_providers_own(oidc_providers: Providers, orgs: Orgs) -> None:
    """X registered the issuer with another spelling than the provider's own: the provider's
    discovery document names another issuer, so no sign-in starts, nor finishes."""
    port = oidc_providers.a.rsplit(":", 1)[1]
    provider_for(orgs.x, f"http://localhost:{port}", email_domains=("x.example",))
    person = Person(orgs.url)
    before = state()

    started = person.start_with_email("ada@x.example")

    assert started.headers["Location"] == "/accounts/login/"
    refused(person.page("/accounts/login/"), "names the issuer 'http://127.0.0.1:")
    assert state() == before
    assert "discovery" in failures()[-1].reason


@pytest.mark.parametrize(
    ("login", "words"),
    [
        pytest.param("bob", "signs in only addresses at x.example", id="other-domain"),
        pytest.param("una", "did not confirm your address una@x.example", id="unverified"),
    ],
)
def test_organisations_domains_are_enforced(
    oidc_providers: Providers, orgs: Orgs, login: str, words: str
) -> None:
    identity_provider = provider_for(orgs.x, oidc_providers.a, email_domains=("x.example",))
    person = Person(orgs.url)
    before = state()

    page = person.come_back(
        person.sign_in_at_provider(person.start_with_link(identity_provider.provider_id), login)
    )

    refused(page, words)
    assert state() == before


def test_local_account_links_then_signs_in_through_the_provider(
    oidc_providers: Providers, orgs: Orgs
) -> None:
    """Una had a password before X set up its provider: she links her identity from the
    link page, and the provider then signs her in to that same account."""
    una = UserFactory.create(username="una.local", organisation=orgs.x)
    provider_for(orgs.x, oidc_providers.a, auto_create_accounts=False)
    person = Person(orgs.url)
    person.sign_in_locally("una.local")

    page = person.come_back(person.sign_in_at_provider(person.start_linking(), "una"))

    assert page.url.endswith("/accounts/sso/link/")
    assert "Your account is linked" in page.text
    assert SocialAccount.objects.get(uid="una").user_id == una.pk
    assert AuditEvent.objects.filter(
        action=Action.CREATE, object_type="socialaccount.socialaccount", actor_id=str(una.pk)
    ).exists()

    fresh = Person(orgs.url)
    landed = fresh.come_back(
        fresh.sign_in_at_provider(fresh.start_with_link(f"org-{orgs.x.pk}"), "una")
    )
    assert at_home(landed.url)
    assert AuditEvent.objects.filter(action=Action.LOGIN, actor_id=str(una.pk)).count() == 2


def test_an_identity_links_to_one_account_only(oidc_providers: Providers, orgs: Orgs) -> None:
    provider_for(orgs.x, oidc_providers.a)
    first = UserFactory.create(username="first", organisation=orgs.x)
    UserFactory.create(username="second", organisation=orgs.x)
    for username in ("first", "second"):
        person = Person(orgs.url)
        person.sign_in_locally(username)
        page = person.come_back(person.sign_in_at_provider(person.start_linking(), "ada"))
        assert page.url.endswith("/accounts/sso/link/")

    assert "already linked to another Alliance account" in " ".join(messages_on(page))
    assert list(SocialAccount.objects.values_list("user_id", flat=True)) == [first.pk]
