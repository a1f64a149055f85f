"""``make bench``: API throughput and latency as ratios to floors measured in the same run.

It creates a PostgreSQL database, seeds the large synthetic data set (seed_demo --scale),
serves the app with gunicorn (2 sync workers, production settings) and loads it with wrk
(1 thread, 4 connections), as ../shared/reference/perf-calibration.md did:

  (a) a bare Django JSON view: the framework's floor on this machine;
  (b) a hand-written view returning the same page of rows as the real endpoint with
      .values() and JsonResponse, behind the same session and the same access filter;
  (c) the real consortia and memberships list endpoints, each as a ratio to its (b).

Then it grows the tables tenfold (the bench user still sees the same rows) and measures
(b) and (c) again. SQL queries per list request are counted at page sizes 10 and 100.
Nothing here asserts a time: it prints figures and how they compare with the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PORTS = {"1x": 8765, "10x": 8766}
PAGE = 50

ENDPOINTS = {
    "consortia": ("/bench/values/consortia/", "/api/v1/consortia/"),
    "memberships": ("/bench/values/memberships/", "/api/v1/memberships/"),
}


def log(message: str) -> None:
    print(message, flush=True)


def environment(database_url: str) -> dict[str, str]:
    return {
        **{key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DEBUG"}},
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SECRET_KEY": "bench-only-" + "b" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "PYTHONPATH": str(ROOT),
    }


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    log("wrk is missing; installing it from Debian's packages")
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(
        [*prefix, "apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True
    )
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is required: apt-get install wrk")
    return found


def recreate_database(server: str, name: str) -> None:
    for statement in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", server + "/postgres", "-q", "-c", statement], check=True)


def settle(database_url: str) -> None:
    """Leave nothing for autovacuum or the checkpointer to do while wrk is running."""
    subprocess.run(
        ["psql", database_url, "-q", "-c", "VACUUM ANALYZE", "-c", "CHECKPOINT"], check=True
    )


@dataclass
class Run:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class Series:
    runs: list[Run] = field(default_factory=list)

    def median(self, attribute: str) -> float:
        return float(statistics.median(getattr(run, attribute) for run in self.runs))


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _latency(output: str, percentile: str) -> float:
    match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def wrk(
    binary: str,
    base: str,
    path: str,
    seconds: int,
    cookie: str | None,
    extra: list[str] | None = None,
    connections: int = 4,
    script_arguments: list[str] | None = None,
) -> Run:
    command = [binary, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", *(extra or [])]
    if cookie:
        command += ["-H", f"Cookie: sessionid={cookie}"]
    after = ["--", *script_arguments] if script_arguments else []
    output = subprocess.run(
        [*command, base + path, *after], capture_output=True, text=True, check=True
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Run(
        requests_per_second=float(rate.group(1)) if rate else 0.0,
        p50_ms=_latency(output, "50"),
        p99_ms=_latency(output, "99"),
        errors=int(errors.group(1)) if errors else 0,
    )


class Server:
    """gunicorn with 2 sync workers: the reference configuration of perf-calibration."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "alliance.wsgi:application",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "2",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        sys.exit("gunicorn did not come up")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def session_for_bench_user(env: dict[str, str], username: str = "bench") -> str:
    code = (
        "from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY;"
        "from django.contrib.sessions.backends.db import SessionStore;"
        "from consortia.models import User;"
        f"user = User.objects.get(username='{username}');"
        "session = SessionStore();"
        "session[SESSION_KEY] = str(user.pk);"
        "session[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend';"
        "session[HASH_SESSION_KEY] = user.get_session_auth_hash();"
        "session.create();"
        "print(session.session_key)"
    )
    return manage(env, "shell", "-c", code).strip().splitlines()[-1]


