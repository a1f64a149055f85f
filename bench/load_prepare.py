"""The load mix against a national-scale world: who sends what, and how often.

Four people of different organisations, each technical member of one of the largest seeded
consortia, browse with a session cookie (home, consortium dashboard, an agreement, the
activity feed, their pool) and call the API with a knox token (agreement list, usage report,
audit list); a person of the demo's Gulf Health consortium asks for compliance decisions.
Writes the mix as a Lua table for bench/load.lua and prints a JSON summary.

Run by bench/load_bench.py as ``python -m bench.load_prepare --out FILE``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, field
from typing import Any

PEOPLE = 4
USAGE_DAY = "2026-11-29"  # inside the seeded ledger: a site re-sending a day it reported

# (label, share of all requests in percent): half pages, half API, as a consortium's
# people and their pipelines would send them.
WEIGHTS = {
    "page: home": 10,
    "page: consortium dashboard": 12,
    "page: agreement": 10,
    "page: activity feed": 8,
    "page: compute pool": 10,
    "api: agreement list": 15,
    "api: usage report (POST)": 10,
    "api: audit event list": 10,
    "api: compliance decision (POST)": 15,
}


@dataclass
class Request:
    label: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    weight: float = 1.0


def _session(user: Any) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return str(session.session_key)


def _token(user: Any) -> str:
    from knox.models import AuthToken

    _, token = AuthToken.objects.create(user=user)
    return str(token)


def _people() -> list[Any]:
    """Technical members of the largest seeded consortia, one organisation each."""
    from django.db.models import Count, F

    from consortia.models import Consortium, Role, RoleAssignment

    largest = (
        Consortium.objects.filter(name__startswith="Nation ")
        .annotate(members=Count("memberships"))
        .order_by("-members", "pk")[: PEOPLE * 3]
    )
    chosen: list[Any] = []
    organisations: set[int | None] = set()
    for consortium in largest:
        assignment = (
            RoleAssignment.objects.filter(
                consortium=consortium,
                role=Role.TECHNICAL,
                consortium__memberships__organisation=F("user__organisation"),
                consortium__memberships__status="active",
            )
            .select_related("user", "consortium")
            .order_by("user__username")
            .first()
        )
        if assignment and assignment.user.organisation_id not in organisations:
            organisations.add(assignment.user.organisation_id)
            chosen.append(assignment)
        if len(chosen) == PEOPLE:
            break
    return chosen


def _person_requests(assignment: Any) -> list[Request]:
    from agreements.models import Agreement
    from compute.models import Pool

    user, consortium = assignment.user, assignment.consortium
    cookie = {"Cookie": f"sessionid={_session(user)}"}
    bearer = {"Authorization": f"Bearer {_token(user)}"}
    agreement = Agreement.objects.filter(consortium=consortium).order_by("pk").first()
    pool = Pool.objects.filter(consortium=consortium).order_by("pk").first()
    assert agreement is not None, "run seed_world first"
    assert pool is not None, "run seed_world first"
    site = pool.sites.order_by("pk").first()
    assert site is not None
    usage = {
        "rows": [
            {
                "organisation": user.organisation_id,
                "site": site.pk,
                "day": USAGE_DAY,
                "gpu_hours": "12.50",
            }
        ]
    }
    json_bearer = {**bearer, "Content-Type": "application/json"}
    return [
        Request("page: home", "GET", "/", cookie),
        Request("page: consortium dashboard", "GET", f"/consortia/{consortium.pk}/", cookie),
        Request("page: agreement", "GET", f"/agreements/{agreement.pk}/", cookie),
        Request("page: activity feed", "GET", f"/consortia/{consortium.pk}/activity/", cookie),
        Request("page: compute pool", "GET", f"/compute/pools/{pool.pk}/", cookie),
        Request(
            "api: agreement list",
            "GET",
            f"/api/v1/agreements/?consortium={consortium.pk}&page_size=50",
            bearer,
        ),
        Request(
            "api: usage report (POST)",
            "POST",
            f"/api/v1/pools/{pool.pk}/usage/",
            json_bearer,
            json.dumps(usage),
        ),
        Request(
            "api: audit event list",
            "GET",
            f"/api/v1/audit/events/?consortium={consortium.pk}&page_size=50",
            bearer,
        ),
    ]


def _compliance_request() -> Request:
    """The demo's federated job at Gulf Health, asked again by the person who proposed it."""
    from compute.compliance.models import Job
    from consortia.models import User

    job = Job.objects.filter(consortium__name__startswith="Gulf Health").order_by("pk").first()
    assert job is not None, "run seed_demo first"
    body = {
        "consortium": job.consortium_id,
        "datasets": sorted(job.datasets.values_list("pk", flat=True)),
        "sites": sorted(job.sites.values_list("pk", flat=True)),
        "purpose": job.purpose,
        "action": job.action,
        "movement": job.movement,
        "output_jurisdiction": job.output_jurisdiction_id,
        "starts_at": "2027-02-01T00:00:00Z",
        "ends_at": "2027-02-10T00:00:00Z",
    }
    token = _token(User.objects.get(username="omar"))
    return Request(
        "api: compliance decision (POST)",
        "POST",
        "/api/v1/compliance/decisions/",
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        json.dumps(body),
    )


def _lua_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def as_lua(requests: list[Request]) -> str:
    lines = ["return {"]
    for request in requests:
        headers = ", ".join(
            f"[{_lua_string(name)}] = {_lua_string(value)}"
            for name, value in request.headers.items()
        )
        lines.append(
            f"  {{label = {_lua_string(request.label)}, weight = {request.weight},"
            f" method = {_lua_string(request.method)}, path = {_lua_string(request.path)},"
            f" headers = {{{headers}}}, body = {_lua_string(request.body) if request.body else 'nil'}}},"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> None:
    import django

    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True, help="Where to write the Lua table.")
    arguments = parser.parse_args()
    django.setup()
    from consortia.models import User

    people = _people()
    assert len(people) == PEOPLE, f"found {len(people)} people of different organisations"
    requests = [request for person in people for request in _person_requests(person)]
    requests.append(_compliance_request())
    per_label: dict[str, int] = {}
    for request in requests:
        per_label[request.label] = per_label.get(request.label, 0) + 1
    for request in requests:
        request.weight = WEIGHTS[request.label] / per_label[request.label]
    with open(arguments.out, "w", encoding="utf-8") as file:
        file.write(as_lua(requests))
    floor_user = people[0].user
    print(
        json.dumps(
            {
                "people": [
                    f"{person.user.username} ({person.user.organisation}) in {person.consortium}"
                    for person in people
                ],
                "floor_token": _token(User.objects.get(pk=floor_user.pk)),
                "requests": [asdict(request) for request in requests],
            }
        )
    )


if __name__ == "__main__":
    main()
