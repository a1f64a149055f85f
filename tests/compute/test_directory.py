"""Providers, sites and their dated sovereignty attributes; a consortium's approvals; pools at
approved sites only; shares that follow the contribution ledger."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from alliance.errors import AccessDeniedError, ConflictError
from audit.models import AuditEvent
from compute import directory, pools, shares
from compute.models import Approval, Contribution, Pool, Site
from consortia.governance import services as governance
from consortia.models import Jurisdiction
from tests.compute.conftest import Grid
from tests.conftest import World


def jurisdiction(code: str) -> Jurisdiction:
    return Jurisdiction.objects.get(pk=code)


def test_a_provider_carries_dated_evidence_not_a_sovereign_checkbox(grid: Grid) -> None:
    provider = directory.provider_register(
        actor=grid.technician,
        legal_name="Hyperscale Europe BV",
        head_office_jurisdiction=jurisdiction("NL"),
        ultimate_parent_jurisdiction=jurisdiction("US"),
    )
    exposure = directory.exposure_record(
        actor=grid.technician,
        provider=provider,
        law="us_cloud_act",
        basis="parent",
        assessed_on=datetime.date(2026, 3, 1),
        notes="Parent incorporated in Delaware",
    )
    certificate = directory.certification_record(
        actor=grid.technician,
        provider=provider,
        scheme="gaia_x",
        level="Level 2",
        valid_from=datetime.date(2025, 6, 1),
        valid_until=datetime.date(2027, 6, 1),
        evidence="GX-2025-0042",
    )
    assert str(exposure) == "US CLOUD Act (Parent company in that jurisdiction)"
    assert certificate.in_force(datetime.date(2026, 12, 3))
    assert not certificate.in_force(datetime.date(2027, 6, 1))
    assert AuditEvent.objects.filter(object_type="compute.provider", action="create").exists()


@pytest.mark.parametrize(
    ("call", "field", "message"),
    [
        ({"law": "gdpr"}, "law", "Name the law"),
        ({"basis": "rumour"}, "basis", "on what basis"),
        ({"assessed_on": datetime.date(2027, 1, 1)}, "assessed_on", "not in the future"),
    ],
)
def test_bad_exposures_are_refused(
    grid: Grid, unchanged: Any, call: dict[str, Any], field: str, message: str
) -> None:
    values: dict[str, Any] = {
        "law": "us_cloud_act",
        "basis": "parent",
        "assessed_on": datetime.date(2026, 1, 1),
    }
    values.update(call)
    with pytest.raises(ValidationError) as error, unchanged():
        directory.exposure_record(actor=grid.technician, provider=grid.provider, **values)
    assert message in error.value.message_dict[field][0]


def test_a_site_must_name_a_country_and_who_administers_it(grid: Grid, unchanged: Any) -> None:
    with pytest.raises(ValidationError) as error, unchanged():
        directory.site_register(
            actor=grid.technician,
            provider=grid.provider,
            name="Somewhere",
            jurisdiction=jurisdiction("EU"),
            administered_from=[],
        )
    assert "one country" in error.value.message_dict["jurisdiction"][0]
    assert "administered" in error.value.message_dict["administered_from"][0]


@pytest.mark.parametrize("persona", ["member", "observer", "candidate"])
def test_only_people_running_compute_edit_the_directory(
    world: World, unchanged: Any, persona: str
) -> None:
    with pytest.raises(AccessDeniedError), unchanged():
        directory.provider_register(
            actor=getattr(world, persona),
            legal_name="Cloud Co",
            head_office_jurisdiction=jurisdiction("FR"),
            ultimate_parent_jurisdiction=jurisdiction("FR"),
        )


def test_naming_one_site_narrows_a_providers_approval(grid: Grid) -> None:
    consortium = grid.world.consortium_a
    assert set(directory.usable_sites(consortium.pk)) == {grid.paris, grid.frankfurt}
    directory.approve(
        actor=grid.world.chair,
        consortium=consortium,
        site=grid.paris,
        valid_from=datetime.date(2026, 6, 1),
        conditions="Only the sovereign hall",
    )
    assert set(directory.usable_sites(consortium.pk)) == {grid.paris}
    # Before that approval took effect, the provider's approval covered both.
    on = datetime.date(2026, 5, 1)
    assert set(directory.usable_sites(consortium.pk, on)) == {grid.paris, grid.frankfurt}


def test_a_revoked_or_expired_approval_no_longer_counts(grid: Grid) -> None:
    approval = Approval.objects.get(provider=grid.provider)
    with pytest.raises(ValidationError):
        directory.approval_revoke(actor=grid.world.chair, approval=approval, reason=" ")
    directory.approval_revoke(
        actor=grid.world.chair, approval=approval, reason="CLOUD Act exposure"
    )
    assert not directory.usable_sites(grid.world.consortium_a.pk).exists()
    with pytest.raises(ConflictError):
        directory.approval_revoke(actor=grid.world.chair, approval=approval, reason="again")


@pytest.mark.parametrize("persona", ["member", "observer", "outsider"])
def test_only_the_chair_approves_sites(grid: Grid, unchanged: Any, persona: str) -> None:
    with pytest.raises(AccessDeniedError), unchanged():
        directory.approve(
            actor=grid.world.persona(persona),
            consortium=grid.world.consortium_a,
            site=grid.paris,
            valid_from=datetime.date(2026, 12, 1),
        )


def test_a_motion_can_approve_a_provider(grid: Grid) -> None:
    other = directory.provider_register(
        actor=grid.world.chair,
        legal_name="Nordic GPU Oy",
        head_office_jurisdiction=jurisdiction("FI"),
        ultimate_parent_jurisdiction=jurisdiction("FI"),
    )
    motion = governance.motion_propose(
        actor=grid.world.chair,
        consortium=grid.world.consortium_a,
        kind="approve_provider",
        title="Use Nordic GPU",
        text="For non-personal data only",
        subject_id=f"provider:{other.pk}",
        closes_at=datetime.datetime(2026, 12, 31, tzinfo=datetime.UTC),
    )
    assert motion.subject_display == "Nordic GPU Oy"
    for voter in (grid.world.chair, grid.world.member):
        governance.vote_cast(actor=voter, motion=motion, choice="for")
    approval = Approval.objects.get(provider=other)
    assert (approval.motion, approval.conditions) == (motion, "For non-personal data only")
    with pytest.raises(ValidationError):  # already approved now
        governance.motion_propose(
            actor=grid.world.chair,
            consortium=grid.world.consortium_a,
            kind="approve_provider",
            title="Again",
            subject_id=f"provider:{other.pk}",
            closes_at=datetime.datetime(2026, 12, 31, tzinfo=datetime.UTC),
        )


def test_a_pool_is_only_at_approved_sites(grid: Grid, unchanged: Any) -> None:
    stranger = Site.objects.create(
        provider=directory.provider_register(
            actor=grid.world.chair,
            legal_name="Unapproved Cloud",
            head_office_jurisdiction=jurisdiction("DE"),
            ultimate_parent_jurisdiction=jurisdiction("DE"),
        ),
        name="Berlin-9",
        jurisdiction=jurisdiction("DE"),
    )
    with pytest.raises(ValidationError) as error, unchanged():
        pools.pool_create(
            actor=grid.world.chair,
            consortium=grid.world.consortium_a,
            name="MI300X pool",
            gpu_type="MI300X",
            sites=[stranger],
        )
    assert (
        "Not approved for this consortium today: Berlin-9" in error.value.message_dict["sites"][0]
    )
    pool = pools.pool_create(
        actor=grid.world.chair,
        consortium=grid.world.consortium_a,
        name="MI300X pool",
        gpu_type="MI300X",
        sites=[grid.frankfurt],
        initial_gpus={grid.frankfurt.pk: 32},
        board_reserve=Decimal("0.10"),
    )
    assert pool.capacity_changes.get().gpus == 32
    with pytest.raises(ValidationError) as error:
        pools.pool_update(actor=grid.world.chair, pool=pool, board_reserve=Decimal("0.9"))
    assert "0.5" in error.value.message_dict["board_reserve"][0]
    with pytest.raises(AccessDeniedError):
        pools.pool_update(actor=grid.board, pool=pool, board_reserve=Decimal("0.2"))
    assert Pool.objects.get(pk=pool.pk).board_reserve == Decimal("0.10")


def contribute(grid: Grid, organisation: Any, amount: str, day: str, **extra: Any) -> Contribution:
    return shares.contribution_record(
        actor=grid.world.chair,
        pool=grid.pool,
        organisation=organisation,
        kind=extra.pop("kind", "capital"),
        amount=Decimal(amount),
        contributed_on=datetime.date.fromisoformat(day),
        **extra,
    )


def test_shares_follow_the_contribution_ledger_and_keep_their_history(grid: Grid) -> None:
    world = grid.world
    contribute(grid, world.org_chair, "300000", "2026-02-01")
    # 40,000 GPU-hours in kind at the pool's 2.50 per GPU-hour count for 100,000.
    contribute(grid, world.org_member, "40000", "2026-03-01", kind="in_kind", site=grid.paris)
    assert shares.shares(grid.pool, datetime.date(2026, 2, 15)) == {world.org_chair.pk: 1}
    assert shares.shares(grid.pool, datetime.date(2026, 3, 1)) == {
        world.org_chair.pk: Decimal("0.75"),
        world.org_member.pk: Decimal("0.25"),
    }
    assert shares.share_history(grid.pool, world.org_member.pk) == [
        (datetime.date(2026, 2, 1), Decimal(0)),
        (datetime.date(2026, 3, 1), Decimal("0.25")),
    ]


def test_a_correction_names_the_entry_and_cannot_take_back_more(grid: Grid) -> None:
    world = grid.world
    entry = contribute(grid, world.org_chair, "1000", "2026-02-01")
    contribute(grid, world.org_member, "1000", "2026-02-01")
    with pytest.raises(ValidationError) as error:
        contribute(grid, world.org_chair, "-100", "2026-03-01")
    assert "name that entry" in error.value.message_dict["amount"][0]
    contribute(grid, world.org_chair, "-500", "2026-03-01", corrects=entry)
    with pytest.raises(ValidationError) as error:
        contribute(grid, world.org_chair, "-600", "2026-03-02", corrects=entry)
    assert "at most 500" in error.value.message_dict["amount"][0]
    assert shares.shares(grid.pool, datetime.date(2026, 3, 2))[world.org_chair.pk] == Decimal(
        "0.333333"
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"contributed_on": datetime.date(2027, 1, 1)}, "contributed_on", "not in advance"),
        ({"amount": Decimal(0)}, "amount", "nothing"),
        ({"kind": "in_kind"}, "site", "at which site"),
        ({"kind": "favours"}, "kind", "capital or in kind"),
    ],
)
def test_bad_contributions_are_refused(
    grid: Grid, unchanged: Any, overrides: dict[str, Any], field: str, message: str
) -> None:
    values: dict[str, Any] = {
        "actor": grid.world.chair,
        "pool": grid.pool,
        "organisation": grid.world.org_member,
        "kind": "capital",
        "amount": Decimal(100),
        "contributed_on": datetime.date(2026, 11, 1),
    }
    values.update(overrides)
    with pytest.raises(ValidationError) as error, unchanged():
        shares.contribution_record(**values)
    assert message in error.value.message_dict[field][0]


def test_a_non_member_cannot_contribute_and_only_the_chair_records(
    grid: Grid, unchanged: Any
) -> None:
    with pytest.raises(ValidationError) as error, unchanged():
        contribute(grid, grid.world.org_outsider, "100", "2026-11-01")
    assert "not an active member" in error.value.message_dict["organisation"][0]
    with pytest.raises(AccessDeniedError), unchanged():
        shares.contribution_record(
            actor=grid.board,
            pool=grid.pool,
            organisation=grid.world.org_member,
            kind="capital",
            amount=Decimal(100),
            contributed_on=datetime.date(2026, 11, 1),
        )


def test_the_first_approval_reaches_the_infrastructure_milestone(grid: Grid) -> None:
    from consortia.planning import Milestone

    milestone = Milestone.objects.create(
        consortium=grid.world.consortium_a,
        key="infrastructure-approved",
        title="Infrastructure approved",
        position=3,
        target_months=6,
        due_on=datetime.date(2027, 6, 1),
    )
    directory.approve(
        actor=grid.world.chair,
        consortium=grid.world.consortium_a,
        site=grid.paris,
        valid_from=datetime.date(2026, 12, 1),
    )
    milestone.refresh_from_db()
    assert milestone.done_on is not None
    assert "Paris-1" in milestone.notes
