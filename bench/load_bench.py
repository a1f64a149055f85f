"""A realistic load mix against a national-scale world (``run.py --only load``).

Its own database gets the demo world and then ``seed_world --scale national`` (500
organisations, 50,000 people, 300 consortia, 100,000 agreement versions, 2,000,000 audit
events, 5,000,000 usage rows); ``audit_verify`` checks the seeded chains. gunicorn serves it
(2 sync workers) and wrk (-t1 -c4) sends the weighted mix of bench/load_prepare.py through
bench/load.lua: pages with session cookies, API calls with knox tokens, as four people of
different organisations plus one of the demo's. Paired runs against the authenticated bare
view (the floor of the compliance bench, the same kind of token), then each request kind on
its own; every request kind is also measured in-process for its SQL query count.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.run import (
    ROOT,
    Run,
    Series,
    Server,
    environment,
    log,
    manage,
    recreate_database,
    run_module,
    settle,
    wrk,
)

DATABASE = "alliance_bench_load"
FLOOR = "/bench/floor/authenticated/"
SCRIPT = ROOT / "bench" / "load.lua"


def _seeded(server: str) -> bool:
    found = subprocess.run(
        [
            "psql",
            f"{server}/{DATABASE}",
            "-tAc",
            "SELECT count(*) FROM consortia_organisation WHERE name LIKE 'Nation Organisation %'",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.returncode == 0 and found.stdout.strip() not in ("", "0")


def prepare(server: str, reseed: bool) -> dict[str, str]:
    env = environment(f"{server}/{DATABASE}")
    if not reseed and _seeded(server):
        log(f"  {DATABASE} already holds the national world (--reseed-load to seed it again)")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        return env
    recreate_database(server, DATABASE)
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    manage(env, "seed_demo", "--force")
    seeded = manage(env, "seed_world", "--scale", "national", "--force")
    for line in seeded.splitlines():
        log(f"  {line}")
    verified = manage(env, "audit_verify")
    for line in verified.splitlines():
        log(f"  audit_verify: {line}")
    settle(f"{server}/{DATABASE}")
    return env


def prepare_and_run(
    binary: str, server: str, *, rounds: int, seconds: int, port: int, reseed: bool
) -> None:
    log("Load mix: preparing the national-scale world")
    env = prepare(server, reseed)
    with tempfile.TemporaryDirectory(prefix="alliance-load-") as scratch:
        mix = Path(scratch) / "mix.lua"
        prepared = run_module("load_prepare", env, "--out", str(mix))
        requests = Path(scratch) / "requests.json"
        requests.write_text(json.dumps(prepared["requests"]), encoding="utf-8")
        for person in prepared["people"]:
            log(f"  as {person}")
        measured = run_module("load_measure", env, "--requests", str(requests))
        labels = list(dict.fromkeys(request["label"] for request in prepared["requests"]))
        authorization = ["-H", f"Authorization: Bearer {prepared['floor_token']}"]
        script = ["-s", str(SCRIPT)]
        runs: dict[str, list[Run]] = {"floor": [], "mix": []}
        alone: dict[str, Run] = {}
        web = Server(env, port)
        try:
            wrk(binary, web.base, "/", 2, None, extra=script, script_arguments=[str(mix)])
            for round_number in range(1, rounds + 1):
                log(f"  round {round_number}/{rounds}")
                runs["floor"].append(wrk(binary, web.base, FLOOR, seconds, None, authorization))
                runs["mix"].append(
                    wrk(binary, web.base, "/", seconds, None, script, script_arguments=[str(mix)])
                )
            for label in labels:
                alone[label] = wrk(
                    binary,
                    web.base,
                    "/",
                    seconds,
                    None,
                    script,
                    script_arguments=[str(mix), label],
                )
        finally:
            web.stop()
    report(runs, alone, measured, seconds)


def report(
    runs: dict[str, list[Run]],
    alone: dict[str, Run],
    measured: dict[str, Any],
    seconds: int,
) -> None:
    floor, mix = Series(runs["floor"]), Series(runs["mix"])
    floor_rate = floor.median("requests_per_second")
    ratio = statistics.median(
        top.requests_per_second / bottom.requests_per_second
        for top, bottom in zip(mix.runs, floor.runs, strict=True)
        if bottom.requests_per_second
    )
    sent = sum(run.requests_per_second * seconds for run in mix.runs)
    errors = sum(run.errors for run in mix.runs)
    log("\nLoad mix at national scale (medians; wrk -t1 -c4, gunicorn 2 sync workers)")
    log(f"  {'':<36}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'÷ floor':>9}{'errors':>8}")
    log(
        f"  {'authenticated floor':<36}{floor_rate:>9.0f}{floor.median('p50_ms'):>9.2f}"
        f"{floor.median('p99_ms'):>9.2f}{1:>9.3f}{sum(run.errors for run in floor.runs):>8}"
    )
    log(
        f"  {'the mix':<36}{mix.median('requests_per_second'):>9.0f}{mix.median('p50_ms'):>9.2f}"
        f"{mix.median('p99_ms'):>9.2f}{ratio:>9.3f}{errors:>8}"
    )
    log(
        f"  mix / floor (paired, median of rounds) = {ratio:.3f}; p99 of the mix"
        f" {mix.median('p99_ms'):.1f} ms = {mix.median('p99_ms') / floor.median('p99_ms'):.1f}x the"
        f" floor's; error rate {errors / sent if sent else 0:.2%} (non-2xx/3xx of ~{sent:,.0f})"
    )
    log("  each request kind alone, and in-process (test client, same database):")
    log(
        f"  {'':<36}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'÷ floor':>9}{'errors':>8}"
        f"{'in-proc ms':>12}{'of it SQL':>11}{'SQL':>6}  status"
    )
    ranked = sorted(alone, key=lambda label: -max(measured[label]["median_ms"]))
    for label in ranked:
        run, figures = alone[label], measured[label]
        log(
            f"  {label:<36}{run.requests_per_second:>9.0f}{run.p50_ms:>9.2f}{run.p99_ms:>9.2f}"
            f"{run.requests_per_second / floor_rate:>9.3f}{run.errors:>8}"
            f"{max(figures['median_ms']):>12.1f}{max(figures['sql_ms']):>11.1f}{max(figures['queries']):>6}"
            f"  {','.join(str(status) for status in figures['statuses'])}"
        )
    log("  slowest endpoints, with their slowest SQL query (in-process):")
    for label in ranked[:3]:
        milliseconds, sql = measured[label]["slowest"]
        log(
            f"    {label}: {max(measured[label]['median_ms']):.1f} ms,"
            f" {max(measured[label]['queries'])} queries; slowest query {milliseconds:.1f} ms: {sql}"
        )
