"""The audit trail's costs, each against a floor measured in the same run.

1. A write endpoint (PATCH a consortium's charter) with auditing on and off: two gunicorn
   servers on the same database, the second with audit recording replaced by a no-op.
2. Appends per second with 4 concurrent writers (one shared chain, and one chain each),
   against plain single-row inserts of the same rows.
3. audit_verify over 1,000,000 events (SQL and Python verifiers), against a plain scan of
   the same table.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from typing import Any

from bench.run import PYTHON, ROOT, Server, environment, log, manage, recreate_database, settle, wrk

WRITE_PORTS = {"audited": 8767, "unaudited": 8768}


def _token_and_consortium(env: dict[str, str]) -> tuple[str, int]:
    code = (
        "from knox.models import AuthToken;"
        "from consortia.models import Consortium, User;"
        "user = User.objects.get(username='amelie');"
        "_, token = AuthToken.objects.create(user=user);"
        "print(token, Consortium.objects.get(name__startswith='EuroLLM').pk)"
    )
    token, consortium = manage(env, "shell", "-c", code).strip().splitlines()[-1].split()
    return token, int(consortium)


def write_overhead(binary: str, env: dict[str, str], rounds: int, seconds: int) -> dict[str, Any]:
    token, consortium = _token_and_consortium(env)
    path = f"/api/v1/consortia/{consortium}/"
    headers = [
        "-H",
        f"Authorization: Bearer {token}",
        "-H",
        "Content-Type: application/json",
        "-s",
        str(ROOT / "bench" / "write.lua"),
    ]
    servers = {
        "audited": Server(env, WRITE_PORTS["audited"]),
        "unaudited": Server(
            {**env, "DJANGO_SETTINGS_MODULE": "bench.settings_unaudited"}, WRITE_PORTS["unaudited"]
        ),
    }
    runs: dict[str, list[Any]] = {name: [] for name in servers}
    try:
        for server in servers.values():
            wrk(binary, server.base, path, 2, None, extra=headers)
        for _ in range(rounds):
            for name, server in servers.items():
                runs[name].append(wrk(binary, server.base, path, seconds, None, extra=headers))
    finally:
        for server in servers.values():
            server.stop()
    ratios = [
        on.requests_per_second / off.requests_per_second
        for on, off in zip(runs["audited"], runs["unaudited"], strict=True)
    ]
    return {
        name: {
            "req/s": statistics.median(run.requests_per_second for run in series),
            "p50": statistics.median(run.p50_ms for run in series),
            "p99": statistics.median(run.p99_ms for run in series),
            "errors": sum(run.errors for run in series),
        }
        for name, series in runs.items()
    } | {"audited/unaudited": statistics.median(ratios)}


def appends(env: dict[str, str], events_per_writer: int) -> dict[str, float]:
    output = subprocess.run(
        [PYTHON, "-m", "bench.appends", "--writers", "4", "--events", str(events_per_writer)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def _psql_seconds(database_url: str, statement: str) -> float:
    started = time.perf_counter()
    subprocess.run(["psql", database_url, "-q", "-c", statement], check=True, capture_output=True)
    return time.perf_counter() - started


def verify_throughput(server: str, events: int, python_too: bool) -> dict[str, Any]:
    database = "alliance_bench_audit"
    database_url = f"{server}/{database}"
    env = environment(database_url)
    recreate_database(server, database)
    manage(env, "migrate", "--noinput")
    loaded = subprocess.run(
        [PYTHON, "-m", "bench.verify_load", "--events", str(events)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    log(f"  loaded {json.loads(loaded.strip().splitlines()[-1])['events']:,} chained events")
    settle(database_url)
    scan = min(
        _psql_seconds(
            database_url,
            "SELECT count(*), sum(length(hash) + length(prev_hash) + length(object_display)) FROM audit_auditevent",
        )
        for _ in range(3)
    )
    results: dict[str, Any] = {"events": events, "scan_seconds": scan}
    methods = ["sql", "python"] if python_too else ["sql"]
    for method in methods:
        started = time.perf_counter()
        output = manage(env, "audit_verify", *(["--python"] if method == "python" else []))
        seconds = time.perf_counter() - started
        assert "Every chain is intact." in output, output
        results[method] = {"seconds": seconds, "events/s": events / seconds}
    return results


def run(
    binary: str,
    env: dict[str, str],
    server: str,
    *,
    rounds: int,
    seconds: int,
    verify_events: int,
    python_verify: bool,
) -> None:
    log("Audit: write endpoint with auditing on and off")
    overhead = write_overhead(binary, env, rounds, seconds)
    log("Audit: appends with 4 concurrent writers")
    rates = appends(env, 400)
    log(f"Audit: audit_verify over {verify_events:,} events")
    verification = verify_throughput(server, verify_events, python_verify)

    log("\nAudit trail")
    for name in ("audited", "unaudited"):
        figures = overhead[name]
        log(
            f"  PATCH consortium, {name:<10} {figures['req/s']:>7.0f} req/s  p50 {figures['p50']:.1f} ms  p99 {figures['p99']:.1f} ms  errors {figures['errors']}"
        )
    slower = 1 - overhead["audited/unaudited"]
    log(f"  audit overhead on a write: {slower:+.1%} throughput [target: at most 10% slower]")
    log(
        f"  appends/s, 4 writers: plain inserts {rates['plain']:.0f}; audited, one chain {rates['audited_one_chain']:.0f} "
        f"({rates['audited_one_chain'] / rates['plain']:.2f}x); own chains {rates['audited_own_chains']:.0f} "
        f"({rates['audited_own_chains'] / rates['plain']:.2f}x)"
    )
    scan_rate = verification["events"] / verification["scan_seconds"]
    log(f"  plain scan of the event table: {scan_rate:,.0f} rows/s (floor)")
    for method in ("sql", "python"):
        if method in verification:
            rate = verification[method]["events/s"]
            log(
                f"  audit_verify ({method}): {rate:,.0f} events/s ({rate / scan_rate:.3f} of the scan) [target: >= 100,000 events/s]"
            )


def prepare_and_run(
    binary: str, server: str, *, rounds: int, seconds: int, verify_events: int, python_verify: bool
) -> None:
    database_url = f"{server}/alliance_bench"
    env = environment(database_url)
    run(
        binary,
        env,
        server,
        rounds=rounds,
        seconds=seconds,
        verify_events=verify_events,
        python_verify=python_verify,
    )
