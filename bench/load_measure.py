"""Each request of the load mix in-process (Django's test client against the same database):
its SQL query count, the slowest of its queries, its median server time and how much of it
SQL took, so the mix's slowest endpoints can be named with what they cost.

Run by bench/load_bench.py as ``python -m bench.load_measure --requests JSON``; prints JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

REPEATS = 5


def send(client: Any, request: dict[str, Any]) -> Any:
    headers = dict(request["headers"])
    content_type = headers.pop("Content-Type", "application/octet-stream")
    if request["method"] == "POST":
        return client.post(
            request["path"], request["body"], content_type=content_type, headers=headers
        )
    return client.get(request["path"], headers=headers)


def measure(requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    results: dict[str, dict[str, Any]] = {}
    for request in requests:
        client = Client()
        send(client, request)  # warm: caches, templates, the first connection
        times, sql_times, counts, statuses, slowest = [], [], [], set(), (0.0, "")
        for _ in range(REPEATS):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = send(client, request)
                times.append(1000 * (time.perf_counter() - started))
            statuses.add(response.status_code)
            counts.append(len(queries))
            sql_times.append(sum(1000 * float(query["time"]) for query in queries.captured_queries))
            for query in queries.captured_queries:
                if float(query["time"]) * 1000 > slowest[0]:
                    slowest = (float(query["time"]) * 1000, query["sql"][:240])
        figures = results.setdefault(
            request["label"],
            {"median_ms": [], "sql_ms": [], "queries": [], "statuses": [], "slowest": (0.0, "")},
        )
        figures["median_ms"].append(statistics.median(times))
        figures["sql_ms"].append(statistics.median(sql_times))
        figures["queries"].append(max(counts))
        figures["statuses"] = sorted(set(figures["statuses"]) | statuses)
        if slowest[0] > figures["slowest"][0]:
            figures["slowest"] = slowest
    return results


def main() -> None:
    import django

    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", required=True, help="JSON list from bench.load_prepare")
    arguments = parser.parse_args()
    django.setup()
    with open(arguments.requests, encoding="utf-8") as file:
        requests = json.load(file)
    print(json.dumps(measure(requests)))


if __name__ == "__main__":
    main()