def query_counts(env: dict[str, str]) -> dict[str, dict[int, int]]:
    code = (
        "import json;"
        "from django.db import connection;"
        "from django.test import Client;"
        "from django.test.utils import CaptureQueriesContext;"
        "from consortia.models import User;"
        "client = Client(); client.force_login(User.objects.get(username='bench'));"
        "counts = {};"
        f"paths = {json.dumps({name: api for name, (_, api) in ENDPOINTS.items()})};"
        "\nfor name, path in paths.items():\n"
        "    counts[name] = {}\n"
        "    for size in (10, 100):\n"
        "        client.get(path + f'?page_size={size}')\n"
        "        with CaptureQueriesContext(connection) as queries:\n"
        "            assert client.get(path + f'?page_size={size}').status_code == 200\n"
        "        counts[name][size] = len(queries)\n"
        "print(json.dumps(counts))"
    )
    raw = json.loads(manage(env, "shell", "-c", code).strip().splitlines()[-1])
    return {
        name: {int(size): count for size, count in sizes.items()} for name, sizes in raw.items()
    }


def measure(
    binary: str, servers: dict[str, tuple[Server, str]], rounds: int, seconds: int
) -> dict[str, dict[str, Series]]:
    """Paired runs: a short floor run before every endpoint run cancels slow drifts, and the
    1x and 10x servers take turns, so both see the same machine."""
    paths = {"floor": "/bench/floor/"}
    for name, (values, api) in ENDPOINTS.items():
        paths[f"{name} (b)"] = f"{values}?page_size={PAGE}"
        paths[f"{name} (c)"] = f"{api}?page_size={PAGE}"
    for server, cookie in servers.values():
        for path in paths.values():
            wrk(binary, server.base, path, 2, cookie)  # warm-up
    results = {size: {name: Series() for name in [*paths, "floor (paired)"]} for size in servers}
    for round_number in range(1, rounds + 1):
        log(f"  round {round_number}/{rounds}")
        for name, path in paths.items():
            for size, (server, cookie) in servers.items():
                series = results[size]
                if name != "floor":
                    series["floor (paired)"].runs.append(
                        wrk(binary, server.base, paths["floor"], max(2, seconds // 2), None)
                    )
                series[name].runs.append(
                    wrk(binary, server.base, path, seconds, None if name == "floor" else cookie)
                )
    return results


def ratio_per_round(series: dict[str, Series], numerator: str, denominator: str) -> float:
    ratios = [
        top.requests_per_second / bottom.requests_per_second
        for top, bottom in zip(series[numerator].runs, series[denominator].runs, strict=True)
        if bottom.requests_per_second
    ]
    return statistics.median(ratios) if ratios else float("nan")


def report(title: str, series: dict[str, Series]) -> None:
    log(f"\n{title}")
    log(f"  {'endpoint':<22}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'÷ floor':>9}{'errors':>8}")
    floor = series["floor"].median("requests_per_second")
    for name, values in series.items():
        if name == "floor (paired)":
            continue
        rate = values.median("requests_per_second")
        log(
            f"  {name:<22}{rate:>10.0f}{values.median('p50_ms'):>9.2f}{values.median('p99_ms'):>9.2f}"
            f"{rate / floor:>9.3f}{sum(run.errors for run in values.runs):>8}"
        )


def prepare(server: str, database: str, factor: int) -> tuple[dict[str, str], str, str]:
    database_url = f"{server}/{database}"
    env = environment(database_url)
    started = time.monotonic()
    recreate_database(server, database)
    manage(env, "migrate", "--noinput")
    manage(
        env, "collectstatic", "--noinput", "--verbosity", "0"
    )  # production settings serve a manifest
    seeded = manage(env, "seed_demo", "--scale", "--factor", str(factor), "--force")
    synthetic = next(line for line in seeded.splitlines() if line.startswith("Synthetic"))
    settle(database_url)
    log(f"  {database}: {synthetic} ({time.monotonic() - started:.0f} s)")
    return env, database_url, session_for_bench_user(env)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--server", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument(
        "--only",
        choices=[
            "api",
            "audit",
            "agreements",
            "documents",
            "compute",
            "compliance",
            "dashboard",
            "partners",
            "webhooks",
            "load",
        ],
        help="Run one part only.",
    )
    parser.add_argument(
        "--reseed-load",
        action="store_true",
        help="Seed the load mix's national-scale database again even if it is there.",
    )
    parser.add_argument(
        "--load-port", type=int, default=8774, help="Port of the load mix's server."
    )
    parser.add_argument(
        "--compliance-jobs",
        type=int,
        default=100_000,
        help="Live jobs loaded for the compliance sweep.",
    )
    parser.add_argument("--verify-events", type=int, default=1_000_000)
    parser.add_argument(
        "--skip-python-verify", action="store_true", help="Time only the SQL verifier."
    )
    arguments = parser.parse_args()

    binary = ensure_wrk()
    if arguments.only in (None, "api"):
        api_bench(binary, arguments)
    if arguments.only in (None, "agreements", "documents"):
        if arguments.only in ("agreements", "documents"):
            prepare(arguments.server, "alliance_bench", 1)
        if arguments.only != "documents":
            agreements_bench(arguments.server)
        documents_bench(arguments.server)
    if arguments.only in (None, "compute"):
        if arguments.only == "compute":
            prepare(arguments.server, "alliance_bench", 1)
        compute_bench(arguments.server)
    if arguments.only in (None, "dashboard"):
        if arguments.only == "dashboard":
            prepare(arguments.server, "alliance_bench", 1)
        dashboard_bench(arguments.server)
    if arguments.only in (None, "compliance"):
        compliance_bench(binary, arguments)
    if arguments.only in (None, "webhooks"):
        webhooks_bench(arguments.server)
    if arguments.only in (None, "partners"):
        from bench import partners_bench

        partners_bench.run(binary, arguments.server, arguments.rounds, arguments.seconds)
    if arguments.only in (None, "load"):
        from bench import load_bench

        load_bench.prepare_and_run(
            binary,
            arguments.server,
            rounds=arguments.rounds,
            seconds=arguments.seconds,
            port=arguments.load_port,
            reseed=arguments.reseed_load,
        )
    if arguments.only in (None, "audit"):
        from bench import audit_bench

        if arguments.only == "audit":
            prepare(arguments.server, "alliance_bench", 1)
        audit_bench.prepare_and_run(
            binary,
            arguments.server,
            rounds=arguments.rounds,
            seconds=arguments.seconds,
            verify_events=arguments.verify_events,
            python_verify=not arguments.skip_python_verify,
        )


def run_module(module: str, env: dict[str, str], *arguments: str) -> dict[str, Any]:
    """Run ``python -m bench.<module>`` in its own process (its own Django settings) and
    return the JSON object it prints last."""
    output = subprocess.run(
        [PYTHON, "-m", f"bench.{module}", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def agreements_bench(server: str) -> None:
    results = run_module("agreements_measure", environment(f"{server}/alliance_bench"))
    log("\nAgreements at size")
    for name, counts in results["queries"].items():
        log(
            f"  SQL queries, {name:<26}"
            + "  ".join(f"{page}: {count}" for page, count in counts.items())
        )
    small, large = results["queries"].values()
    log(
        f"  query counts equal at 200 clauses x 20 versions: {'yes' if small == large else 'NO'} [target: equal]"
    )
    log(
        f"  redline of two 200-clause versions ({results['changes']} clauses compared): median {results['redline_ms']:.1f} ms;"
        f" reading the two versions' clauses (floor): {results['read_ms']:.1f} ms ({results['redline_ms'] / results['read_ms']:.1f}x)"
    )


def compute_bench(server: str) -> None:
    results = run_module("compute_measure", environment(f"{server}/alliance_bench"))
    booking, fair = results["overbooking"], results["fair_share"]
    log("\nShared compute at size")
    log(
        f"  overbooking check with {booking['reservations']:,} reservations in the pool: check median"
        f" {booking['check_ms']:.2f} ms, whole approval median {booking['approval_ms']:.2f} ms;"
        f" inserting one reservation unchecked (floor) {booking['floor_ms']:.2f} ms"
        f" (check {booking['check_ratio']:.1f}x, approval {booking['approval_ratio']:.1f}x the floor)"
    )
    log(
        f"  fair share for {fair['members']} members over {fair['rows']:,} daily usage rows, in the"
        f" database: median {fair['fair_share_ms']:.0f} ms; plain SUM ... GROUP BY (floor)"
        f" {fair['floor_ms']:.0f} ms ({fair['ratio']:.2f}x) [loaded by COPY in {fair['load_s']:.0f} s]"
    )


def dashboard_bench(server: str) -> None:
    results = run_module("dashboard_measure", environment(f"{server}/alliance_bench"))
    log("\nThe consortium dashboard")
    page, floor = results["page_median_ms"], results["floor_median_ms"]
    log(
        f"  {results['consortium']} ({results['members']} members), {results['requests']} requests,"
        f" in-process: median {page:.1f} ms, p99 {results['page_p99_ms']:.1f} ms;"
        f" authenticated trivial page (floor) median {floor:.2f} ms, p99 {results['floor_p99_ms']:.2f} ms"
        f" (median {page / floor:.1f}x, p99 {results['page_p99_ms'] / results['floor_p99_ms']:.1f}x the floor);"
        f" {results['page_queries']} SQL queries"
    )
    for size, figures in results["sizes"].items():
        log(
            f"  fresh consortium at N={size}: {figures['members']} members, {figures['agreements']} agreements,"
            f" {figures['events']} audit events: {figures['queries']} SQL queries"
        )
    small, large = (figures["queries"] for figures in results["sizes"].values())
    log(f"  query count equal at 4N: {'yes' if small == large else 'NO'} [target: equal]")


WEBHOOKS_DATABASE = "alliance_bench_wh"


def webhooks_bench(server: str) -> None:
    """10,000 events fanned out to 50 endpoints on a local receiver and delivered by a real
    Celery worker (bench/webhooks_fanout.py), against plain keep-alive POSTs."""
    log("\nWebhooks: preparing their own database")
    recreate_database(server, WEBHOOKS_DATABASE)
    env = {
        **environment(f"{server}/{WEBHOOKS_DATABASE}"),
        "REDIS_URL": os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/12"),
        "WEBHOOK_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
    }
    manage(env, "migrate", "--noinput")
    r = run_module("webhooks_fanout", env)
    log(
        f"  fan-out: {r['events']:,} events recorded by {r['producers']} processes (audit_record,"
        f" one transaction each; the audit hook fans out on commit) to {r['endpoints']}"
        f" endpoints: {r['messages_created']:,} messages in {r['fan_out_s']:.0f} s"
        f" ({r['events_per_s']:.0f} events/s, {r['messages_per_s']:,.0f} messages/s)"
    )
    log(
        f"  delivery by a real Celery worker ({r['worker_processes']} processes, Redis):"
        f" {r['deliveries_per_s']:,.0f} deliveries/s (signed, one kept-alive connection per"
        f" endpoint, each attempt logged); plain keep-alive POSTs from 2 processes (floor)"
        f" {r['floor_per_s']:,.0f}/s ({r['ratio']:.2f}x)"
    )
    log(
        f"  receiver (deduplicates on webhook-id): {r['unique']:,} of {r['expected']:,} received,"
        f" lost {r['lost']}, duplicates {r['duplicates']}, bad signatures"
        f" {r['bad_signatures']}; messages {r['statuses']}"
    )


COMPLIANCE_DATABASE = "alliance_bench_c"
COMPLIANCE_PORT = 8771
DECISIONS = "/api/v1/compliance/decisions/"


def compliance_bench(binary: str, arguments: argparse.Namespace) -> None:
    """The decision API against an authenticated bare JSON view (the same API token), paired
    runs, with 10,000 datasets, 500 sites and 2,000 agreements loaded; then a full sweep over
    the live jobs, in-process."""
    log("Compliance: preparing its own database")
    env, database_url, _ = prepare(arguments.server, COMPLIANCE_DATABASE, 1)
    loaded = run_module("compliance_load", env, "--jobs", str(arguments.compliance_jobs))
    log(
        "  loaded by bulk_create and COPY: "
        + ", ".join(f"{label} {seconds:.1f} s" for label, seconds in loaded["load_s"].items())
    )
    settle(database_url)
    body = json.dumps(loaded["body"])
    authorization = ["-H", f"Authorization: Bearer {loaded['token']}"]
    post = [*authorization, "-s", str(ROOT / "bench" / "compliance_post.lua")]
    floor_path = "/bench/floor/authenticated/"
    server = Server(env, COMPLIANCE_PORT)
    runs: dict[str, list[Run]] = {"floor": [], "decision": []}
    try:
        request = urllib.request.Request(
            server.base + DECISIONS,
            data=body.encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {loaded['token']}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)
            log(f"  one decision: HTTP {response.status}, outcome {answer['outcome']}")
        wrk(binary, server.base, floor_path, 2, None, extra=authorization)
        wrk(binary, server.base, DECISIONS, 2, None, extra=post, script_arguments=[body])
        for round_number in range(1, arguments.rounds + 1):
            log(f"  round {round_number}/{arguments.rounds}")
            runs["floor"].append(
                wrk(binary, server.base, floor_path, arguments.seconds, None, extra=authorization)
            )
            runs["decision"].append(
                wrk(
                    binary,
                    server.base,
                    DECISIONS,
                    arguments.seconds,
                    None,
                    extra=post,
                    script_arguments=[body],
                )
            )
    finally:
        server.stop()
    log("Compliance: sweep and one decision, in-process")
    measured = run_module(
        "compliance_measure",
        env,
        "--consortium",
        str(loaded["consortium"]),
        "--username",
        loaded["username"],
        "--body",
        body,
    )
    compliance_report(runs, measured, arguments.compliance_jobs)


def compliance_report(runs: dict[str, list[Run]], measured: dict[str, Any], loaded: int) -> None:
    floor, decision = Series(runs["floor"]), Series(runs["decision"])
    ratio = statistics.median(
        top.requests_per_second / bottom.requests_per_second
        for top, bottom in zip(decision.runs, floor.runs, strict=True)
        if bottom.requests_per_second
    )
    p99 = decision.median("p99_ms")
    log(
        "\nCompliance engine at size: 10,000 datasets, 500 sites, 2,000 agreements in force"
        " (medians; wrk -t1 -c4, gunicorn 2 sync workers)"
    )
    log(f"  {'endpoint':<34}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name, series in (("authenticated floor (a2)", floor), ("POST decisions", decision)):
        log(
            f"  {name:<34}{series.median('requests_per_second'):>10.0f}{series.median('p50_ms'):>9.2f}"
            f"{series.median('p99_ms'):>9.2f}{sum(run.errors for run in series.runs):>8}"
        )
    log(
        f"  authenticated floor: {floor.median('requests_per_second'):.0f} req/s"
        " (reference on this kind of machine: about 1,650)"
    )
    log(
        f"  decisions / authenticated floor = {ratio:.3f} [target >= 0.25: {'met' if ratio >= 0.25 else 'NOT met'}];"
        f" p99 {p99:.1f} ms [target < 50: {'met' if p99 < 50 else 'NOT met'}]"
    )
    one = measured["decision"]
    log(
        f"  one decision in-process: median {one['median_ms']:.1f} ms, outcome {one['outcome']}"
        f" {one['codes'] or ''}; {one['queries']} SQL statements in {one['round_trips']} round"
        f" trips taking {one['sql_ms']:.1f} of {one['total_ms']:.1f} ms; slowest:"
    )
    for query in one["slowest"]:
        log(f"    {query['ms']:7.2f} ms  {query['sql']}")
    log(
        f"  the first decision after a change to the rules (read afresh, then cached):"
        f" {one['cold_ms']:.1f} ms, {one['cold_queries']} SQL queries"
    )
    log(
        f"  a durable commit on this machine (one-row INSERT, WAL flushed): median"
        f" {measured['commit_us']:.0f} us; every stored decision waits for one, the floor for none"
    )
    sweep = measured["sweep"]
    log(f"  floor: reading the live jobs with their data set and site ids {sweep['floor_s']:.1f} s")
    for run in sweep["runs"]:
        what = (
            "opens the findings, each audited; one notification"
            if run["label"] == "first"
            else "nothing new: every finding seen again (the hourly case)"
        )
        log(
            f"  sweep ({run['label']}) over {run['jobs']:,} live jobs: {run['seconds']:.1f} s"
            f" ({run['ratio']:.1f}x the floor; {1000 * run['seconds'] / max(run['jobs'], 1):.2f} ms"
            f" per job; opened {run['opened']:,}, seen {run['seen']:,}, resolved"
            f" {run['resolved']:,}: {what}) [target < 60 s: {'met' if run['seconds'] < 60 else 'NOT met'}]"
        )
    if loaded != 100_000:
        log(f"  (loaded {loaded:,} live jobs, not the 100,000 of the target)")


def documents_bench(server: str) -> None:
    with tempfile.TemporaryDirectory(prefix="alliance-bench-") as scratch:
        env = {
            **environment(f"{server}/alliance_bench"),
            "SIGNING_DEMO_DIR": f"{scratch}/signing",
            "MEDIA_ROOT": f"{scratch}/media",
        }
        manage(env, "signing_init", "--directory", f"{scratch}/signing")
        results = run_module("documents_measure", env)
    log("\nExecuted PDFs: render, seal (PAdES B-B) and validate, against WeasyPrint alone")
    for label, figures in results.items():
        log(
            f"  {label:<9} ({figures['pages']} pages): pipeline median {figures['pipeline_s']:.2f} s;"
            f" WeasyPrint alone (floor) {figures['weasyprint_s']:.2f} s;"
            f" {figures['ratio']:.2f}x [target: at most 1.5x]"
        )


def api_bench(binary: str, arguments: argparse.Namespace) -> None:
    log("Preparing databases (the bench user sees the same rows in both)")
    prepared = {
        "1x": prepare(arguments.server, "alliance_bench", 1),
        "10x": prepare(arguments.server, "alliance_bench_10x", 10),
    }
    counts = query_counts(prepared["1x"][0])
    servers: dict[str, tuple[Server, str]] = {}
    try:
        for size, (env, _, cookie) in prepared.items():
            servers[size] = (Server(env, PORTS[size]), cookie)
        log("Measuring")
        results = measure(binary, servers, arguments.rounds, arguments.seconds)
    finally:
        for server, _ in servers.values():
            server.stop()

    base, grown = results["1x"], results["10x"]
    report(
        "Results at 1x: 200 consortia, 2,000 organisations, 20,000 users (medians; wrk -t1 -c4, gunicorn 2 sync workers)",
        base,
    )
    report("Results at 10x the rows (the bench user sees the same rows)", grown)
    log("\nRatios and targets")
    log(
        f"  floor (a): {base['floor'].median('requests_per_second'):.0f} req/s "
        "(reference on this kind of machine: about 6,900)"
    )
    for name in ENDPOINTS:
        c_over_b = ratio_per_round(base, f"{name} (c)", f"{name} (b)")
        p99 = base[f"{name} (c)"].median("p99_ms")
        growth = ratio_per_round_across(grown, base, f"{name} (c)")
        log(
            f"  {name}: (c)/(b) = {c_over_b:.2f} [target >= 0.50]; p99 {p99:.1f} ms [target < 50]; "
            f"10x rows / 1x = {growth:.2f} [target >= 0.80]"
        )
        sizes = counts[name]
        log(
            f"    SQL queries per request: page size 10 -> {sizes[10]}, 100 -> {sizes[100]} [target: equal]"
        )


def ratio_per_round_across(top: dict[str, Series], bottom: dict[str, Series], name: str) -> float:
    """Median over rounds of top/bottom, each normalised by its own paired floor."""
    ratios = []
    for index, (high, low) in enumerate(zip(top[name].runs, bottom[name].runs, strict=True)):
        high_floor = _paired_floor(top, name, index)
        low_floor = _paired_floor(bottom, name, index)
        if low.requests_per_second and high_floor and low_floor:
            ratios.append(
                (high.requests_per_second / high_floor) / (low.requests_per_second / low_floor)
            )
    return statistics.median(ratios) if ratios else float("nan")


def _paired_floor(series: dict[str, Series], name: str, round_index: int) -> float:
    names = [key for key in series if key not in {"floor", "floor (paired)"}]
    position = round_index * len(names) + names.index(name)
    return series["floor (paired)"].runs[position].requests_per_second


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
