"""A national-scale world for load tests, bulk-loaded and reproducible from a seed.

``seed_world`` writes hundreds of organisations and consortia, tens of thousands of people,
agreements with their versions, compute pools with their usage ledger and each consortium's
hash-chained audit trail, all in one transaction. Small tables go through ``bulk_create``, the
large ones through COPY. It bypasses the services (a fixture, not behaviour) but writes what
the services would have written, so the application and ``audit_verify`` accept it.
"""

from __future__ import annotations

import random

from django.db import connection, transaction

from alliance.seeding.copying import Progress, Write, is_superuser, orphans, reset_sequences
from alliance.seeding.sizes import SIZES, Size

__all__ = ["SIZES", "SeedingRefusedError", "Size", "seed_world"]


class SeedingRefusedError(Exception):
    """The world cannot be seeded here (not PostgreSQL, or already seeded)."""


def seed_world(*, size: Size, seed: int, write: Write) -> dict[str, int]:
    """Seed the world of ``size``; returns rows written per table. Same seed, same rows."""
    from agreements.models import Agreement, AgreementVersion, Clause, Party
    from alliance.seeding import people as people_module
    from alliance.seeding.agreements import seed_agreements
    from alliance.seeding.audit_trail import seed_audit
    from alliance.seeding.compute import seed_compute, seed_usage
    from audit.models import Action, AuditEvent
    from audit.services import audit_record
    from compute.models import (
        AllocationRequest,
        Approval,
        CapacityChange,
        Pool,
        Provider,
        Reservation,
        Site,
        UsageRecord,
    )
    from consortia.models import Consortium, Membership, Organisation, RoleAssignment, User

    if connection.vendor != "postgresql":
        raise SeedingRefusedError(
            f"seed_world loads with PostgreSQL's COPY; this database is {connection.vendor}. "
            "Set DATABASE_URL to a PostgreSQL database."
        )
    if people_module.already_seeded():
        raise SeedingRefusedError(
            "This database already holds a seeded world; seed a fresh database instead."
        )
    if not is_superuser():
        raise SeedingRefusedError(
            "seed_world loads with the per-row triggers off (as pg_restore does), which takes "
            "a PostgreSQL superuser; connect as one to a disposable database."
        )
    rng = random.Random(seed)  # noqa: S311 - a reproducible fixture, not security
    progress = Progress(write)
    loaded = (
        Organisation, User, Consortium, Membership, RoleAssignment, Provider, Site, Pool,
        Approval, CapacityChange, AllocationRequest, Reservation, Agreement, Party,
        AgreementVersion, Clause, UsageRecord, AuditEvent,
    )  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        # Only this transaction's commit waits for nothing; and as pg_restore does, leave the
        # per-row foreign-key triggers (and the clause guard, which refuses clauses for
        # versions already frozen) off while loading, then check every key in one pass.
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL session_replication_role = replica")
        world = people_module.seed_people(size, rng, progress)
        pools = seed_compute(world, rng, progress)
        agreements = seed_agreements(world, rng, progress)
        seed_usage(world, pools, rng, progress)
        seed_audit(world, agreements, pools, rng, progress)
        cursor.execute("SET LOCAL session_replication_role = origin")
        with progress.timed("foreign keys checked"):
            broken = {model.__name__: found for model in loaded if (found := orphans(model))}
        assert not broken, f"rows point at nothing: {broken}"
        reset_sequences(loaded)
        audit_record(
            action=Action.CREATE,
            actor=None,
            object_type="alliance.synthetic_dataset",
            object_id=f"world:{size.name}",
            object_display=f"Seeded world '{size.name}' (seed {seed})",
        )
        with progress.timed("ANALYZE"):
            for model in loaded:
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    return {model._meta.verbose_name_plural: model._default_manager.count() for model in loaded}  # type: ignore[misc]
