"""Every list of the API pages the same way (a cursor page: ``next``, ``previous``,
``results``) and refuses a malformed filter with a 400 naming it, rather than ignoring it."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from consortia.governance import services
from tests.conftest import World

# The lists that once answered a bare, capped array.
CONSORTIUM_LISTS = [
    "/api/v1/motions/",
    "/api/v1/proxies/",
    "/api/v1/risks/",
    "/api/v1/milestones/",
    "/api/v1/meetings/",
    "/api/v1/ip-assets/",
]


@pytest.mark.parametrize("path", CONSORTIUM_LISTS)
def test_a_list_is_a_cursor_page_filtered_by_consortium(
    path: str, world: World, api_as: Any
) -> None:
    client = api_as(world.observer)
    page = client.get(f"{path}?consortium={world.consortium_a.pk}")
    assert page.status_code == 200, page.content
    assert set(page.json()) == {"next", "previous", "results"}
    refused = client.get(f"{path}?consortium=first")
    assert refused.status_code == 400
    assert set(refused.json()["errors"]) == {"consortium"}


def test_motions_page_with_a_cursor_and_filter_by_status(world: World, api_as: Any) -> None:
    for number in range(3):
        services.motion_propose(
            actor=world.chair,
            consortium=world.consortium_a,
            kind="general",
            title=f"Motion {number}",
            closes_at=timezone.now() + datetime.timedelta(days=3),
        )
    client = api_as(world.observer)
    first = client.get("/api/v1/motions/?page_size=2").json()
    second = client.get(first["next"]).json()
    titles = [row["title"] for row in first["results"] + second["results"]]
    assert sorted(titles) == ["Motion 0", "Motion 1", "Motion 2"]
    assert second["next"] is None
    assert client.get("/api/v1/motions/?status=open").json()["results"] != []
    assert client.get("/api/v1/motions/?status=passed").json()["results"] == []
    refused = client.get("/api/v1/motions/?status=maybe")
    assert refused.status_code == 400
    assert set(refused.json()["errors"]) == {"status"}


@pytest.mark.parametrize("size", ["0", "-1", "7.2", "1e3", "501", "", "²", "ten"])
def test_a_malformed_page_size_is_refused_not_ignored(size: str, world: World, api_as: Any) -> None:
    """Found by the negative contract run: DRF fell back to the default page size in silence."""
    answer = api_as(world.chair).get("/api/v1/motions/", {"page_size": size})
    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("application/problem+json")
    assert "page_size" in str(answer.json())


def test_page_size_within_bounds_is_honoured(world: World, api_as: Any) -> None:
    assert api_as(world.chair).get("/api/v1/consortia/", {"page_size": "500"}).status_code == 200
