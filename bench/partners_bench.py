"""Partner-client tokens against sessions: the same list endpoint, the same rows, the same
gunicorn, loaded by wrk in alternating paired runs; the figure is token req/s ÷ session req/s
per round (target >= 0.9), with the bare-view floor alongside."""

from __future__ import annotations

import statistics

from bench.run import PORTS, Series, Server, log, manage, prepare, wrk

PATH = "/api/v1/consortia/?page_size=50"


def client_token(env: dict[str, str]) -> str:
    """A client of the bench user's organisation over all of its consortia, with every
    scope, and a token for it (obtained through the real token endpoint's validator)."""
    code = (
        "from datetime import timedelta;"
        "from django.test import Client;"
        "from django.utils import timezone;"
        "from alliance.partners import selectors, services;"
        "from alliance.partners.catalogue import SCOPES;"
        "from consortia.models import User;"
        "user = User.objects.get(username='bench');"
        "User.objects.filter(pk=user.pk).update(is_organisation_admin=True);"
        "user.refresh_from_db();"
        "ids = frozenset(selectors.consortia_open_to(user.organisation).values_list('id', flat=True));"
        "terms = services.ClientTerms('Bench portal', ids, frozenset(SCOPES), (), timezone.now() + timedelta(days=1));"
        "partner, secret = services.client_create(actor=user, organisation=user.organisation, terms=terms);"
        "answer = Client().post('/oauth/token/', {'grant_type': 'client_credentials'},"
        " HTTP_AUTHORIZATION='Basic ' + __import__('base64').b64encode(f'{partner.client_id}:{secret}'.encode()).decode());"
        "print(answer.json()['access_token'])"
    )
    return manage(env, "shell", "-c", code).strip().splitlines()[-1]


def same_rows(base: str, cookie: str, token: str) -> bool:
    import json
    import urllib.request

    def ids(headers: dict[str, str]) -> list[int]:
        request = urllib.request.Request(base + PATH, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return [row["id"] for row in json.load(response)["results"]]

    return ids({"Cookie": f"sessionid={cookie}"}) == ids({"Authorization": f"Bearer {token}"})


def run(binary: str, server_url: str, rounds: int, seconds: int) -> None:
    log("Partner clients: token-authenticated lists against session-authenticated ones")
    env, _, cookie = prepare(server_url, "alliance_bench_partners", 1)
    token = client_token(env)
    bearer = ["-H", f"Authorization: Bearer {token}"]
    server = Server(env, PORTS["1x"])
    series = {"floor": Series(), "session": Series(), "token": Series()}
    try:
        if not same_rows(server.base, cookie, token):
            log("  the token and the session see different rows: the comparison is void")
            return
        wrk(binary, server.base, PATH, 2, cookie)
        wrk(binary, server.base, PATH, 2, None, bearer)
        for number in range(1, rounds + 1):
            log(f"  round {number}/{rounds}")
            series["floor"].runs.append(wrk(binary, server.base, "/bench/floor/", seconds, None))
            # Alternate which goes first, so neither always gets the warmer machine.
            order = ("session", "token") if number % 2 else ("token", "session")
            for name in order:
                if name == "session":
                    series[name].runs.append(wrk(binary, server.base, PATH, seconds, cookie))
                else:
                    series[name].runs.append(wrk(binary, server.base, PATH, seconds, None, bearer))
    finally:
        server.stop()
    floor = series["floor"].median("requests_per_second")
    log(f"  {'auth':<10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'÷ floor':>9}{'errors':>8}")
    for name, values in series.items():
        rate = values.median("requests_per_second")
        log(
            f"  {name:<10}{rate:>10.0f}{values.median('p50_ms'):>9.2f}"
            f"{values.median('p99_ms'):>9.2f}{rate / floor:>9.3f}"
            f"{sum(r.errors for r in values.runs):>8}"
        )
    ratios = [
        token.requests_per_second / session.requests_per_second
        for token, session in zip(series["token"].runs, series["session"].runs, strict=True)
        if session.requests_per_second
    ]
    log(
        f"  token ÷ session = {statistics.median(ratios):.2f} (median of {len(ratios)} paired "
        "rounds) [target >= 0.9]"
    )
