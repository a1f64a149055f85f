"""Every page of the URL configuration, walked as a signed-in chair and anonymously, carries
the security headers, runs nothing inline, and refuses a form post without its CSRF token.

The walk starts at the home page of the demo world (``seed_demo``) and follows every link and
htmx URL it finds, one sample per route. Each POST form it meets is then sent without its
token. Every route of the URL configuration must have been met one way or the other, or be
named in NOT_WALKED with the reason, so a new page is checked the moment it is routed.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from io import StringIO
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

from consortia.models import User
from tests.test_settings import PRODUCTION, run_manage

STRICT_POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "font-src": {"'self'"},
    "connect-src": {"'self'"},
    "object-src": {"'none'"},
    "base-uri": {"'self'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
}
# The one page whose script writes <style> elements and starts a worker from a blob (ReDoc);
# its scripts are still only its own (alliance/api/doc_pages.py).
RELAXED = {
    "api/v1/redoc/": {
        **STRICT_POLICY,
        "style-src": {"'self'", "'unsafe-inline'"},
        "worker-src": {"'self'", "blob:"},
    }
}
# Walked besides the links: the API's documentation pages and the admin's front door.
SEEDS = ("/", "/accounts/login/", "/api/v1/docs/", "/api/v1/redoc/", "/admin/login/")
# Followed by no walk: the API (JSON, tests/contract), the OAuth token endpoints (JSON), the
# admin (Django's own pages; its login is a seed), static files, and the SSO redirects to an
# organisation's identity provider, which is another host.
NOT_FOLLOWED = ("/api/", "/oauth/", "/admin/", "/static/", "/accounts/sso/oidc/")
# Routes no walk can reach, and why.
NOT_WALKED = {
    # The identity provider's side of SSO: a redirect to another host and its callback.
    "accounts/sso/oidc/<str:provider_id>/login/",
    "accounts/sso/oidc/<str:provider_id>/login/callback/",
}


def routes() -> set[str]:
    """Every page route outside the API, the OAuth endpoints and the admin."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    return {
        route
        for route in walk(get_resolver().url_patterns, "")
        if not route.startswith(("api/", "oauth/", "admin/"))
    }


class Page(HTMLParser):
    """What a page links to, the POST forms it holds, and anything in it that a strict
    content security policy would refuse."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[Form] = []
        self.inline: list[str] = []
        self._script_without_source = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            if name == "style" or name.startswith("on"):
                self.inline.append(f"<{tag} {name}={value!r}>")
            if value.strip().lower().startswith("javascript:"):
                self.inline.append(f"<{tag} {name}={value!r}>")
        if tag == "style":
            self.inline.append("<style> element")
        if tag == "script":
            self._script_without_source = "src" not in values
        if tag == "a" and "href" in values:
            self.links.append(values["href"])
        for name in ("hx-get", "data-url"):
            if name in values:
                self.links.append(values[name])
        if tag == "form":
            method = values.get("method", "get").lower()
            action = values.get("hx-post") or values.get("action", "")
            if method == "post" or "hx-post" in values:
                self.forms.append(Form(action))
            else:
                self.links.append(action)
        if tag in {"input", "select", "textarea", "button"} and self.forms and values.get("name"):
            self.forms[-1].fields[values["name"]] = values.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._script_without_source and data.strip():
            self.inline.append(f"inline <script>: {data.strip()[:60]!r}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script_without_source = False


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class Visit:
    url: str
    status: int
    route: str


def route_of(path: str) -> str | None:
    try:
        return resolve(path).route
    except Resolver404:
        return None


def policy(header: str) -> dict[str, set[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: set(values) for name, *values in directives}


PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


def answered(response: Any, url: str) -> bool:
    """No server error; the readiness probe's 503 (no worker runs here) is its honest answer."""
    return bool(response.status_code < 500 or (url == "/readyz" and response.status_code == 503))


