"""Pages of the data and IP registers, and editing usage terms in the browser."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse

from agreements import asset_services
from agreements.asset_services import Share
from agreements.models import Clause, Dataset
from tests.agreements.test_terms_and_odrl import data_deal, execute_data_deal
from tests.conftest import World


def test_register_pages_from_outside(world: World, browser_as: Any) -> None:
    deal, dataset, _ = data_deal(world)
    asset = asset_services.ip_asset_create(
        actor=deal.legal_chair_org,
        consortium=world.consortium_a,
        name="Images asset",
        kind="dataset",
        dataset=dataset,
        shares=[Share(world.org_chair, Decimal(100), Decimal(100))],
    )
    for url in (
        reverse("agreements:dataset", args=[dataset.pk]),
        reverse("agreements:ip-asset", args=[asset.pk]),
    ):
        assert browser_as(world.observer).get(url).status_code == 200
        assert browser_as(world.outsider).get(url).status_code == 404
        assert browser_as(None).get(url).status_code == 302
    assert (
        "Radiology"
        not in browser_as(world.outsider).get(reverse("agreements:datasets")).content.decode()
    )
    assert (
        "Radiology"
        in browser_as(world.observer).get(reverse("agreements:datasets")).content.decode()
    )
    assert (
        "Chair Org 100%"
        in browser_as(world.observer).get(reverse("agreements:ip-assets")).content.decode()
    )


def test_dataset_terms_shown_once_executed(world: World, browser_as: Any) -> None:
    deal, dataset, _ = data_deal(world)
    page = (
        browser_as(world.observer)
        .get(reverse("agreements:dataset", args=[dataset.pk]))
        .content.decode()
    )
    assert "nothing may be done with it" in page
    execute_data_deal(deal)
    page = (
        browser_as(world.observer)
        .get(reverse("agreements:dataset", args=[dataset.pk]))
        .content.decode()
    )
    assert "research and development" in page
    assert "federated only" in page


def test_register_a_dataset_in_the_browser(world: World, browser_as: Any) -> None:
    deal, _, _ = data_deal(world)
    client = browser_as(deal.legal_member_org)
    data = {
        "consortium": world.consortium_a.pk,
        "name": "Claims 2024",
        "sensitivity": "confidential",
        "residency": "DE",
    }
    response = client.post(reverse("agreements:dataset-create"), data)
    assert response.status_code == 302
    assert Dataset.objects.get(name="Claims 2024").owner == world.org_member
    refused = browser_as(world.observer).post(
        reverse("agreements:dataset-create"), {**data, "name": "Other"}
    )
    assert refused.status_code == 403
    assert not Dataset.objects.filter(name="Other").exists()


def test_edit_usage_terms_in_the_browser(world: World, browser_as: Any) -> None:
    deal, dataset, clause = data_deal(world)
    client = browser_as(deal.legal_chair_org)
    editor = client.get(reverse("agreements:version", args=[deal.version.pk])).content.decode()
    assert "Save the terms" in editor
    prefix = f"terms-{clause.pk}-"
    data = {
        prefix + "datasets": [dataset.pk],
        prefix + "purposes": ["academic_research"],
        prefix + "actions_allowed": ["evaluate"],
        prefix + "jurisdictions": "fr, de",
        prefix + "movement": "within_residency",
        prefix + "retention_days": "30",
        prefix + "onward_transfer": "prohibited",
        prefix + "derived_models_inherit": "on",
    }
    response = client.post(
        reverse("agreements:clause", args=[clause.pk, "terms"]), data, follow=True
    )
    assert "Usage terms saved." in response.content.decode()
    clause = Clause.objects.get(pk=clause.pk)
    assert clause.terms is not None
    assert (clause.terms["jurisdictions"], clause.terms["retention_days"]) == (["DE", "FR"], 30)
    bad = client.post(
        reverse("agreements:clause", args=[clause.pk, "terms"]),
        {**data, prefix + "jurisdictions": "XX"},
        follow=True,
    )
    assert "Unknown jurisdictions: XX." in bad.content.decode()
    assert Clause.objects.get(pk=clause.pk).terms == clause.terms
