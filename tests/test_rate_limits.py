"""Rate limits on the API (alliance.throttling): per person per minute, shared by every
worker through the cache, answered 429 with Retry-After; other people are not affected."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.cache import cache

from alliance.throttling import counter_key
from tests.conftest import World

URL = "/api/v1/consortia/"


@pytest.fixture
def limit_of_three(settings: Any, time_machine: Any, world: World) -> None:
    """A limit of 3, with the clock held mid-minute (the four requests of a test must fall in
    one window) and this minute's counters of the world's people forgotten (ids recur across
    rolled-back tests; other tests' counters are left alone)."""
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    now = datetime.datetime.now(datetime.UTC).replace(second=30, microsecond=0)
    time_machine.move_to(now, tick=False)
    people = (world.chair, world.member)
    cache.delete_many([counter_key(f"user:{user.pk}", now.timestamp()) for user in people])


def test_the_fourth_request_in_a_minute_is_refused_with_retry_after(
    world: World, api_as: Any, limit_of_three: None
) -> None:
    client = api_as(world.chair)
    assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(URL)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "throttled" in refused.json()["detail"]


def test_each_person_has_their_own_allowance(
    world: World, api_as: Any, limit_of_three: None
) -> None:
    chair = api_as(world.chair)
    assert [chair.get(URL).status_code for _ in range(4)][-1] == 429
    assert api_as(world.member).get(URL).status_code == 200


def test_zero_turns_the_limit_off(world: World, api_as: Any, settings: Any) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 0
    client = api_as(world.chair)
    assert {client.get(URL).status_code for _ in range(5)} == {200}