def check_headers(response: Any, url: str) -> list[str]:
    """What is wrong with the answer's security headers (and, for a page, its markup)."""
    problems = []
    expected_headers = {
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    for name, value in expected_headers.items():
        if response.headers.get(name) != value:
            problems.append(f"{url}: {name} is {response.headers.get(name)!r}")
    route = route_of(urlsplit(url).path)
    expected_policy = RELAXED.get(route or "", STRICT_POLICY)
    found = policy(response.headers.get("Content-Security-Policy", ""))
    if found != expected_policy:
        problems.append(f"{url}: Content-Security-Policy is {found}")
    if response.headers.get("Content-Type", "").startswith("text/html"):
        page = Page()
        page.feed(response.content.decode())
        problems += [f"{url}: {thing}" for thing in page.inline]
    return problems


@dataclass
class Walk:
    visits: list[Visit] = field(default_factory=list)
    forms: dict[str, tuple[str, Form]] = field(default_factory=dict)  # route -> (url, form)
    problems: list[str] = field(default_factory=list)


def walk(client: Client, seeds: tuple[str, ...]) -> Walk:
    """Breadth first from ``seeds``, one URL per route, following links and redirects."""
    result = Walk()
    queue: deque[str] = deque(seeds)
    seen_urls: set[str] = set()
    seen_routes: set[str] = set()
    while queue:
        url = queue.popleft()
        parts = urlsplit(url)
        if parts.scheme not in {"", "http"} or parts.netloc not in {"", "testserver"}:
            continue
        url = parts.path + (f"?{parts.query}" if parts.query else "")
        route = route_of(parts.path)
        if url in seen_urls or route is None or route in seen_routes:
            continue
        seen_urls.add(url)
        if url not in seeds and parts.path.startswith(NOT_FOLLOWED):
            continue
        seen_routes.add(route)
        response = client.get(url)
        result.visits.append(Visit(url, response.status_code, route))
        assert answered(response, url), (url, response.status_code)
        result.problems += check_headers(response, url)
        if response.status_code in {301, 302}:
            queue.append(urljoin(url, response["Location"]))
        if not response.headers.get("Content-Type", "").startswith("text/html"):
            continue
        page = Page()
        page.feed(response.content.decode())
        queue.extend(urljoin(url, link) for link in page.links if not link.startswith("#"))
        for form in page.forms:
            action = urljoin(url, form.action or url)
            form_route = route_of(urlsplit(action).path)
            if form_route is not None and form_route not in result.forms:
                result.forms[form_route] = (action, form)
    return result


@pytest.fixture
def demo(db: Any) -> User:
    """The demo world, with the objects it lacks (exports, a checkpoint, a meeting, a
    proxy: tests/contract), and its chair of the EU consortium, amelie."""
    from tests.contract.conftest import add_what_the_demo_lacks

    call_command("seed_demo", "--force", stdout=StringIO())
    amelie = User.objects.get(username="amelie")
    add_what_the_demo_lacks(amelie)
    return amelie


def concrete(route: str) -> str:
    """A URL of ``route`` with made-up ids: enough for the CSRF check, which refuses a post
    before any view looks anything up."""
    return "/" + re.sub(r"<int:\w+>", "1", re.sub(r"<(?:str|slug):\w+>", "x", route))


def test_every_page_has_the_security_headers_and_every_route_its_csrf_check(
    demo: User, unchanged: Any
) -> None:
    member = Client()
    member.force_login(demo)
    seeds = (*SEEDS, f"/organisations/{demo.organisation_id}/")
    as_member, as_anonymous = walk(member, seeds), walk(Client(), seeds)
    assert as_member.problems == []
    assert as_anonymous.problems == []
    walked = {visit.route for visit in (*as_member.visits, *as_anonymous.visits)}

    # The routes no walk met (objects the demo lacks, pages that only a form's post reaches)
    # are asked for at a made-up address: whatever they answer has the same headers.
    targets = {route: concrete(route) for route in routes() - NOT_WALKED}
    targets.update({route: url for route, (url, _) in as_member.forms.items()})
    targets.update({visit.route: visit.url for visit in as_member.visits})
    for route in sorted(set(targets) - walked):
        response = member.get(targets[route])
        assert answered(response, targets[route]), (route, response.status_code)
        assert check_headers(response, targets[route]) == []

    # Anonymously, every one of them: sent to sign in or refused, with the same headers.
    anonymous = Client()
    for url in sorted(set(targets.values())):
        response = anonymous.get(url)
        assert answered(response, url), (url, response.status_code)
        assert check_headers(response, url) == []

    # Every route refuses a post without the CSRF token, and nothing changes. A form the walk
    # found is posted with its own fields, so the refusal is not for want of them.
    fields = {route: form.fields for route, (_, form) in as_member.forms.items()}
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(demo)
    accepted = []
    with unchanged():
        for route, url in sorted(targets.items()):
            data = {k: v for k, v in fields.get(route, {}).items() if k != "csrfmiddlewaretoken"}
            response = strict.post(url, data)
            # The probes and /metrics answer before sessions and CSRF, and only to GET.
            refused = 405 if url in PROBES else 403
            if response.status_code != refused:
                accepted.append((url, response.status_code))
            assert check_headers(response, url) == []
    assert accepted == []

    # For the record (pytest -s shows it).
    print(  # noqa: T201
        f"\nsecurity headers: {len(as_member.visits)} pages walked as a member, "
        f"{len(as_anonymous.visits)} walked anonymously, {len(set(targets) - walked)} further "
        f"routes asked for; {len(set(targets.values()))} URLs asked for anonymously; "
        f"{len(targets)} routes refused a post without a CSRF token "
        f"({len(as_member.forms)} of them with a form's own fields); "
        f"{len(routes())} page routes in all, {len(NOT_WALKED)} unwalkable"
    )


def test_a_sign_in_without_its_csrf_token_is_refused() -> None:
    response = Client(enforce_csrf_checks=True).post(
        "/accounts/login/", {"username": "member", "password": "password"}
    )
    assert response.status_code == 403


def test_production_cookies_are_secure_http_only_and_same_site() -> None:
    """In production settings (DEBUG off), read from a fresh process."""
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'session_secure': s.SESSION_COOKIE_SECURE, 'session_http_only': s.SESSION_COOKIE_HTTPONLY,"
        "'session_same_site': s.SESSION_COOKIE_SAMESITE, 'csrf_secure': s.CSRF_COOKIE_SECURE,"
        "'csrf_same_site': s.CSRF_COOKIE_SAMESITE, 'ssl_redirect': s.SECURE_SSL_REDIRECT,"
        "'hsts': s.SECURE_HSTS_SECONDS}))"
    )
    result = run_manage("shell", "-c", script, environment=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "session_secure": True,
        "session_http_only": True,
        "session_same_site": "Lax",
        "csrf_secure": True,
        "csrf_same_site": "Lax",
        "ssl_redirect": True,
        "hsts": 31_536_000,
    }


def test_the_session_cookie_a_sign_in_sets_carries_those_flags(db: Any, settings: Any) -> None:
    from tests.consortia.factories import UserFactory

    settings.SESSION_COOKIE_SECURE = True
    UserFactory.create(username="member")
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "member", "password": "password"}, secure=True
    )
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Lax"
