"""The consortium dashboard at size: server time of the page of the largest seeded consortium
the bench user sits in (median and p99, each against an authenticated trivial page measured
in the same run, the floor), and its SQL query count for a fresh consortium at N and at 4N
members, agreements, motions and audit events.

Requests go through Django's test client in this process, so the figures are the server's
time (middleware, view, template) without the network. Floor and page take turns, round by
round, so a drift of a shared machine lands on both.

Run by bench/run.py as ``python -m bench.dashboard_measure`` with DJANGO_SETTINGS_MODULE set;
prints one JSON object.
"""

from __future__ import annotations

import datetime
import json
import statistics
import time
import uuid
from typing import Any

ROUNDS = 5
REQUESTS_PER_ROUND = 40
SIZE = 20  # N; the larger consortium has 4N


def _timings(client: Any, url: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return times


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def _queries(client: Any, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


def _grown_consortium(chair: Any, size: int) -> Any:
    """A consortium founded by ``chair`` with ``size`` more members, agreements and open
    motions, each written through its service (so each leaves its audit events). Load, not
    behaviour: members join by bulk insert."""
    from django.utils import timezone

    from agreements import services as agreement_services
    from consortia import services
    from consortia.governance import services as governance
    from consortia.models import Jurisdiction, Membership, Organisation, PartnershipModel

    tag = uuid.uuid4().hex[:6]
    germany = Jurisdiction.objects.get(pk="DE")
    consortium = services.consortium_create(
        actor=chair,
        name=f"Dashboard bench {size} {tag}",
        partnership_model=PartnershipModel.objects.get(pk="joint_development"),
        home_jurisdiction=Jurisdiction.objects.get(pk="EU"),
    )
    organisations = Organisation.objects.bulk_create(
        Organisation(
            name=f"Dashboard bench member {tag} {n}",
            kind="company",
            registration_id=f"DBM-{tag}-{n}",
            home_jurisdiction=germany,
        )
        for n in range(size)
    )
    Membership.objects.bulk_create(
        Membership(
            consortium=consortium,
            organisation=organisation,
            status="active",
            joined_on=timezone.localdate(),
        )
        for organisation in organisations
    )
    for n in range(size):
        agreement_services.agreement_create(
            actor=chair,
            consortium=consortium,
            kind="nda",
            title=f"NDA {n}",
            governing_law=germany,
        )
        governance.motion_propose(
            actor=chair,
            consortium=consortium,
            kind="general",
            title=f"Resolution {n}",
            closes_at=timezone.now() + datetime.timedelta(days=3 + n % 5),
        )
    return consortium


def main() -> None:
    import django

    django.setup()
    from django.db.models import Count, Q
    from django.test import Client

    from audit.models import AuditEvent
    from consortia.models import Consortium, Membership, Role, RoleAssignment, User

    bench = User.objects.get(username="bench")
    assert bench.organisation_id is not None
    largest = (
        # A separate sub-query: filtering on the same join would make Count see one row.
        Consortium.objects.filter(
            pk__in=Membership.objects.filter(organisation_id=bench.organisation_id).values(
                "consortium_id"
            )
        )
        .annotate(members=Count("memberships", filter=Q(memberships__status="active")))
        .order_by("-members", "pk")
        .first()
    )
    assert largest is not None, "seed_demo --scale gives the bench user consortia"
    client = Client()
    client.force_login(bench)
    page, floor = f"/consortia/{largest.pk}/", "/bench/floor/page/"
    _timings(client, page, 5)
    _timings(client, floor, 5)
    page_times: list[float] = []
    floor_times: list[float] = []
    for _ in range(ROUNDS):
        floor_times += _timings(client, floor, REQUESTS_PER_ROUND)
        page_times += _timings(client, page, REQUESTS_PER_ROUND)

    chair = RoleAssignment.objects.filter(role=Role.CHAIR, consortium=largest).first()
    founder = chair.user if chair is not None else bench
    counts = {}
    for size in (SIZE, 4 * SIZE):
        consortium = _grown_consortium(founder, size)
        owner = Client()
        owner.force_login(founder)
        counts[str(size)] = {
            "members": consortium.memberships.count(),
            "agreements": consortium.agreements.count(),
            "events": AuditEvent.objects.filter(consortium_id=consortium.pk).count(),
            "queries": _queries(owner, f"/consortia/{consortium.pk}/"),
        }
    print(
        json.dumps(
            {
                "consortium": largest.name,
                "members": largest.members,  # type: ignore[attr-defined]
                "requests": len(page_times),
                "page_median_ms": statistics.median(page_times) * 1000,
                "page_p99_ms": _p99(page_times) * 1000,
                "floor_median_ms": statistics.median(floor_times) * 1000,
                "floor_p99_ms": _p99(floor_times) * 1000,
                "page_queries": _queries(client, page),
                "sizes": counts,
            }
        )
    )


if __name__ == "__main__":
    main()
