"""Sign-in throttling (django-axes, alliance/lockout.py): after LOGIN_FAILURE_LIMIT failed
sign-ins for one username from one address, that pair is refused, even with the right
password, until the cool-off ends; nobody else is affected, and every refusal is audited."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from audit.models import Action, AuditEvent
from tests.conftest import World

ATTACKER = "192.0.2.10"  # TEST-NET-1: documentation addresses, never routed
COLLEAGUE = "192.0.2.20"
START = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC)


def sign_in(username: str, password: str, address: str, **headers: Any) -> Any:
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post(reverse("login"), {"username": username, "password": password})
    response.signed_in = "_auth_user_id" in client.session  # type: ignore[attr-defined]
    return response


def fail_until_locked(username: str, address: str) -> Any:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(username, "wrong", address)
        assert response.status_code == 200, "below the limit: the form again, with its error"
    return sign_in(username, "wrong", address)


def test_the_limit_locks_the_username_at_that_address_even_for_the_right_password(
    world: World,
) -> None:
    with time_machine.travel(START, tick=False):
        locking = fail_until_locked("member", ATTACKER)
        assert locking.status_code == 429
        right = sign_in("member", "password", ATTACKER)
    assert right.status_code == 429
    assert not right.signed_in
    assert right["Retry-After"] == str(settings.LOGIN_LOCKOUT_MINUTES * 60)
    page = right.content.decode()
    assert "Sign-in paused" in page
    assert f"{settings.LOGIN_LOCKOUT_MINUTES} minutes" in page
    assert 'name="password"' not in page, "no sign-in form while paused"


def test_other_people_and_other_addresses_are_not_affected(world: World) -> None:
    with time_machine.travel(START, tick=False):
        fail_until_locked("member", ATTACKER)
        assert sign_in("observer", "password", ATTACKER).signed_in
        assert sign_in("member", "password", COLLEAGUE).signed_in
        assert not sign_in("member", "password", ATTACKER).signed_in


def test_fewer_failures_than_the_limit_do_not_lock_and_success_starts_the_count_again(
    world: World,
) -> None:
    with time_machine.travel(START, tick=False):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            sign_in("member", "wrong", ATTACKER)
        assert sign_in("member", "password", ATTACKER).signed_in
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            sign_in("member", "wrong", ATTACKER)
        assert sign_in("member", "password", ATTACKER).signed_in


def test_the_lock_ends_with_the_cool_off(world: World) -> None:
    cool_off = datetime.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    with time_machine.travel(START, tick=False) as clock:
        fail_until_locked("member", ATTACKER)
        clock.shift(cool_off - datetime.timedelta(seconds=1))
        assert sign_in("member", "password", ATTACKER).status_code == 429
        clock.shift(datetime.timedelta(seconds=2))
        after = sign_in("member", "password", ATTACKER)
    assert after.status_code == 302
    assert after.signed_in


def test_a_refusal_is_audited_as_a_lockout(world: World) -> None:
    with time_machine.travel(START, tick=False):
        fail_until_locked("member", ATTACKER)
        sign_in("member", "password", ATTACKER)
    reasons = list(
        AuditEvent.objects.filter(action=Action.LOGIN_FAILED, object_display="member")
        .order_by("pk")
        .values_list("reason", "client_address")
    )
    limit = settings.AXES_FAILURE_LIMIT
    assert (
        reasons
        == [("wrong username or password", ATTACKER)] * (limit - 1)
        + [("too many failed sign-ins: locked out", ATTACKER)] * 2
    )
    assert not AuditEvent.objects.filter(action=Action.LOGIN).exists()


@pytest.mark.parametrize(
    ("language", "heading"), [("en", "Sign-in paused"), ("fr", "Connexion suspendue")]
)
def test_the_lockout_page_is_translated(world: World, language: str, heading: str) -> None:
    with time_machine.travel(START, tick=False):
        fail_until_locked("member", ATTACKER)
        page = sign_in("member", "password", ATTACKER, HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 429
    assert heading in page.content.decode()
