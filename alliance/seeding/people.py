"""Organisations, people, consortia, memberships, roles and explicit grants of a seeded world.

People of organisation ``j`` are users ``j``, ``j + n``, ``j + 2n``, ... (n organisations), and
their place in that list says what they do: the first may chair, the second holds a
committee role, the third is technical (reports usage, signs) and the fourth holds an
explicit guardian grant to read a consortium's audit log.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from alliance.seeding.copying import Progress, copy_objects, next_id
from alliance.seeding.sizes import Size
from consortia.models import (
    Consortium,
    ConsortiumUserObjectPermission,
    Membership,
    Organisation,
    Role,
    RoleAssignment,
    User,
)

UTC = datetime.UTC
START = datetime.datetime(2025, 1, 1, tzinfo=UTC)
END = datetime.datetime(2026, 11, 30, tzinfo=UTC)
PREFIX = "Nation"
PASSWORD = "nation-password"  # noqa: S105 - a published load-test fixture, like the demo's
COUNTRIES = ("DE", "FR", "FI", "NL", "SE", "IT", "ES", "PL", "AE", "SA", "QA", "DK", "IE", "AT")
HOMES = ("EU", "EU", "GCC", "EEA", "DE", "FR", "SA", "AE")
KINDS = ("company", "research", "public_body")
MODELS = ("joint_development", "federated_learning", "infrastructure_pool")
FIRST_NAMES = ("Ana", "Bilal", "Chloé", "Dmitri", "Emma", "Farah", "Jonas", "Leila", "Mika")
LAST_NAMES = ("Berg", "Costa", "Haddad", "Keller", "Laine", "Moreau", "Novak", "Saleh")
COMMITTEE_ROLES = (
    Role.STEERING_MEMBER,
    Role.LEGAL,
    Role.CAPACITY_BOARD,
    Role.AUDITOR,
    Role.OBSERVER,
)
CHAIR_SLOT, COMMITTEE_SLOT, TECHNICAL_SLOT, GRANTEE_SLOT = range(4)


@dataclass(frozen=True)
class Person:
    user_id: int
    username: str
    organisation_id: int
    organisation_name: str


@dataclass
class SeededConsortium:
    id: int
    name: str
    home: str
    members: list[tuple[int, str]] = field(default_factory=list)  # (organisation id, status)
    chair: Person | None = None
    technical: list[Person] = field(default_factory=list)  # one per active member


@dataclass
class People:
    size: Size
    first_organisation: int
    first_user: int
    organisation_names: dict[int, str]
    consortia: list[SeededConsortium]

    def person(self, organisation_id: int, slot: int) -> Person:
        index = organisation_id - self.first_organisation + slot * self.size.organisations
        user_id = self.first_user + index
        return Person(
            user_id, username(index), organisation_id, self.organisation_names[organisation_id]
        )


def username(index: int) -> str:
    return f"nation{index:06d}"


def already_seeded() -> bool:
    return Organisation.objects.filter(name__startswith=f"{PREFIX} Organisation ").exists()


def seed_people(size: Size, rng: random.Random, progress: Progress) -> People:
    assert size.users >= 4 * size.organisations, "each organisation needs its four kinds of people"
    with progress.timed(f"{size.organisations:,} organisations"):
        first_organisation = next_id(Organisation)
        organisations = Organisation.objects.bulk_create(
            Organisation(
                pk=first_organisation + index,
                name=f"{PREFIX} Organisation {index:04d}",
                kind=KINDS[index % len(KINDS)],
                home_jurisdiction_id=rng.choice(COUNTRIES),
                registration_id=f"NATION-{index:06d}",
            )
            for index in range(size.organisations)
        )
    names = {organisation.pk: organisation.name for organisation in organisations}
    first_user = next_id(User)
    # One hash for everyone, with a fixed salt so that the same seed gives the same rows.
    password = make_password(PASSWORD, salt="nationseed")
    copy_objects(
        User,
        (
            User(
                pk=first_user + index,
                username=username(index),
                password=password,
                email=f"{username(index)}@example.org",
                first_name=FIRST_NAMES[index % len(FIRST_NAMES)],
                last_name=LAST_NAMES[index % len(LAST_NAMES)],
                organisation_id=first_organisation + index % size.organisations,
                is_organisation_admin=index < size.organisations,
                date_joined=START,
            )
            for index in range(size.users)
        ),
        progress=progress,
        label="users",
        stamped_at=START,
    )
    people = People(size, first_organisation, first_user, names, [])
    with progress.timed(f"{size.consortia:,} consortia"):
        _consortia(people, rng, progress)
    return people


def _consortia(people: People, rng: random.Random, progress: Progress) -> None:
    size = people.size
    first = next_id(Consortium)
    consortia = Consortium.objects.bulk_create(
        Consortium(
            pk=first + index,
            name=f"{PREFIX} Consortium {index:04d}",
            partnership_model_id=MODELS[index % len(MODELS)],
            home_jurisdiction_id=HOMES[index % len(HOMES)],
            status="operational" if index % 10 else "forming",
            charter=f"Consortium {index} pools data and compute for national AI research. " * 3,
        )
        for index in range(size.consortia)
    )
    organisation_ids = sorted(people.organisation_names)
    memberships: list[Membership] = []
    assignments: list[RoleAssignment] = []
    grants: list[ConsortiumUserObjectPermission] = []
    view_audit = Permission.objects.get(
        codename="view_audit_log", content_type=ContentType.objects.get_for_model(Consortium)
    )
    membership_id, assignment_id = next_id(Membership), next_id(RoleAssignment)
    for consortium in consortia:
        seeded = SeededConsortium(consortium.pk, consortium.name, consortium.home_jurisdiction_id)
        count = rng.randint(*size.members)
        for position, organisation_id in enumerate(rng.sample(organisation_ids, count)):
            status = "active" if position == 0 else _membership_status(rng)
            joined = START.date() + datetime.timedelta(days=position * 7)
            memberships.append(
                Membership(
                    pk=membership_id,
                    consortium_id=consortium.pk,
                    organisation_id=organisation_id,
                    status=status,
                    is_founding=position == 0,
                    voting_weight=Decimal(rng.randint(1, 20)),
                    joined_on=joined if status != "invited" else None,
                    left_on=joined + datetime.timedelta(days=200) if status == "removed" else None,
                )
            )
            membership_id += 1
            seeded.members.append((organisation_id, status))
            if status != "active":
                continue
            holders: list[tuple[Person, str]] = []
            if position == 0:
                seeded.chair = people.person(organisation_id, CHAIR_SLOT)
                holders.append((seeded.chair, Role.CHAIR))
            committee = COMMITTEE_ROLES[position % len(COMMITTEE_ROLES)]
            holders.append((people.person(organisation_id, COMMITTEE_SLOT), committee))
            technical = people.person(organisation_id, TECHNICAL_SLOT)
            holders.append((technical, Role.TECHNICAL))
            seeded.technical.append(technical)
            for person, role in holders:
                assignments.append(
                    RoleAssignment(
                        pk=assignment_id,
                        consortium_id=consortium.pk,
                        user_id=person.user_id,
                        role=role,
                    )
                )
                assignment_id += 1
        # An outside auditor's assistant, say: reads the audit log by explicit grant.
        grantee = people.person(seeded.members[-1][0], GRANTEE_SLOT)
        grants.append(
            ConsortiumUserObjectPermission(
                content_object_id=consortium.pk, user_id=grantee.user_id, permission=view_audit
            )
        )
        people.consortia.append(seeded)
    copy_objects(Membership, memberships, progress=progress, label="memberships", stamped_at=START)
    copy_objects(
        RoleAssignment, assignments, progress=progress, label="role assignments", stamped_at=START
    )
    ConsortiumUserObjectPermission.objects.bulk_create(grants, batch_size=5_000)


def _membership_status(rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.86:
        return "active"
    if draw < 0.92:
        return "invited"
    return "suspended" if draw < 0.96 else "removed"
