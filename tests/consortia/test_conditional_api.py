"""ETag and If-Match on detail resources: a stale write gets 412 and changes nothing; an
unchanged read gets 304 (alliance.conditional)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from consortia.models import Consortium
from tests.conftest import World, requires_postgres

API = "/api/v1"


def url(world: World) -> str:
    return f"{API}/consortia/{world.consortium_a.pk}/"


def test_a_read_carries_an_etag_and_an_unchanged_read_is_a_304(world: World, api_as: Any) -> None:
    client = api_as(world.chair)
    first = client.get(url(world))
    tag = first.headers["ETag"]
    assert tag[0] == tag[-1] == '"', "a strong entity tag"
    assert client.get(url(world)).headers["ETag"] == tag, "the same object, the same tag"
    cached = client.get(url(world), headers={"If-None-Match": tag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert client.get(url(world), headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_write_with_the_current_etag_succeeds_and_returns_the_new_one(
    world: World, api_as: Any
) -> None:
    client = api_as(world.chair)
    tag = client.get(url(world)).headers["ETag"]
    changed = client.patch(url(world), {"charter": "Shared GPUs."}, headers={"If-Match": tag})
    assert changed.status_code == 200, changed.content
    assert changed.headers["ETag"] != tag
    assert client.get(url(world)).headers["ETag"] == changed.headers["ETag"]


def test_a_write_with_a_stale_etag_is_a_412_and_changes_nothing(
    world: World, api_as: Any, unchanged: Any
) -> None:
    client = api_as(world.chair)
    stale = client.get(url(world)).headers["ETag"]
    client.patch(url(world), {"charter": "Someone else's edit."})
    with unchanged():
        refused = client.patch(url(world), {"charter": "Mine."}, headers={"If-Match": stale})
        deleted = client.delete(url(world), headers={"If-Match": stale})
    assert refused.status_code == deleted.status_code == 412
    assert "changed since you read it" in refused.json()["detail"]
    world.consortium_a.refresh_from_db()
    assert world.consortium_a.charter == "Someone else's edit."


def test_if_match_star_and_no_header_write_as_before(world: World, api_as: Any) -> None:
    client = api_as(world.chair)
    assert client.patch(url(world), {"charter": "a"}, headers={"If-Match": "*"}).status_code == 200
    assert client.patch(url(world), {"charter": "b"}).status_code == 200


def test_an_invisible_object_is_still_a_404_not_a_412(world: World, api_as: Any) -> None:
    answer = api_as(world.outsider).patch(
        url(world), {"charter": "x"}, headers={"If-Match": '"anything"'}
    )
    assert answer.status_code == 404


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_writers_with_the_same_etag_one_wins(committed_db: None, world: World) -> None:
    """Both read the same version; both send it back at once. The row lock makes them take
    turns: the second compares against the first's result and gets 412."""
    from rest_framework.test import APIClient

    clients = []
    for _ in range(2):
        client = APIClient()
        client.force_authenticate(world.chair)
        clients.append(client)
    tag = clients[0].get(url(world)).headers["ETag"]
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def write(client: Any, charter: str) -> None:
        barrier.wait()
        try:
            answers.append(
                client.patch(
                    url(world), {"charter": charter}, format="json", headers={"If-Match": tag}
                ).status_code
            )
        finally:
            connection.close()

    threads = [
        threading.Thread(target=write, args=(client, f"Writer {n}"))
        for n, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers) == [200, 412]
    assert Consortium.objects.get(pk=world.consortium_a.pk).charter.startswith("Writer ")


def test_the_schema_offers_if_match_where_it_is_honoured(world: World, api_as: Any) -> None:
    schema = api_as(world.chair).get(
        f"{API}/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    operation = schema.json()["paths"]["/api/v1/consortia/{id}/"]["patch"]
    assert "If-Match" in [parameter["name"] for parameter in operation["parameters"]]
    assert "412" in operation["responses"]


def test_a_head_request_gives_the_tag_without_the_body(world: World, api_as: Any) -> None:
    """docs/safe-writes.md reads the tag with curl -I."""
    client = api_as(world.chair)
    head = client.head(url(world))
    assert head.status_code == 200
    assert head.headers["ETag"] == client.get(url(world)).headers["ETag"]
    assert head.content == b""
