"""How decisions are stored (compute migrations 0002 and 0010): append-only on every database,
and on PostgreSQL with one index per lookup and LZ4 snapshots, since each decision at the gate
pays for every index on its table and for compressing its snapshot."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from compute.compliance.models import Decision
from tests.conftest import World, requires_postgres, unsaved_decision


def _rows(sql: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def test_a_stored_decision_cannot_be_changed(world: World) -> None:
    # SQLite rebuilds the table to alter a column, which drops its triggers: 0010 restores it.
    decision = unsaved_decision(world, outcome="deny")
    decision.save()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Decision.objects.filter(pk=decision.pk).update(outcome="allow")
    assert Decision.objects.get(pk=decision.pk).outcome == "deny"


@requires_postgres
def test_a_decisions_job_is_found_through_one_index(db: Any) -> None:
    leading_job = _rows(
        "SELECT indexrelid::regclass::text FROM pg_index "
        "WHERE indrelid = 'compute_decision'::regclass "
        "AND indkey[0] = (SELECT attnum FROM pg_attribute "
        "WHERE attrelid = 'compute_decision'::regclass AND attname = 'job_id')"
    )
    assert leading_job == [("compliance_decision_job",)]


@requires_postgres
def test_snapshots_are_compressed_with_lz4_where_the_server_has_it(db: Any) -> None:
    compression = dict(
        _rows(
            "SELECT attname, attcompression FROM pg_attribute "
            "WHERE attrelid = 'compute_decision'::regclass "
            "AND attname IN ('input_snapshot', 'explain')"
        )
    )
    (has_lz4,) = _rows(
        "SELECT EXISTS (SELECT FROM pg_settings WHERE name = 'default_toast_compression' "
        "AND 'lz4' = ANY(enumvals))"
    )[0]
    expected = "l" if has_lz4 else ""
    assert compression == {"input_snapshot": expected, "explain": expected}
