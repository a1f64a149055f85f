"""Agreements at size: the detail page and API with 200 clauses and 20 versions (query counts
against a small agreement), and the redline of two 200-clause versions (median time, against
the time to read the two versions' clauses: the floor).

Run by bench/run.py as ``python -m bench.agreements_measure`` with DJANGO_SETTINGS_MODULE set;
prints one JSON object.
"""

from __future__ import annotations

import json
import random
import statistics
import time
import uuid
from typing import Any, TypedDict


class DraftClause(TypedDict):
    key: uuid.UUID
    level: int
    heading: str
    body: str


def _build(consortium: Any, author: Any, *, clauses: int, versions: int, seed: int) -> Any:
    """An agreement with ``versions`` negotiation rounds of ``clauses`` clauses, each round
    editing, moving, adding and removing a few clauses of the previous one."""
    from agreements import content
    from agreements.models import Agreement, AgreementVersion, Clause, Party

    rng = random.Random(seed)  # noqa: S311 - a reproducible fixture
    agreement = Agreement.objects.create(
        consortium=consortium,
        kind="joint_development",
        title=f"Bench agreement {clauses}x{versions} {uuid.uuid4().hex[:6]}",
        governing_law_id="DE",
    )
    Party.objects.create(
        agreement=agreement,
        organisation_id=author.organisation_id,
        role="licensor",
        signatory=author,
    )
    text: list[DraftClause] = [
        {
            "key": uuid.uuid4(),
            "level": 1 if index % 3 == 2 else 0,
            "heading": f"Clause {index}",
            "body": " ".join(rng.choice(WORDS) for _ in range(60)),
        }
        for index in range(clauses)
    ]
    for number in range(1, versions + 1):
        version = AgreementVersion.objects.create(
            agreement=agreement, number=number, note=f"Round {number}"
        )
        Clause.objects.bulk_create(
            [
                Clause(
                    version=version,
                    key=item["key"],
                    position=index + 1,
                    level=item["level"],
                    heading=item["heading"],
                    body=item["body"],
                )
                for index, item in enumerate(text)
            ]
        )
        if number < versions:
            snapshot = [
                {
                    "key": str(item["key"]),
                    "level": item["level"],
                    "kind": "general",
                    "heading": item["heading"],
                    "body": item["body"],
                    "terms": None,
                }
                for item in text
            ]
            AgreementVersion.objects.filter(pk=version.pk).update(
                status="withdrawn", content_hash=content.content_hash(snapshot)
            )
            text = _next_round(text, rng)
    return agreement


WORDS = (
    "party",
    "parties",
    "agreement",
    "shall",
    "data",
    "model",
    "licence",
    "owner",
    "share",
    "revenue",
    "term",
    "notice",
    "law",
    "consortium",
    "weights",
    "use",
)


def _next_round(text: list[DraftClause], rng: random.Random) -> list[DraftClause]:
    text = [DraftClause(**item) for item in text]
    for item in rng.sample(text, max(1, len(text) // 10)):
        words = item["body"].split()
        words[rng.randrange(len(words))] = rng.choice(WORDS)
        item["body"] = " ".join(words)
    moved = text.pop(rng.randrange(len(text)))
    text.insert(rng.randrange(len(text)), moved)
    text.pop(rng.randrange(len(text)))
    text.insert(
        rng.randrange(len(text)),
        {
            "key": uuid.uuid4(),
            "level": 0,
            "heading": "New clause",
            "body": "Added in this round.",
        },
    )
    return text


def _queries(client: Any, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


def main() -> None:
    import django

    django.setup()
    from django.test import Client

    from agreements.models import AgreementVersion
    from agreements.redline import redline
    from consortia.models import Consortium, User

    author = User.objects.get(username="amelie")
    consortium = Consortium.objects.get(name__startswith="EuroLLM")
    small = _build(consortium, author, clauses=10, versions=2, seed=1)
    large = _build(consortium, author, clauses=200, versions=20, seed=2)
    client = Client()
    client.force_login(author)
    counts: dict[str, dict[str, int]] = {}
    for name, agreement in (("10 clauses, 2 versions", small), ("200 clauses, 20 versions", large)):
        latest = agreement.versions.order_by("-number").first()
        counts[name] = {
            "page": _queries(client, f"/agreements/{agreement.pk}/"),
            "api agreement": _queries(client, f"/api/v1/agreements/{agreement.pk}/"),
            "api version": _queries(client, f"/api/v1/agreement-versions/{latest.pk}/"),
        }

    versions = list(AgreementVersion.objects.filter(agreement=large).order_by("number"))
    before, after = versions[0], versions[-1]
    reads, diffs = [], []
    for _ in range(15):
        started = time.perf_counter()
        old, new = (
            list(before.clauses.order_by("position")),
            list(after.clauses.order_by("position")),
        )
        reads.append(time.perf_counter() - started)
        started = time.perf_counter()
        changes = redline(old, new)
        diffs.append(time.perf_counter() - started)
    print(
        json.dumps(
            {
                "queries": counts,
                "redline_ms": statistics.median(diffs) * 1000,
                "read_ms": statistics.median(reads) * 1000,
                "changes": len(changes),
            }
        )
    )


if __name__ == "__main__":
    main()
