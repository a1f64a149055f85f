"""Partner clients from the outside: the token endpoint, then the API with the token.

A client is a user of its organisation narrowed by its consortia and scopes; revoked,
expired or out-of-network clients get no token and cannot use one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.utils import timezone
from oauth2_provider.models import AccessToken

from alliance.partners import services
from alliance.partners.authentication import LAST_USE_RESOLUTION
from alliance.partners.models import PartnerClient
from audit.models import AuditEvent
from consortia.models import Role, RoleAssignment
from tests.consortia.factories import ConsortiumFactory, MembershipFactory, RoleAssignmentFactory
from tests.partners.conftest import MakeClient, api_with, obtain, token_for

pytestmark = pytest.mark.django_db


def test_the_secret_is_stored_hashed_and_the_creation_audited(
    make_client: MakeClient, world: Any
) -> None:
    partner, secret = make_client()
    stored = partner.application.client_secret
    assert stored != secret
    assert check_password(secret, stored)
    event = AuditEvent.objects.get(object_type="partners.partnerclient", action="create")
    assert event.actor_id == str(world.chair.pk)
    assert secret not in event.changes


def test_a_token_carries_the_clients_scopes_and_a_recognisable_prefix(
    make_client: MakeClient,
) -> None:
    partner, secret = make_client(scopes=["consortia:read", "audit:read"])
    answer = obtain(partner, secret)
    assert answer.status_code == 200
    body = answer.json()
    assert body["access_token"].startswith("alc_")
    assert set(body["scope"].split()) == {"consortia:read", "audit:read"}
    assert body["token_type"] == "Bearer"


def test_a_token_can_ask_for_fewer_scopes_but_not_more(make_client: MakeClient) -> None:
    partner, secret = make_client(scopes=["consortia:read", "audit:read"])
    assert obtain(partner, secret, "audit:read").json()["scope"] == "audit:read"
    refused = obtain(partner, secret, "agreements:write")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_scope"
    assert AccessToken.objects.filter(application=partner.application).count() == 1


def test_a_wrong_secret_gets_no_token(make_client: MakeClient) -> None:
    partner, _ = make_client()
    answer = obtain(partner, "not-the-secret")
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert not AccessToken.objects.exists()


def test_the_client_sees_only_its_consortia(make_client: MakeClient, world: Any) -> None:
    other = ConsortiumFactory.create(name="Consortium C")
    MembershipFactory.create(consortium=other, organisation=world.org_chair)
    RoleAssignmentFactory.create(consortium=other, user=world.chair, role=Role.CHAIR)
    partner, secret = make_client([world.consortium_a], ["consortia:read"])
    api = api_with(token_for(partner, secret))
    listed = api.get("/api/v1/consortia/").json()["results"]
    assert [row["id"] for row in listed] == [world.consortium_a.pk]
    assert api.get(f"/api/v1/consortia/{other.pk}/").status_code == 404
    # The person who made it sees both: the limit is the client's alone.
    assert world.chair.pk != partner.account_id


def test_another_organisations_consortium_is_not_found(make_client: MakeClient, world: Any) -> None:
    partner, secret = make_client(scopes=["consortia:read", "compute:read"])
    api = api_with(token_for(partner, secret))
    assert api.get(f"/api/v1/consortia/{world.consortium_b.pk}/").status_code == 404


def test_a_request_outside_the_tokens_scopes_is_refused_and_changes_nothing(
    make_client: MakeClient, world: Any, unchanged: Any
) -> None:
    partner, secret = make_client(scopes=["consortia:read"])
    api = api_with(token_for(partner, secret))
    with unchanged():
        read = api.get("/api/v1/agreements/")
        write = api.patch(f"/api/v1/consortia/{world.consortium_a.pk}/", {"charter": "changed"})
    assert read.status_code == 403
    assert read.json()["detail"] == "This client's token lacks the scope agreements:read."
    assert write.status_code == 403
    assert "consortia:write" in write.json()["detail"]


def test_scopes_only_narrow_the_client_also_needs_a_role(
    make_client: MakeClient, world: Any, unchanged: Any
) -> None:
    partner, secret = make_client(scopes=["consortia:read", "consortia:write"])
    api = api_with(token_for(partner, secret))
    path = f"/api/v1/consortia/{world.consortium_a.pk}/"
    with unchanged():
        assert api.patch(path, {"charter": "By the portal"}).status_code == 403
    # The client's account is given a role as any person of its organisation could be (here
    # the chair's own, since a consortium has one chair).
    RoleAssignment.objects.filter(consortium=world.consortium_a, role=Role.CHAIR).update(
        user=partner.account
    )
    answer = api.patch(path, {"charter": "By the portal"})
    assert answer.status_code == 200, answer.content
    event = AuditEvent.objects.filter(object_type="consortia.consortium", action="update").last()
    assert event is not None
    assert event.actor_kind == "client"
    assert event.actor_display == "Partner portal (API client of Chair Org)"
    assert event.actor_organisation_id == world.org_chair.pk


def test_the_decision_gate_needs_compliance_decide(make_client: MakeClient) -> None:
    partner, secret = make_client(scopes=["compliance:read", "compliance:write"])
    api = api_with(token_for(partner, secret))
    answer = api.post("/api/v1/compliance/decisions/", {}, format="json")
    assert answer.status_code == 403
    assert "compliance:decide" in answer.json()["detail"]


@pytest.mark.parametrize("change", ["expire", "revoke"])
def test_an_expired_or_revoked_client_gets_no_token_and_its_tokens_stop(
    make_client: MakeClient, world: Any, change: str
) -> None:
    partner, secret = make_client(scopes=["consortia:read"])
    api = api_with(token_for(partner, secret))
    if change == "expire":
        PartnerClient.objects.filter(pk=partner.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    else:
        services.client_revoke(actor=world.chair, partner=partner)
    answer = api.get("/api/v1/consortia/")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert obtain(partner, secret).status_code == 401


def test_a_client_restricted_to_a_network_is_refused_elsewhere(
    make_client: MakeClient,
) -> None:
    partner, secret = make_client(scopes=["consortia:read"], networks=["10.20.0.0/16"])
    assert obtain(partner, secret).status_code == 401  # the test client calls from 127.0.0.1
    token = obtain(partner, secret, REMOTE_ADDR="10.20.3.4").json()["access_token"]
    api = api_with(token)
    refused = api.get("/api/v1/consortia/")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "The client may not be used from this address."
    assert api.get("/api/v1/consortia/", REMOTE_ADDR="10.20.3.4").status_code == 200


def test_a_rotated_secret_replaces_the_old_one_and_ends_its_tokens(
    make_client: MakeClient, world: Any
) -> None:
    partner, old_secret = make_client(scopes=["consortia:read"])
    api = api_with(token_for(partner, old_secret))
    new_secret = services.client_rotate_secret(actor=world.chair, partner=partner)
    assert api.get("/api/v1/consortia/").status_code == 401
    assert obtain(partner, old_secret).status_code == 401
    assert api_with(token_for(partner, new_secret)).get("/api/v1/consortia/").status_code == 200


def test_narrowing_a_client_ends_the_tokens_it_holds(make_client: MakeClient, world: Any) -> None:
    from tests.partners.conftest import terms

    partner, secret = make_client(scopes=["consortia:read", "audit:read"])
    api = api_with(token_for(partner, secret))
    services.client_update(
        actor=world.chair, partner=partner, terms=terms([world.consortium_a], ["audit:read"])
    )
    assert api.get("/api/v1/consortia/").status_code == 401
    fresh = api_with(token_for(partner, secret))
    assert fresh.get("/api/v1/consortia/").status_code == 403


def test_last_use_is_recorded_without_a_write_per_request(
    make_client: MakeClient, django_assert_max_num_queries: Any
) -> None:
    partner, secret = make_client(scopes=["consortia:read"])
    api = api_with(token_for(partner, secret))
    api.get("/api/v1/consortia/", REMOTE_ADDR="192.0.2.7")
    partner.refresh_from_db()
    first = partner.last_used_at
    assert first is not None
    assert partner.last_used_from == "192.0.2.7"
    api.get("/api/v1/consortia/")
    partner.refresh_from_db()
    assert partner.last_used_at == first  # within LAST_USE_RESOLUTION of the first
    PartnerClient.objects.filter(pk=partner.pk).update(last_used_at=first - LAST_USE_RESOLUTION)
    api.get("/api/v1/consortia/")
    partner.refresh_from_db()
    assert partner.last_used_at is not None
    assert partner.last_used_at > first


def test_a_malformed_or_unknown_token_is_401(make_client: MakeClient) -> None:
    assert api_with("alc_nope").get("/api/v1/consortia/").status_code == 401
    assert api_with("alc_").get("/api/v1/consortia/").status_code == 401
