"""The organisation's single sign-on settings page: who may see it, and what it accepts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.test import Client

from alliance.sso import services
from alliance.sso.models import IdentityProvider, IdentityProviderDomain
from audit.models import Action, AuditEvent
from consortia.models import User
from tests.conftest import World
from tests.consortia.factories import UserFactory

SECRET = "first-client-secret-value"


def url(world: World) -> str:
    return f"/organisations/{world.org_chair.pk}/sso/"


def form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "issuer": "https://login.chair.example/realms/staff",
        "client_id": "alliance",
        "client_secret": SECRET,
        "email_domains": "chair.example\nChair-Lab.example",
        "is_enabled": "on",
        "auto_create_accounts": "on",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def saved_state() -> tuple[Any, ...]:
    return (
        list(IdentityProvider.objects.values()),
        list(IdentityProviderDomain.objects.values()),
        list(SocialApp.objects.values()),
        AuditEvent.objects.exclude(action__in=[Action.DENIED, Action.LOGIN]).count(),
    )


@pytest.fixture
def chair_member(world: World) -> User:
    """Someone of the chair's organisation who is not its admin."""
    return UserFactory.create(username="chair-colleague", organisation=world.org_chair)


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        pytest.param("chair", 200, id="organisation-admin"),
        pytest.param("chair_member", 403, id="same-organisation-not-admin"),
        pytest.param("outsider", 404, id="another-organisations-admin"),
        pytest.param("member", 404, id="consortium-partner"),
        pytest.param("staff", 200, id="platform-staff"),
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_who_may_open_the_page(
    world: World,
    chair_member: User,
    browser_as: Callable[[User | None], Client],
    persona: str,
    status: int,
    method: str,
) -> None:
    users = {
        "chair_member": chair_member,
        "staff": UserFactory.create(username="operator", organisation=None, is_staff=True),
    }
    client = browser_as(users.get(persona) or world.persona(persona))
    before = saved_state()

    response = getattr(client, method)(url(world), form() if method == "post" else None)

    if method == "post" and status == 200:
        assert response.status_code == 302  # saved, back to the page
        assert IdentityProvider.objects.get().organisation_id == world.org_chair.pk
    else:
        assert response.status_code == status
        assert saved_state() == before


def test_anonymous_is_asked_to_sign_in(world: World, client: Client) -> None:
    response = client.get(url(world))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_organisation_page_links_to_it_for_admins_only(
    world: World, chair_member: User, browser_as: Callable[[User | None], Client]
) -> None:
    page = f"/organisations/{world.org_chair.pk}/"

    assert url(world) in browser_as(world.chair).get(page).content.decode()
    assert url(world) not in browser_as(chair_member).get(page).content.decode()
    assert url(world) not in browser_as(world.outsider).get(page).content.decode()


def test_admin_sets_up_the_provider(
    world: World, browser_as: Callable[[User | None], Client]
) -> None:
    client = browser_as(world.chair)

    response = client.post(url(world), form())

    assert response.status_code == 302
    identity_provider = IdentityProvider.objects.select_related("app").get()
    assert identity_provider.issuer == "https://login.chair.example/realms/staff"
    assert identity_provider.is_enabled
    assert identity_provider.auto_create_accounts
    app = identity_provider.app
    assert (app.provider, app.provider_id) == ("openid_connect", f"org-{world.org_chair.pk}")
    assert (app.client_id, app.secret) == ("alliance", SECRET)
    assert app.settings["server_url"] == (
        "https://login.chair.example/realms/staff/.well-known/openid-configuration"
    )
    assert sorted(identity_provider.domains.values_list("domain", flat=True)) == [
        "chair-lab.example",
        "chair.example",
    ]
    event = AuditEvent.objects.get(action=Action.CREATE, object_type="sso.identityprovider")
    assert event.actor_id == str(world.chair.pk)
    assert event.changes_data["client_id"] == {"before": None, "after": "alliance"}
    assert SECRET not in event.changes

    page = client.get(url(world)).content.decode()
    assert SECRET not in page
    assert f"/accounts/sso/oidc/org-{world.org_chair.pk}/login/callback/" in page


