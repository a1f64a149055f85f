"""The IP register (shares total exactly 100%, lineage, inherited restrictions), datasets,
and the daily expiry sweep."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from agreements import asset_services, services
from agreements.asset_services import Share
from agreements.models import Agreement, IPAsset, IPOwnership
from agreements.tasks import agreements_expiry_sweep
from tests.agreements.conftest import Deal, execute
from tests.agreements.test_terms_and_odrl import data_deal, execute_data_deal
from tests.conftest import World


def shares(world: World, *pairs: tuple[str, str]) -> list[Share]:
    organisations = [world.org_chair, world.org_member]
    return [
        Share(organisation, Decimal(share), Decimal(revenue))
        for organisation, (share, revenue) in zip(organisations, pairs, strict=False)
    ]


def test_shares_must_total_exactly_100(deal: Deal, unchanged: Any) -> None:
    world = deal.world
    with (
        unchanged(),
        pytest.raises(ValidationError, match=r"shares total 99\.99%, not exactly 100%"),
    ):
        asset_services.ip_asset_create(
            actor=deal.legal_chair_org,
            consortium=world.consortium_a,
            name="Model",
            kind="model_weights",
            shares=shares(world, ("50", "50"), ("49.99", "50")),
        )
    with unchanged(), pytest.raises(ValidationError, match="revenue shares total 90"):
        asset_services.ip_asset_create(
            actor=deal.legal_chair_org,
            consortium=world.consortium_a,
            name="Model",
            kind="model_weights",
            shares=shares(world, ("50", "40"), ("50", "50")),
        )
    asset = asset_services.ip_asset_create(
        actor=deal.legal_chair_org,
        consortium=world.consortium_a,
        name="Model",
        kind="model_weights",
        shares=shares(world, ("60", "70"), ("40", "30")),
        governing_agreement=deal.agreement,
    )
    assert sorted(asset.ownerships.values_list("share", flat=True)) == [
        Decimal("40.00"),
        Decimal("60.00"),
    ]


def test_the_database_enforces_share_totals(deal: Deal) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the deferred constraint trigger exists on PostgreSQL")
    asset = asset_services.ip_asset_create(
        actor=deal.legal_chair_org,
        consortium=deal.world.consortium_a,
        name="Weights",
        kind="model_weights",
        shares=shares(deal.world, ("50", "50"), ("50", "50")),
    )

    def unbalance() -> None:
        with transaction.atomic():
            IPOwnership.objects.filter(asset=asset, organisation=deal.world.org_chair).update(
                share=Decimal(70)
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    "SET CONSTRAINTS ALL IMMEDIATE"
                )  # check now, not at the test's (rolled back) commit

    with pytest.raises((DatabaseError, IntegrityError), match="total 100"):
        unbalance()


def test_only_register_keepers_register(deal: Deal) -> None:
    with pytest.raises(PermissionDenied):
        asset_services.ip_asset_create(
            actor=deal.world.observer,
            consortium=deal.world.consortium_a,
            name="X",
            kind="code",
            shares=shares(deal.world, ("100", "100")),
        )


def test_derived_asset_inherits_the_datas_restrictions(world: World, api_as: Any) -> None:
    deal, dataset, clause = data_deal(world)
    execute_data_deal(deal)
    data_asset = asset_services.ip_asset_create(
        actor=deal.legal_chair_org,
        consortium=world.consortium_a,
        name="Images",
        kind="dataset",
        dataset=dataset,
        shares=shares(world, ("100", "100")),
    )
    base = asset_services.ip_asset_create(
        actor=deal.legal_chair_org,
        consortium=world.consortium_a,
        name="Base model",
        kind="model_weights",
        derived_from=[data_asset],
        shares=shares(world, ("50", "50"), ("50", "50")),
    )
    tuned = asset_services.ip_asset_create(
        actor=deal.legal_chair_org,
        consortium=world.consortium_a,
        name="Tuned model",
        kind="derived_work",
        derived_from=[base],
        shares=shares(world, ("50", "50"), ("50", "50")),
    )
    (restriction,) = asset_services.inherited_restrictions(tuned)
    assert (restriction.source, restriction.clause.pk) == (data_asset, clause.pk)
    body = api_as(world.observer).get(f"/api/v1/ip-assets/{tuned.pk}/").json()
    assert body["derived_from"] == [base.pk]
    assert body["inherited_restrictions"][0]["terms"]["movement"] == "federated_only"
    assert api_as(world.outsider).get(f"/api/v1/ip-assets/{tuned.pk}/").status_code == 404


def test_ip_asset_api_refuses_bad_shares(deal: Deal, api_as: Any, unchanged: Any) -> None:
    payload = {
        "consortium": deal.world.consortium_a.pk,
        "name": "Code",
        "kind": "code",
        "shares": [
            {"organisation": deal.world.org_chair.pk, "share": "100", "revenue_share": "100"}
        ],
    }
    with unchanged():
        assert (
            api_as(deal.world.observer)
            .post("/api/v1/ip-assets/", payload, format="json")
            .status_code
            == 403
        )
        bad = api_as(deal.legal_chair_org).post(
            "/api/v1/ip-assets/",
            {
                **payload,
                "shares": [
                    {"organisation": deal.world.org_chair.pk, "share": "90", "revenue_share": "100"}
                ],
            },
            format="json",
        )
    assert bad.status_code == 400
    assert "ownerships" in bad.json()["errors"]
    assert (
        api_as(deal.legal_chair_org).post("/api/v1/ip-assets/", payload, format="json").status_code
        == 201
    )
    assert IPAsset.objects.filter(name="Code").exists()


def test_datasets_from_outside(world: World, api_as: Any, unchanged: Any) -> None:
    deal, dataset, _ = data_deal(world)
    assert api_as(world.outsider).get(f"/api/v1/datasets/{dataset.pk}/").status_code == 404
    assert api_as(None).get(f"/api/v1/datasets/{dataset.pk}/").status_code == 401
    detail = api_as(world.observer).get(f"/api/v1/datasets/{dataset.pk}/").json()
    assert (detail["residency"], detail["terms_in_force"]) == ("FR", [])
    payload = {
        "consortium": world.consortium_a.pk,
        "owner": world.org_member.pk,
        "name": "Claims",
        "sensitivity": "confidential",
        "residency": "DE",
    }
    with unchanged():
        assert (
            api_as(world.observer).post("/api/v1/datasets/", payload, format="json").status_code
            == 403
        )
        assert (
            api_as(deal.legal_chair_org)
            .post("/api/v1/datasets/", payload, format="json")
            .status_code
            == 403
        )  # not its owner
        assert (
            api_as(world.outsider).post("/api/v1/datasets/", payload, format="json").status_code
            == 404
        )
        bad = api_as(deal.legal_member_org).post(
            "/api/v1/datasets/", {**payload, "residency": "XX"}, format="json"
        )
        assert bad.status_code == 400
        assert "residency" in bad.json()["errors"]
    assert (
        api_as(deal.legal_member_org).post("/api/v1/datasets/", payload, format="json").status_code
        == 201
    )


def test_expiry_sweep_notifies_once_and_expires(deal: Deal) -> None:
    today = timezone.localdate()
    services.agreement_update(
        actor=deal.legal_chair_org,
        agreement=deal.agreement,
        expires_on=today + datetime.timedelta(days=30),
    )
    execute(deal)
    mail.outbox.clear()
    assert agreements_expiry_sweep() == {"expired": 0, "notices": 3}
    recipients = {message.to[0] for message in mail.outbox}
    assert recipients == {
        deal.legal_chair_org.email,
        deal.legal_member_org.email,
        deal.world.chair.email,
    }
    assert "expires on" in mail.outbox[0].subject
    assert agreements_expiry_sweep() == {"expired": 0, "notices": 0}, "notified once"
    Agreement.objects.filter(pk=deal.agreement.pk).update(expires_on=today)
    assert agreements_expiry_sweep()["expired"] == 1
    deal.agreement.refresh_from_db()
    assert deal.agreement.status == "expired"
