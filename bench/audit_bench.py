"""The audit trail's costs, each against a floor measured in the same run.

1. A write endpoint (PATCH a consortium's charter) with auditing on and off: two gunicorn
   servers on the same database, the second with audit recording replaced by a no-op.
2. Appends per second with 4 concurrent writers (one shared chain, and one chain each),
   against plain single-row inserts of the same rows.
3. audit_verify over 1,000,000 events (SQL and Python verifiers), against a plain scan of
   the same table.
"""

from __future__ import annotations

import re
import secrets
import statistics
import subprocess
import time
from typing import Any

from bench.run import (
    ROOT,
    Server,
    environment,
    log,
    manage,
    recreate_database,
    run_module,
    session_for_bench_user,
    settle,
    wrk,
)

WRITE_PORTS = {"audited": 8767, "unaudited": 8768}


def _consortium_chaired_by_amelie(env: dict[str, str]) -> int:
    code = "from consortia.models import Consortium; print(Consortium.objects.get(name__startswith='EuroLLM').pk)"
    return int(manage(env, "shell", "-c", code).strip().splitlines()[-1])


def write_overhead(binary: str, env: dict[str, str], rounds: int, seconds: int) -> dict[str, Any]:
    """The same PATCH, by the same chair in a browser session, on two servers: one audits,
    one does not. One connection: the price of auditing a write, not of writers queueing on
    one row."""
    consortium = _consortium_chaired_by_amelie(env)
    session = session_for_bench_user(env, "amelie")
    csrf = secrets.token_hex(16)  # a CSRF secret of 32 characters, sent as cookie and header
    path = f"/api/v1/consortia/{consortium}/"
    headers = [
        "-H",
        f"Cookie: sessionid={session}; csrftoken={csrf}",
        "-H",
        f"X-CSRFToken: {csrf}",
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
            wrk(binary, server.base, path, 2, None, extra=headers, connections=1)
        for _ in range(rounds):
            for name, server in servers.items():
                runs[name].append(
                    wrk(binary, server.base, path, seconds, None, extra=headers, connections=1)
                )
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
    return run_module("appends", env, "--writers", "4", "--events", str(events_per_writer))


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
    loaded = run_module("verify_load", env, "--events", str(events))
    log(f"  loaded {loaded['events']:,} chained events")
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
        output = manage(env, "audit_verify", *(["--python"] if method == "python" else []))
        assert "Every chain is intact." in output, output
        # The command times its own work; process start-up is not verification.
        seconds = float(re.search(r" in ([\d.]+) s ", output).group(1))  # type: ignore[union-attr]
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
    log(f"  audit overhead on a write: {slower:.1%} slower [target: at most 10% slower]")
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
