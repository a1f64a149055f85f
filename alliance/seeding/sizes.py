"""How big a seeded world is: ``national`` for load tests, ``tiny`` for the test suite."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Size:
    name: str
    organisations: int
    users: int
    consortia: int
    agreement_versions: int
    audit_events: int
    usage_rows: int
    members: tuple[int, int]  # member organisations per consortium, at least and at most
    providers: int
    allocations_per_pool: int
    # Tables with more rows than this are loaded with their indexes built afterwards.
    rebuild_indexes_above: int = 500_000


SIZES = {
    "tiny": Size(
        name="tiny",
        organisations=12,
        users=72,
        consortia=3,
        agreement_versions=40,
        audit_events=900,
        usage_rows=3_000,
        members=(4, 8),
        providers=2,
        allocations_per_pool=4,
    ),
    "national": Size(
        name="national",
        organisations=500,
        users=50_000,
        consortia=300,
        agreement_versions=100_000,
        audit_events=2_000_000,
        usage_rows=5_000_000,
        members=(10, 30),
        providers=20,
        allocations_per_pool=20,
    ),
}
