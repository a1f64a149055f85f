"""Audit appends per second with concurrent writers, against plain inserts of the same rows.

Run by bench/audit_bench.py as ``python -m bench.appends`` with DJANGO_SETTINGS_MODULE set;
prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from typing import Any


def _setup() -> None:
    import django

    django.setup()


def _audited(arguments: tuple[int, int, bool]) -> float:
    writer, count, one_chain = arguments
    _setup()
    from django.db import transaction

    from audit.services import audit_record

    consortium_id = 900_000 if one_chain else 900_001 + writer
    started = time.perf_counter()
    for index in range(count):
        with transaction.atomic():
            audit_record(
                action="update",
                actor=None,
                consortium_id=consortium_id,
                object_display=f"w{writer} e{index}",
            )
    return time.perf_counter() - started


def _plain(arguments: tuple[int, int, bool]) -> float:
    writer, count, _ = arguments
    _setup()
    from django.db import connection, transaction

    started = time.perf_counter()
    for index in range(count):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_plain_event (chain, sequence, occurred_at, action, object_display, changes, prev_hash, hash)"
                " VALUES (%s, %s, now(), 'update', %s, '{}', %s, %s)",
                [
                    "plain",
                    writer * 10_000_000 + index,
                    f"w{writer} e{index}",
                    "0" * 64,
                    f"{writer}-{index}",
                ],
            )
    return time.perf_counter() - started


def _rate(worker: Any, writers: int, count: int, one_chain: bool) -> float:
    with multiprocessing.get_context("spawn").Pool(writers) as pool:
        started = time.perf_counter()
        pool.map(worker, [(writer, count, one_chain) for writer in range(writers)])
        elapsed = time.perf_counter() - started
    return writers * count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--events", type=int, default=500, help="per writer")
    arguments = parser.parse_args()
    _setup()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_plain_event")
        cursor.execute(
            "CREATE TABLE bench_plain_event (id bigserial PRIMARY KEY, chain varchar(64), sequence bigint,"
            " occurred_at timestamptz, action varchar(32), object_display varchar(300), changes jsonb,"
            " prev_hash varchar(64), hash varchar(64) UNIQUE, UNIQUE (chain, sequence))"
        )
    connection.close()
    results = {
        "plain": _rate(_plain, arguments.writers, arguments.events, False),
        "audited_one_chain": _rate(_audited, arguments.writers, arguments.events, True),
        "audited_own_chains": _rate(_audited, arguments.writers, arguments.events, False),
    }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
