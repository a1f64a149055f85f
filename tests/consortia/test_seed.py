"""``seed_demo``: the demo world, idempotent, with people in every role."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from alliance.partners.models import PartnerClient
from audit.models import AuditEvent
from consortia.models import Consortium, Membership, Organisation, Role, RoleAssignment, User
from tests.partners.conftest import obtain


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--force", *args, stdout=out)
    return out.getvalue()


def snapshot() -> tuple[Any, ...]:
    return tuple(
        list(model.objects.order_by("pk").values_list("pk", flat=True))
        for model in (Organisation, User, Consortium, Membership, RoleAssignment, AuditEvent)
    )


def test_demo_world(db: Any) -> None:
    output = seed()
    models = dict(Consortium.objects.values_list("partnership_model_id", "home_jurisdiction_id"))
    assert models == {
        "joint_development": "EU",
        "federated_learning": "GCC",
        "infrastructure_pool": "EU",
    }
    countries = set(Organisation.objects.values_list("home_jurisdiction_id", flat=True))
    assert Organisation.objects.count() >= 6
    assert len(countries) >= 6
    assert set(RoleAssignment.objects.values_list("role", flat=True)) == set(Role.values)
    assert "amelie" in output
    assert "password for all" in output
    assert User.objects.get(username="amelie").check_password("alliance-demo")
    # The demo's partner client works with the id and secret printed once.
    printed = re.search(r"client id (\S+), secret (\S+) ", output)
    assert printed is not None
    partner = PartnerClient.objects.get(application__client_id=printed.group(1))
    assert obtain(partner, printed.group(2)).status_code == 200
    # The demo shows the steering committee's browser with data: work waiting on the chair,
    # and every chart of the consortium page, with an agreement nearing its expiry.
    client = Client()
    client.force_login(User.objects.get(username="amelie"))
    assert 'class="badge waiting-kind">Vote<' in client.get("/").content.decode()
    eurollm = Consortium.objects.get(name__startswith="EuroLLM")
    page = client.get(f"/consortia/{eurollm.pk}/").content.decode()
    assert page.count("<svg") == 4
    assert 'class="expiring"' in page


def test_demo_agreements_show_every_register(db: Any) -> None:
    from agreements.asset_services import inherited_restrictions
    from agreements.models import Agreement, Clause, Dataset, IPAsset, SignedDocument

    seed()
    assert set(Agreement.objects.values_list("status", flat=True)) == {"executed", "in_review"}
    sealed = SignedDocument.objects.get()
    assert sealed.state == "sealed"
    assert len(sealed.completion["signatures"]) == 2
    dataset = Dataset.objects.get()
    (clause,) = Clause.objects.filter(terms__isnull=False)
    assert clause.terms is not None
    assert clause.terms["datasets"] == [dataset.pk]
    derived = IPAsset.objects.get(derived_from__isnull=False)
    assert [share.share for share in derived.ownerships.all()] == [100]
    assert inherited_restrictions(derived) == []


def test_running_twice_changes_nothing(db: Any) -> None:
    seed()
    first = snapshot()
    seed()
    assert snapshot() == first


def test_refuses_without_debug_unless_forced(db: Any) -> None:
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stdout=StringIO())
    assert not Consortium.objects.exists()


def test_scale_keeps_the_bench_users_view_fixed(db: Any) -> None:
    from consortia import permissions
    from consortia.scale import BENCH_CONSORTIA, seed_scale

    counts = seed_scale(factor=1, seed=1)
    assert counts["consortia"] == 200
    assert counts["organisations"] == 2_000
    assert counts["users"] == 20_000
    bench = User.objects.get(username="bench")
    visible = set(permissions.visible_consortia(bench).values_list("pk", flat=True))
    assert len(visible) == BENCH_CONSORTIA
    seed_scale(factor=1, seed=2)
    assert set(permissions.visible_consortia(bench).values_list("pk", flat=True)) == visible
