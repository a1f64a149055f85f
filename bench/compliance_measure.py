"""The compliance engine at size, in-process: a full sweep, and where one decision's time goes.

1. Sweeps: ``sweeps.sweep_consortium`` over every live job of the bench consortium loaded by
   bench/compliance_load.py, twice (the first opens findings, the second is the steady hourly
   case), against a floor: reading the live jobs with their data set and site ids.
2. One decision of the request body, profiled: its SQL queries, their share of the time and
   the slowest of them, once the rules are cached (the steady case), and the first decision
   after the cache is emptied (what a decision costs once after every change to the rules).
3. The machine's commit: one tiny durable transaction. Every stored decision waits for its
   WAL flush and the authenticated floor does not, so the gate's ratio to the floor moves
   with it from one machine to another.

Run by bench/run.py as ``python -m bench.compliance_measure --consortium ID --body JSON``
with DJANGO_SETTINGS_MODULE set; prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any


def profile_decision(consortium_id: int, username: str, body: dict[str, Any]) -> dict[str, Any]:
    """Decide the request body in-process, outside any transaction as the gate does (the
    decisions are stored: the bench's database is thrown away), and count and time its round
    trips to the database."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from alliance.round_trips import round_trips
    from compute.compliance import services
    from consortia.models import Consortium, User

    user = User.objects.get(username=username)
    consortium = Consortium.objects.get(pk=consortium_id)
    spec = {key: value for key, value in body.items() if key != "consortium"}
    from django.utils.dateparse import parse_datetime

    spec["starts_at"] = parse_datetime(spec["starts_at"])
    spec["ends_at"] = parse_datetime(spec["ends_at"])
    # The first decision after a change to the rules reads them afresh (a cache miss): once
    # per generation and process, timed apart from the steady case.
    from django.core.cache import cache

    from compute.compliance import rules_cache

    rules_cache.forget_books()
    cache.clear()
    with CaptureQueriesContext(connection) as cold_queries:
        began = time.perf_counter()
        services.decide_and_record(actor=user, consortium=consortium, spec_or_job=dict(spec))
        cold = time.perf_counter() - began
    times, outcome = [], ""
    for _ in range(20):
        began = time.perf_counter()
        decision = services.decide_and_record(
            actor=user, consortium=consortium, spec_or_job=dict(spec)
        )
        times.append(time.perf_counter() - began)
        outcome = decision.outcome
        codes = sorted({reason["code"] for reason in decision.reasons})
    with round_trips() as sent:
        began = time.perf_counter()
        services.decide_and_record(actor=user, consortium=consortium, spec_or_job=dict(spec))
        total = time.perf_counter() - began
    trips = sorted(sent.trips, key=lambda trip: trip.seconds, reverse=True)
    return {
        "outcome": outcome,
        "codes": codes,
        "median_ms": statistics.median(times) * 1000,
        "queries": sum(len(trip.statements) for trip in trips),
        "round_trips": len(trips),
        "sql_ms": sum(trip.seconds for trip in trips) * 1000,
        "total_ms": total * 1000,
        "slowest": [
            {"ms": trip.seconds * 1000, "sql": " | ".join(sql[:70] for sql in trip.statements)}
            for trip in trips[:4]
        ],
        "cold_ms": cold * 1000,
        "cold_queries": len(cold_queries),
    }


def read_floor(consortium_id: int) -> float:
    """Seconds to read what any sweep must: every live job's row with its data set and site
    ids, as plain tuples."""
    from django.utils import timezone

    from compute.compliance import sweeps
    from compute.compliance.models import Job

    began = time.perf_counter()
    pks = list(sweeps.live_jobs(consortium_id, timezone.now()).values_list(*JOB_COLUMNS))
    ids = [row[0] for row in pks]
    for through, column in ((Job.datasets.through, "dataset_id"), (Job.sites.through, "site_id")):
        for start in range(0, len(ids), 2_000):
            list(
                through.objects.filter(job_id__in=ids[start : start + 2_000]).values_list(
                    "job_id", column
                )
            )
    return time.perf_counter() - began


def commit_us(samples: int = 300) -> float:
    """Median microseconds of an autocommitted one-row INSERT into a logged table: a round
    trip plus the WAL flush that makes it durable."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (id bigserial PRIMARY KEY)")
        times = []
        for _ in range(samples):
            began = time.perf_counter()
            cursor.execute("INSERT INTO bench_commit_probe DEFAULT VALUES")
            times.append(time.perf_counter() - began)
        cursor.execute("DROP TABLE bench_commit_probe")
    return statistics.median(times) * 1_000_000


JOB_COLUMNS = ("pk", "organisation_id", "purpose", "action", "movement", "starts_at", "ends_at")


def sweep(consortium_id: int) -> dict[str, Any]:
    """Two full sweeps: the first opens the findings of every job that breaks a rule (each
    audited), the second finds nothing new (every finding seen again): the hourly case."""
    from compute.compliance import sweeps

    floor = read_floor(consortium_id)
    runs = []
    for label in ("first", "steady"):
        began = time.perf_counter()
        result = sweeps.sweep_consortium(consortium_id)
        seconds = time.perf_counter() - began
        runs.append(
            {
                "label": label,
                "seconds": seconds,
                "jobs": result.jobs,
                "opened": result.opened,
                "seen": result.seen,
                "resolved": result.resolved,
                "ratio": seconds / floor,
            }
        )
    return {"floor_s": floor, "runs": runs}


def main() -> None:
    import django

    parser = argparse.ArgumentParser()
    parser.add_argument("--consortium", type=int, required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--body", required=True, help="The decision request body, as JSON.")
    arguments = parser.parse_args()
    django.setup()
    profile = profile_decision(arguments.consortium, arguments.username, json.loads(arguments.body))
    swept = sweep(arguments.consortium)
    print(json.dumps({"decision": profile, "sweep": swept, "commit_us": commit_us()}))


if __name__ == "__main__":
    main()
