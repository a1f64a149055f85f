"""An agreement between the two members of consortium A, with a legal person in each."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from agreements import services
from agreements.models import Agreement, AgreementVersion
from consortia.models import Jurisdiction, Role, User
from tests.conftest import World
from tests.consortia.factories import RoleAssignmentFactory, UserFactory


@dataclass
class Deal:
    world: World
    agreement: Agreement
    version: AgreementVersion
    legal_chair_org: User
    legal_member_org: User


@pytest.fixture
def deal(world: World) -> Deal:
    return make_deal(world)


def make_deal(world: World) -> Deal:
    legal_a = UserFactory.create(username="legal_a", organisation=world.org_chair)
    legal_b = UserFactory.create(username="legal_b", organisation=world.org_member)
    RoleAssignmentFactory.create(consortium=world.consortium_a, user=legal_a, role=Role.LEGAL)
    RoleAssignmentFactory.create(consortium=world.consortium_a, user=legal_b, role=Role.LEGAL)
    agreement = services.agreement_create(
        actor=legal_a,
        consortium=world.consortium_a,
        kind="joint_development",
        title="Model co-development agreement",
        governing_law=Jurisdiction.objects.get(pk="DE"),
    )
    services.party_add(
        actor=legal_a,
        agreement=agreement,
        organisation=world.org_chair,
        role="licensor",
        signatory=world.chair,
    )
    services.party_add(
        actor=legal_a,
        agreement=agreement,
        organisation=world.org_member,
        role="licensee",
        signatory=world.member,
    )
    version = agreement.versions.get()
    for heading, body in (
        ("Definitions", "Terms used here."),
        ("Ownership", "Jointly owned."),
        ("Term", "Five years."),
    ):
        services.clause_add(actor=legal_a, version=version, heading=heading, body=body)
    return Deal(world, agreement, version, legal_a, legal_b)


def execute(deal: Deal) -> AgreementVersion:
    """Walk the deal to execution: submit, both parties approve, send, record execution."""
    services.version_submit(actor=deal.legal_chair_org, version=deal.version)
    services.approval_give(actor=deal.legal_chair_org, version=deal.version)
    services.approval_give(actor=deal.legal_member_org, version=deal.version)
    services.agreement_send_for_signature(actor=deal.world.chair, agreement=deal.agreement)
    return services.agreement_record_execution(actor=deal.world.chair, agreement=deal.agreement)
