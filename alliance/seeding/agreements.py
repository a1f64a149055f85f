"""Agreements between members, with their parties, versions and clauses.

Versions follow the life the services give them: earlier rounds were withdrawn when a new
round replaced them (or superseded, when an amendment replaced an executed text), and the
latest one carries the agreement's state. Every version that left the draft stage has the
content hash of its clauses, computed as ``agreements.content`` computes it. Clause keys
stay the same from round to round, so redlines follow each clause.
"""

from __future__ import annotations

import datetime
import random
import uuid
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from agreements import content
from agreements.models import Agreement, AgreementVersion, Clause, Party
from alliance.seeding.copying import Progress, copy_objects, copy_rows, indexes_deferred, next_id
from alliance.seeding.people import START, People, SeededConsortium

KINDS = ("data_sharing", "joint_development", "infrastructure", "nda")
TITLES = {
    "data_sharing": "Data sharing agreement",
    "joint_development": "Joint development agreement",
    "infrastructure": "Infrastructure co-investment",
    "nda": "Mutual non-disclosure agreement",
}
PARTY_ROLES = {
    "data_sharing": ("data_provider", "data_recipient"),
    "joint_development": ("contributor", "contributor"),
    "infrastructure": ("infrastructure_owner", "contributor"),
    "nda": ("contributor", "contributor"),
}
# (agreement status, the latest version's status, weight)
STATES = (
    ("executed", "executed", 40),
    ("draft", "draft", 15),
    ("in_review", "in_review", 10),
    ("approved", "approved", 5),
    ("out_for_signature", "out_for_signature", 5),
    ("expired", "executed", 10),
    ("terminated", "executed", 5),
    ("superseded", "executed", 10),
)
CLAUSES = (
    ("confidentiality", "Confidentiality"),
    ("liability", "Liability"),
    ("governing_law", "Governing law"),
)
VERSION_COLUMNS = (
    "id",
    "agreement_id",
    "number",
    "status",
    "based_on_id",
    "note",
    "content_hash",
    "created_at",
    "created_by_display",
    "frozen_at",
    "executed_at",
)
CLAUSE_COLUMNS = ("id", "version_id", "key", "position", "level", "kind", "heading", "body")


@dataclass(frozen=True)
class SeededAgreement:
    id: int
    consortium_id: int
    title: str
    status: str
    versions: int
    first_version_id: int


def seed_agreements(
    people: People, rng: random.Random, progress: Progress
) -> list[SeededAgreement]:
    size = people.size
    count = max(len(people.consortia), size.agreement_versions // 4)
    # Each agreement has one version, and the rest are dealt out at random: most have a few
    # rounds, some many.
    rounds = [1] * count
    for _ in range(size.agreement_versions - count):
        rounds[rng.randrange(count)] += 1
    weights = [weight for _, _, weight in STATES]
    agreement_id, party_id, version_id = (
        next_id(Agreement),
        next_id(Party),
        next_id(AgreementVersion),
    )
    agreements, parties, seeded = [], [], []
    for index in range(count):
        consortium = people.consortia[index % len(people.consortia)]
        kind = KINDS[index % len(KINDS)]
        status, _, _ = rng.choices(STATES, weights)[0]
        effective = START.date() + datetime.timedelta(days=rng.randrange(500))
        executed = status in ("executed", "expired", "terminated", "superseded")
        first, second = _parties(consortium, rng)
        title = f"{TITLES[kind]} {index:06d}"
        agreements.append(
            Agreement(
                pk=agreement_id + index,
                consortium_id=consortium.id,
                kind=kind,
                title=title,
                governing_law_id=consortium.home if len(consortium.home) == 2 else "DE",
                status=status,
                effective_on=effective if executed else None,
                expires_on=effective + datetime.timedelta(days=730) if executed else None,
            )
        )
        for order, (organisation_id, role) in enumerate(
            zip((first, second), PARTY_ROLES[kind], strict=True), start=1
        ):
            parties.append(
                Party(
                    pk=party_id,
                    agreement_id=agreement_id + index,
                    organisation_id=organisation_id,
                    role=role,
                    signatory_id=people.person(organisation_id, 2).user_id,
                    signing_order=order,
                )
            )
            party_id += 1
        seeded.append(
            SeededAgreement(
                agreement_id + index, consortium.id, title, status, rounds[index], version_id
            )
        )
        version_id += rounds[index]
    copy_objects(Agreement, agreements, progress=progress, label="agreements", stamped_at=START)
    copy_objects(Party, parties, progress=progress, label="agreement parties", stamped_at=START)
    _versions_and_clauses(people, seeded, rng, progress)
    return seeded


def _parties(consortium: SeededConsortium, rng: random.Random) -> tuple[int, int]:
    active = [organisation for organisation, status in consortium.members if status == "active"]
    if len(active) < 2:
        active = [organisation for organisation, _ in consortium.members]
    first, second = rng.sample(active, 2)
    return first, second


def _versions_and_clauses(
    people: People, agreements: list[SeededAgreement], rng: random.Random, progress: Progress
) -> None:
    latest_status = {status: version for status, version, _ in STATES}
    clauses: list[tuple[Any, ...]] = []
    clause_id = next_id(Clause)

    def versions() -> Iterator[tuple[Any, ...]]:
        nonlocal clause_id
        for agreement in agreements:
            keys = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in CLAUSES]
            created = START + datetime.timedelta(days=agreement.id % 400)
            for number in range(1, agreement.versions + 1):
                version_id = agreement.first_version_id + number - 1
                latest = number == agreement.versions
                if latest:
                    status = latest_status[agreement.status]
                elif (
                    number == agreement.versions - 1
                    and latest_status[agreement.status] == "executed"
                ):
                    status = "superseded"  # an amendment replaced the executed text
                else:
                    status = "withdrawn"  # a new round replaced it while in review
                text = [
                    {
                        "key": key,
                        "level": 0,
                        "kind": kind,
                        "heading": heading,
                        "body": f"{heading} terms of {agreement.title}, round {number}.",
                    }
                    for key, (kind, heading) in zip(keys, CLAUSES, strict=True)
                ]
                for position, clause in enumerate(text, start=1):
                    clauses.append(
                        (
                            clause_id,
                            version_id,
                            clause["key"],
                            position,
                            0,
                            clause["kind"],
                            clause["heading"],
                            clause["body"],
                        )
                    )
                    clause_id += 1
                at = created + datetime.timedelta(days=7 * number)
                frozen = status != "draft"
                yield (
                    version_id,
                    agreement.id,
                    number,
                    status,
                    version_id - 1 if number > 1 else None,
                    f"Round {number}",
                    content.content_hash(text) if frozen else "",
                    at,
                    "nation000000",
                    at + datetime.timedelta(days=1) if frozen else None,
                    at + datetime.timedelta(days=5)
                    if status in ("executed", "superseded")
                    else None,
                )

    big = people.size.agreement_versions > people.size.rebuild_indexes_above
    with indexes_deferred(AgreementVersion, progress) if big else nullcontext():
        copy_rows(
            AgreementVersion,
            VERSION_COLUMNS,
            versions(),
            progress=progress,
            label="agreement versions",
        )
    copy_rows(Clause, CLAUSE_COLUMNS, clauses, progress=progress, label="clauses")
