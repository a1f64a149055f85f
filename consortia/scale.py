"""A large synthetic data set for benchmarks, bulk-inserted and reproducible from a seed.

At factor 1: 200 consortia, 2,000 organisations, 20,000 users, 10 member organisations per
consortium and 6 role holders each. One benchmark organisation ("Bench Organisation") is a
member of the same 60 consortia whatever the factor, and its user ``bench`` holds a role in
each: growing the factor grows the tables, never what ``bench`` can see.

Rows are written with bulk_create, not through the services: this is a measurement fixture,
and one platform audit event records that it was loaded.
"""

from __future__ import annotations

import random
from datetime import date

from django.contrib.auth.hashers import make_password
from django.db import transaction

from audit.models import Action
from audit.services import audit_record
from consortia.models import (
    Consortium,
    Membership,
    Organisation,
    Role,
    RoleAssignment,
    User,
)

BENCH_USERNAME = "bench"
BENCH_PASSWORD = "bench-password"  # noqa: S105 - benchmark fixture only
BENCH_CONSORTIA = 60
COUNTRIES = (
    "AT",
    "BE",
    "DE",
    "DK",
    "ES",
    "FI",
    "FR",
    "IE",
    "IT",
    "NL",
    "PL",
    "PT",
    "SE",
    "AE",
    "SA",
    "QA",
    "BH",
    "KW",
    "OM",
)
BLOCS_AND_COUNTRIES = ("EU", "GCC", "EEA", "DE", "FR", "FI", "SA", "AE")
MODELS = ("joint_development", "federated_learning", "infrastructure_pool")
KINDS = ("company", "research", "public_body")
ROLES = (Role.STEERING_MEMBER, Role.LEGAL, Role.TECHNICAL, Role.AUDITOR, Role.OBSERVER)
BATCH = 5_000


@transaction.atomic
def seed_scale(*, factor: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)  # noqa: S311 - reproducible fixture, not security
    run = Consortium.objects.filter(name__startswith="Scale ").count() // 200 + 1
    prefix = f"Scale {run}"
    organisation_count, user_count, consortium_count = 2_000 * factor, 20_000 * factor, 200 * factor

    organisations = Organisation.objects.bulk_create(
        [
            Organisation(
                name=f"{prefix} Organisation {index:06d}",
                kind=KINDS[index % len(KINDS)],
                home_jurisdiction_id=rng.choice(COUNTRIES),
                registration_id=f"S{run}-{index:08d}",
            )
            for index in range(organisation_count)
        ],
        batch_size=BATCH,
    )
    password = make_password(BENCH_PASSWORD)
    users = User.objects.bulk_create(
        [
            User(
                username=f"s{run}u{index:07d}",
                password=password,
                organisation_id=organisations[index % organisation_count].pk,
            )
            for index in range(user_count)
        ],
        batch_size=BATCH,
    )
    consortia = Consortium.objects.bulk_create(
        [
            Consortium(
                name=f"{prefix} Consortium {index:05d}",
                partnership_model_id=MODELS[index % len(MODELS)],
                home_jurisdiction_id=rng.choice(BLOCS_AND_COUNTRIES),
                status="operational",
                charter="Synthetic consortium for benchmarks. " * 4,
            )
            for index in range(consortium_count)
        ],
        batch_size=BATCH,
    )
    users_by_organisation: dict[int, list[User]] = {}
    for user in users:
        users_by_organisation.setdefault(user.organisation_id, []).append(user)  # type: ignore[arg-type]

    memberships: list[Membership] = []
    assignments: list[RoleAssignment] = []
    for consortium in consortia:
        members = rng.sample(organisations, 10)
        for position, organisation in enumerate(members):
            memberships.append(
                Membership(
                    consortium=consortium,
                    organisation=organisation,
                    status="active",
                    is_founding=position == 0,
                    voting_weight=rng.randint(1, 20),
                    joined_on=date(2025, 1 + position, 1),
                )
            )
        assignments.append(
            RoleAssignment(
                consortium=consortium, user=users_by_organisation[members[0].pk][0], role=Role.CHAIR
            )
        )
        for position, role in enumerate(ROLES):
            person = users_by_organisation[members[position + 1].pk][0]
            assignments.append(RoleAssignment(consortium=consortium, user=person, role=role))

    bench_organisation, bench_user = _bench_identity()
    already = set(
        Membership.objects.filter(organisation=bench_organisation).values_list(
            "consortium_id", flat=True
        )
    )
    if len(already) < BENCH_CONSORTIA:
        for consortium in consortia[: BENCH_CONSORTIA - len(already)]:
            memberships.append(
                Membership(
                    consortium=consortium,
                    organisation=bench_organisation,
                    status="active",
                    joined_on=date(2025, 6, 1),
                )
            )
            assignments.append(
                RoleAssignment(consortium=consortium, user=bench_user, role=Role.STEERING_MEMBER)
            )

    Membership.objects.bulk_create(memberships, batch_size=BATCH)
    RoleAssignment.objects.bulk_create(assignments, batch_size=BATCH)
    audit_record(
        action=Action.CREATE,
        actor=None,
        object_type="alliance.synthetic_dataset",
        object_id=prefix,
        object_display=f"{prefix}: synthetic benchmark data (factor {factor}, seed {seed})",
    )
    return {
        "organisations": len(organisations),
        "users": len(users),
        "consortia": len(consortia),
        "memberships": len(memberships),
        "role assignments": len(assignments),
    }


def _bench_identity() -> tuple[Organisation, User]:
    organisation, _ = Organisation.objects.get_or_create(
        name="Bench Organisation",
        defaults={"kind": "company", "home_jurisdiction_id": "DE", "registration_id": "BENCH-1"},
    )
    user = User.objects.filter(username=BENCH_USERNAME).first()
    if user is None:
        user = User.objects.create_user(
            username=BENCH_USERNAME, password=BENCH_PASSWORD, organisation=organisation
        )
    return organisation, user