def test_an_empty_secret_keeps_the_stored_one_and_a_new_one_replaces_it(
    world: World, browser_as: Callable[[User | None], Client]
) -> None:
    client = browser_as(world.chair)
    client.post(url(world), form())

    client.post(url(world), form(client_secret="", is_enabled=None))

    identity_provider = IdentityProvider.objects.select_related("app").get()
    assert identity_provider.app.secret == SECRET
    assert not identity_provider.is_enabled

    client.post(url(world), form(client_secret="second-client-secret"))

    assert SocialApp.objects.get().secret == "second-client-secret"
    last = AuditEvent.objects.filter(action=Action.UPDATE).last()
    assert last is not None
    assert last.changes_data["client_credential"] == {"before": "kept", "after": "replaced"}
    assert "second-client-secret" not in last.changes


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        pytest.param(
            {"issuer": "http://login.chair.example"}, "issuer", "must use https", id="http"
        ),
        pytest.param(
            {"issuer": "http://127.0.0.1:9000"}, "issuer", "only in development", id="loopback"
        ),
        pytest.param({"issuer": "login.chair.example"}, "issuer", "full URL", id="not-a-url"),
        pytest.param(
            {"issuer": "https://login.chair.example/?tenant=1"}, "issuer", "no query", id="query"
        ),
        pytest.param({"client_id": ""}, "client_id", "required", id="empty-client-id"),
        pytest.param({"client_id": "   "}, "client_id", "required", id="blank-client-id"),
        pytest.param({"client_secret": ""}, "client_secret", "required", id="no-secret"),
        pytest.param(
            {"email_domains": "chair.example\nnot a domain"},
            "email_domains",
            "Not a domain name: not a domain",
            id="bad-domain",
        ),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(
    world: World,
    browser_as: Callable[[User | None], Client],
    changes: dict[str, str],
    field: str,
    words: str,
) -> None:
    before = saved_state()

    response = browser_as(world.chair).post(url(world), form(**changes))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert words in " ".join(errors[field])
    assert saved_state() == before


def test_loopback_http_issuer_is_allowed_when_configured(
    world: World, browser_as: Callable[[User | None], Client], settings: Any
) -> None:
    settings.SSO_ALLOW_LOOPBACK_HTTP_ISSUERS = True

    response = browser_as(world.chair).post(url(world), form(issuer="http://127.0.0.1:9000"))

    assert response.status_code == 302
    assert IdentityProvider.objects.get().issuer == "http://127.0.0.1:9000"


def test_an_issuer_or_a_domain_belongs_to_one_organisation(
    world: World, browser_as: Callable[[User | None], Client]
) -> None:
    browser_as(world.outsider).post(
        f"/organisations/{world.org_outsider.pk}/sso/",
        form(issuer="https://login.outsider.example", email_domains="outsider.example"),
    )
    client = browser_as(world.chair)
    before = saved_state()

    same_issuer = client.post(url(world), form(issuer="https://login.outsider.example"))
    same_domain = client.post(url(world), form(email_domains="outsider.example"))

    assert (
        "Another organisation signs in through this issuer."
        in same_issuer.context["form"].errors["issuer"]
    )
    assert same_domain.context["form"].errors["email_domains"] == [
        "Registered by another organisation: outsider.example."
    ]
    assert saved_state() == before


def test_changing_the_issuer_ends_the_links(world: World) -> None:
    terms = services.ProviderSettings(
        issuer="https://old.chair.example",
        client_id="alliance",
        client_secret=SECRET,
        email_domains=(),
        is_enabled=True,
        auto_create_accounts=True,
    )
    services.identity_provider_save(actor=world.chair, organisation=world.org_chair, terms=terms)
    SocialAccount.objects.create(user=world.chair, provider=f"org-{world.org_chair.pk}", uid="7")

    services.identity_provider_save(
        actor=world.chair,
        organisation=world.org_chair,
        terms=services.ProviderSettings(
            **{**terms.__dict__, "issuer": "https://new.chair.example"}
        ),
    )

    assert not SocialAccount.objects.exists()
    event = AuditEvent.objects.filter(action=Action.UPDATE).last()
    assert event is not None
    assert event.changes_data["links_ended"] == 1


def test_the_service_refuses_someone_who_is_not_the_organisations_admin(world: World) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.identity_provider_save(
            actor=world.outsider,
            organisation=world.org_chair,
            terms=services.ProviderSettings(
                issuer="https://login.chair.example",
                client_id="alliance",
                client_secret=SECRET,
                email_domains=(),
                is_enabled=True,
                auto_create_accounts=False,
            ),
        )
    assert not IdentityProvider.objects.exists()


def test_sign_in_page_offers_the_organisations_sign_in(client: Client, db: Any) -> None:
    page = client.get("/accounts/login/").content.decode()

    assert "Sign in with your organisation" in page
    assert 'action="/accounts/sso/start/"' in page


def test_unknown_domain_is_told_to_use_a_password(client: Client, db: Any) -> None:
    response = client.post(
        "/accounts/sso/start/", {"email": "someone@nowhere.example"}, follow=True
    )

    assert response.redirect_chain == [("/accounts/login/", 302)]
    assert "No organisation signs in here with addresses at that domain" in (
        response.content.decode()
    )
