"""The compliance engine at size, in-process: a full sweep, and where one decision's time goes.

1. A sweep: ``sweeps.sweep_consortium`` over the live jobs of the bench consortium loaded by
   bench/compliance_load.py. First it evaluates a sample of jobs (read-only) to estimate the
   time per job; when the whole sweep would take longer than --budget seconds, it marks all
   but as many live jobs as the budget allows (at most --fallback-jobs) finished (a plain
   UPDATE: load, not behaviour) and sweeps those, so the figure for all of them is projected,
   not measured.
2. One decision of the request body, profiled: its SQL queries, their share of the time and
   the slowest of them.

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
    """Decide the request body in-process (rolled back), and count and time its SQL."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from compute.compliance import services
    from consortia.models import Consortium, User

    user = User.objects.get(username=username)
    consortium = Consortium.objects.get(pk=consortium_id)
    spec = {key: value for key, value in body.items() if key != "consortium"}
    from django.utils.dateparse import parse_datetime

    spec["starts_at"] = parse_datetime(spec["starts_at"])
    spec["ends_at"] = parse_datetime(spec["ends_at"])
    times, outcome = [], ""
    for _ in range(20):
        with transaction.atomic():
            began = time.perf_counter()
            decision = services.decide_and_record(
                actor=user, consortium=consortium, spec_or_job=dict(spec)
            )
            times.append(time.perf_counter() - began)
            outcome = decision.outcome
            codes = sorted({reason["code"] for reason in decision.reasons})
            transaction.set_rollback(True)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        began = time.perf_counter()
        services.decide_and_record(actor=user, consortium=consortium, spec_or_job=dict(spec))
        total = time.perf_counter() - began
        transaction.set_rollback(True)
    sql = sorted(
        ((float(query["time"]) * 1000, query["sql"][:160]) for query in queries), reverse=True
    )
    return {
        "outcome": outcome,
        "codes": codes,
        "median_ms": statistics.median(times) * 1000,
        "queries": len(sql),
        "sql_ms": sum(ms for ms, _ in sql),
        "total_ms": total * 1000,
        "slowest": [{"ms": ms, "sql": text} for ms, text in sql[:4]],
    }


def sweep(consortium_id: int, budget: float, sample: int, fallback: int) -> dict[str, Any]:
    from django.utils import timezone

    from compute.compliance import services, sweeps
    from compute.compliance.models import Job

    now = timezone.now()
    live = sweeps.live_jobs(consortium_id, now)
    total = live.count()
    jobs = list(live.order_by("pk")[:sample])
    began = time.perf_counter()
    for job in jobs:
        services.evaluate(job, max(now, job.starts_at))
    per_job_estimate = (time.perf_counter() - began) / len(jobs)
    swept = total
    if per_job_estimate * total > budget:
        # Keep as many live jobs as fit in the budget (at most ``fallback``); finish the rest.
        swept = max(1, min(fallback, int(budget / per_job_estimate)))
        finished = list(live.order_by("pk").values_list("pk", flat=True)[swept:])
        Job.objects.filter(pk__in=finished).update(status=Job.Status.FINISHED)
    began = time.perf_counter()
    first = sweeps.sweep_consortium(consortium_id)
    seconds = time.perf_counter() - began
    assert first.jobs == swept, (first.jobs, swept)
    return {
        "live_jobs_loaded": total,
        "jobs_swept": first.jobs,
        "measured": first.jobs == total,
        "estimate_ms_per_job": per_job_estimate * 1000,
        "seconds": seconds,
        "jobs_per_s": first.jobs / seconds,
        "projected_s_for_loaded": seconds / first.jobs * total,
        "opened": first.opened,
        "seen": first.seen,
        "resolved": first.resolved,
    }


def main() -> None:
    import django

    parser = argparse.ArgumentParser()
    parser.add_argument("--consortium", type=int, required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--body", required=True, help="The decision request body, as JSON.")
    parser.add_argument("--budget", type=float, default=600.0)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--fallback-jobs", type=int, default=5_000)
    arguments = parser.parse_args()
    django.setup()
    profile = profile_decision(arguments.consortium, arguments.username, json.loads(arguments.body))
    swept = sweep(arguments.consortium, arguments.budget, arguments.sample, arguments.fallback_jobs)
    print(json.dumps({"decision": profile, "sweep": swept}))


if __name__ == "__main__":
    main()
