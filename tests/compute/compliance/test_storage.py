"""How decisions are stored on PostgreSQL (compute migration 0010): each decision at the gate
pays for every index on its table and for compressing its snapshot."""

from __future__ import annotations

from typing import Any

from django.db import connection

from tests.conftest import requires_postgres

pytestmark = requires_postgres


def _rows(sql: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def test_a_decisions_job_is_found_through_one_index(db: Any) -> None:
    leading_job = _rows(
        "SELECT indexrelid::regclass::text FROM pg_index "
        "WHERE indrelid = 'compute_decision'::regclass "
        "AND indkey[0] = (SELECT attnum FROM pg_attribute "
        "WHERE attrelid = 'compute_decision'::regclass AND attname = 'job_id')"
    )
    assert leading_job == [("compliance_decision_job",)]


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
