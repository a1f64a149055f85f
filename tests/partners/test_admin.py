"""Managing clients: only the organisation's admins, in the browser; bad terms are refused
field by field and create nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alliance.partners import services
from alliance.partners.models import PartnerClient
from alliance.partners.services import ClientTerms
from tests.partners.conftest import MakeClient, obtain, terms

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "  "}, "name"),
        ({"scopes": frozenset({"everything:write"})}, "scopes"),
        ({"scopes": frozenset()}, "scopes"),
        ({"consortium_ids": frozenset()}, "consortia"),
        ({"allowed_networks": ("10.0.0.0/33",)}, "allowed_networks"),
        ({"expires_at": timezone.now() - timedelta(days=1)}, "expires_at"),
        ({"expires_at": timezone.now() + timedelta(days=5000)}, "expires_at"),
    ],
)
def test_bad_terms_name_the_field_and_create_nothing(
    world: Any, change: dict[str, Any], field: str
) -> None:
    good = terms([world.consortium_a])
    bad = ClientTerms(**{**good.__dict__, **change})
    with pytest.raises(ValidationError) as raised:
        services.client_create(actor=world.chair, organisation=world.org_chair, terms=bad)
    assert field in raised.value.message_dict
    assert not PartnerClient.objects.exists()


def test_a_client_cannot_reach_a_consortium_its_organisation_is_not_in(world: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        services.client_create(
            actor=world.chair,
            organisation=world.org_chair,
            terms=terms([world.consortium_a, world.consortium_b]),
        )
    assert "consortia" in raised.value.message_dict
    assert not PartnerClient.objects.exists()


def test_only_the_organisations_admins_create_clients(world: Any) -> None:
    from django.core.exceptions import PermissionDenied

    for actor in (world.member, world.outsider):
        with pytest.raises(PermissionDenied):
            services.client_create(
                actor=actor, organisation=world.org_member, terms=terms([world.consortium_a])
            )
    assert not PartnerClient.objects.exists()


def test_the_admin_creates_a_client_in_the_browser_and_sees_the_secret_once(
    world: Any, browser_as: Any
) -> None:
    browser = browser_as(world.chair)
    base = f"/organisations/{world.org_chair.pk}/clients/"
    form = browser.get(base + "new/")
    assert form.status_code == 200
    answer = browser.post(
        base + "new/",
        {
            "name": "Usage feed",
            "consortia": [world.consortium_a.pk],
            "scopes": ["usage:write", "compute:read"],
            "allowed_networks": "192.0.2.0/24\n",
            "expires_on": (timezone.localdate() + timedelta(days=90)).isoformat(),
        },
    )
    assert answer.status_code == 200
    partner = PartnerClient.objects.get(name="Usage feed")
    secret = answer.context["secret"]
    assert secret
    assert secret in answer.content.decode()
    assert partner.allowed_networks == ["192.0.2.0/24"]
    assert obtain(partner, secret, REMOTE_ADDR="192.0.2.9").status_code == 200
    listing = browser.get(base).content.decode()
    detail = browser.get(f"{base}{partner.pk}/").content.decode()
    assert "Usage feed" in listing
    assert secret not in listing
    assert secret not in detail
    assert "from 192.0.2.9" not in detail  # a token was issued, but not yet used


def test_a_bad_form_keeps_the_input_and_names_the_error(world: Any, browser_as: Any) -> None:
    browser = browser_as(world.chair)
    answer = browser.post(
        f"/organisations/{world.org_chair.pk}/clients/new/",
        {
            "name": "Portal",
            "consortia": [world.consortium_a.pk],
            "scopes": ["consortia:read"],
            "allowed_networks": "not-a-network",
            "expires_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
        },
    )
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "is not an address or CIDR block" in page
    assert 'value="Portal"' in page
    assert not PartnerClient.objects.exists()


def test_rotate_and_revoke_in_the_browser(
    world: Any, browser_as: Any, make_client: MakeClient
) -> None:
    partner, secret = make_client()
    browser = browser_as(world.chair)
    base = f"/organisations/{world.org_chair.pk}/clients/{partner.pk}/"
    rotated = browser.post(base + "rotate/")
    assert rotated.status_code == 200
    new_secret = rotated.context["secret"]
    assert new_secret != secret
    assert obtain(partner, secret).status_code == 401
    assert obtain(partner, new_secret).status_code == 200
    assert browser.post(base + "revoke/").status_code == 302
    partner.refresh_from_db()
    assert partner.revoked_at is not None
    assert not partner.account.is_active
    assert obtain(partner, new_secret).status_code == 401
    assert "Revoke</button>" not in browser.get(base).content.decode()


@pytest.mark.parametrize("path", ["", "new/", "{pk}/", "{pk}/edit/"])
def test_other_organisations_get_404_and_non_admins_403(
    world: Any, browser_as: Any, make_client: MakeClient, path: str
) -> None:
    partner, _ = make_client()
    url = f"/organisations/{world.org_chair.pk}/clients/" + path.format(pk=partner.pk)
    assert browser_as(world.chair).get(url).status_code == 200
    assert browser_as(world.outsider).get(url).status_code == 404
    world.member.organisation = world.org_chair
    world.member.save()
    assert browser_as(world.member).get(url).status_code == 403
    assert browser_as(None).get(url).status_code == 302


@pytest.mark.parametrize("action", ["rotate/", "revoke/"])
def test_refused_actions_change_nothing(
    world: Any, browser_as: Any, make_client: MakeClient, action: str
) -> None:
    partner, secret = make_client()
    url = f"/organisations/{world.org_chair.pk}/clients/{partner.pk}/{action}"
    assert browser_as(world.outsider).post(url).status_code == 404
    partner.refresh_from_db()
    assert partner.revoked_at is None
    assert obtain(partner, secret).status_code == 200
