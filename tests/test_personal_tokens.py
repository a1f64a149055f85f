"""People's API tokens: one query finds the token with its person and organisation, expired
and unknown tokens are refused alike, and the daily task deletes only expired ones."""

from __future__ import annotations

import datetime

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from alliance.personal_tokens import PersonalTokenAuthentication
from alliance.tasks import personal_tokens_purge
from tests.conftest import World


def _client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_one_query_reads_the_token_its_person_and_their_organisation(world: World) -> None:
    organisation = world.observer.organisation
    assert organisation is not None
    expected = organisation.name
    _, token = AuthToken.objects.create(user=world.observer)
    AuthToken.objects.create(user=world.observer, expiry=datetime.timedelta(days=-1))
    with CaptureQueriesContext(connection) as queries:
        user, _auth = PersonalTokenAuthentication().authenticate_credentials(token.encode())
        organisation_name = user.organisation.name
    assert user == world.observer
    assert organisation_name == expected
    assert len(queries) == 1, [query["sql"] for query in queries]


def test_an_expired_token_is_refused_and_the_purge_deletes_only_expired_ones(
    world: World,
) -> None:
    _, lasting = AuthToken.objects.create(user=world.observer)
    _, expiring = AuthToken.objects.create(user=world.observer, expiry=datetime.timedelta(hours=1))
    assert _client(expiring).get("/api/v1/consortia/").status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        refused = _client(expiring).get("/api/v1/consortia/")
        assert refused.status_code == 401
        assert refused.json()["code"] == "authentication_failed"
        assert AuthToken.objects.filter(user=world.observer).count() == 2
        assert personal_tokens_purge() == 1
        assert _client(lasting).get("/api/v1/consortia/").status_code == 200
    assert AuthToken.objects.filter(user=world.observer).count() == 1


def test_an_inactive_person_or_a_malformed_token_is_refused(world: World) -> None:
    _, token = AuthToken.objects.create(user=world.observer)
    assert _client(token[:-1] + "!").get("/api/v1/consortia/").status_code == 401
    assert _client("not-hex-\u00e9" * 4).get("/api/v1/consortia/").status_code == 401
    world.observer.is_active = False
    world.observer.save(update_fields=["is_active"])
    assert _client(token).get("/api/v1/consortia/").status_code == 401
