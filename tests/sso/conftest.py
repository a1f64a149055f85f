"""A real OpenID Connect provider for the single sign-on tests, and a person to drive it.

``oidc_providers`` runs tests/sso/provider/server.js (node-oidc-provider) once per session:
one Node process serving two providers with different issuers and signing keys, A and B, so
tests can prove that a claim is accepted only from the organisation's own provider. It
installs the provider's packages with ``npm ci`` the first time (from package-lock.json),
so neither CI nor a developer needs a step of their own. ``Person`` is a browser made of
``requests``: it starts a sign-in on Alliance's live server, types a login into the
provider's own sign-in form and comes back with the provider's answer.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import pytest
import requests

from alliance.sso import services
from alliance.sso.models import IdentityProvider
from consortia.models import Organisation, User

PROVIDER_DIR = Path(__file__).parent / "provider"
# Long enough for the HS256 client, whose ID tokens the provider signs with it.
CLIENT_SECRET = "alliance-tests-client-secret-0123456789abcdef"
# Clients registered at both providers: Alliance's usual one, one whose ID tokens live a
# minute, one whose ID tokens are HMAC-signed with the client secret, and another relying
# party (tokens issued to it must not sign anyone in to Alliance).
CLIENTS: dict[str, dict[str, str | int]] = {
    "alliance": {},
    "alliance-short": {"id_token_ttl": 60},
    "alliance-hs256": {"id_token_signed_response_alg": "HS256"},
    "other-app": {},
}
# Clients may be sent back to any page on localhost: the live server's port is chosen when it
# starts (and the ID token tests need no live server at all).
REDIRECT_PREFIX = "http://localhost:"


@dataclass(frozen=True)
class Providers:
    a: str
    b: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _install_packages() -> None:
    if (PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json").is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("The single sign-on tests need Node.js 20+ and npm (tests/sso/provider).")
    installed = subprocess.run(  # noqa: S603 - a fixed command on the repository's own lock file
        [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(PROVIDER_DIR)],
        check=False,
        timeout=600,
        capture_output=True,
        text=True,
    )
    if installed.returncode != 0:
        pytest.fail(f"npm ci in {PROVIDER_DIR} failed:\n{installed.stdout}{installed.stderr}")


def _wait_until_ready(process: subprocess.Popen[bytes], issuers: list[str], log: Path) -> None:
    deadline = time.monotonic() + 60
    waiting = list(issuers)
    while waiting:
        if process.poll() is not None:
            pytest.fail(f"The test OpenID provider stopped:\n{log.read_text()}")
        try:
            requests.get(f"{waiting[0]}/.well-known/openid-configuration", timeout=2)
            waiting.pop(0)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("The test OpenID provider did not start within 60 seconds.")
            time.sleep(0.1)


@pytest.fixture(scope="session")
def oidc_providers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Providers]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("The single sign-on tests need Node.js 20+ (tests/sso/provider).")
    _install_packages()
    ports = [_free_port(), _free_port()]
    clients = [
        {
            "client_id": client_id,
            "client_secret": CLIENT_SECRET,
            "redirect_prefix": REDIRECT_PREFIX,
            **extra,
        }
        for client_id, extra in CLIENTS.items()
    ]
    # Its output goes to a file, which nothing has to keep reading while the tests run.
    log = tmp_path_factory.mktemp("oidc-provider") / "output.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - node on the repository's own script
            [node, "server.js", *map(str, ports)],
            cwd=PROVIDER_DIR,
            env={**os.environ, "OIDC_CLIENTS": json.dumps(clients)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    issuers = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        _wait_until_ready(process, issuers, log)
        yield Providers(a=issuers[0], b=issuers[1])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def sso_settings(settings: Any) -> Any:
    """The live server over plain http: session cookies must travel without TLS, and the
    test providers are http issuers on the loopback interface."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SSO_ALLOW_LOOPBACK_HTTP_ISSUERS = True
    return settings


def provider_for(
    organisation: Organisation,
    issuer: str,
    *,
    client_id: str = "alliance",
    auto_create_accounts: bool = True,
    email_domains: tuple[str, ...] = (),
    is_enabled: bool = True,
) -> IdentityProvider:
    """Set up the organisation's provider as its admin would, through the service."""
    admin = User.objects.filter(organisation=organisation, is_organisation_admin=True).first()
    assert admin is not None, "the organisation needs an admin"
    return services.identity_provider_save(
        actor=admin,
        organisation=organisation,
        terms=services.ProviderSettings(
            issuer=issuer,
            client_id=client_id,
            client_secret=CLIENT_SECRET,
            email_domains=email_domains,
            is_enabled=is_enabled,
            auto_create_accounts=auto_create_accounts,
        ),
    )


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


class Person:
    """Someone with a browser (cookies, redirects) who knows a login at the test providers."""

    def __init__(self, alliance_url: str) -> None:
        self.alliance_url = alliance_url
        self.session = requests.Session()

    def _csrf(self, path: str) -> str:
        page = self.session.get(self.alliance_url + path, timeout=10)
        match = CSRF.search(page.text)
        assert match, f"no form on {path}"
        return match.group(1)

    def sign_in_locally(self, username: str, password: str = "password") -> None:  # noqa: S107
        token = self._csrf("/accounts/login/")
        answer = self.session.post(
            self.alliance_url + "/accounts/login/",
            data={"csrfmiddlewaretoken": token, "username": username, "password": password},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 302, answer.text[:500]

    def start_with_email(self, email: str) -> requests.Response:
        """The sign-in page's "Sign in with your organisation" form."""
        token = self._csrf("/accounts/login/")
        return self.session.post(
            self.alliance_url + "/accounts/sso/start/",
            data={"csrfmiddlewaretoken": token, "email": email, "next": ""},
            allow_redirects=False,
            timeout=10,
        )

    def start_with_link(self, provider_id: str) -> requests.Response:
        """The organisation's sign-in link: a page, then a click."""
        path = f"/accounts/sso/oidc/{provider_id}/login/"
        token = self._csrf(path)
        return self.session.post(
            self.alliance_url + path,
            data={"csrfmiddlewaretoken": token, "next": ""},
            allow_redirects=False,
            timeout=10,
        )

    def start_linking(self) -> requests.Response:
        token = self._csrf("/accounts/sso/link/")
        return self.session.post(
            self.alliance_url + "/accounts/sso/link/",
            data={"csrfmiddlewaretoken": token},
            allow_redirects=False,
            timeout=10,
        )

    def sign_in_at_provider(self, started: requests.Response, login: str) -> str:
        """Follow Alliance's redirect to the provider, sign in there as ``login``, and return
        the provider's answer: the URL it sends the browser back to (not yet visited)."""
        assert started.status_code == 302, started.text[:500]
        return self.sign_in_at(started.headers["Location"], login)

    def sign_in_at(self, url: str, login: str, *, back_to: str = "") -> str:
        """From the provider's authorisation URL to its answer (the first URL that starts with
        ``back_to``, Alliance by default), signing in as ``login``."""
        for _ in range(10):
            if url.startswith(back_to or self.alliance_url):
                return url
            answer = self.session.get(url, allow_redirects=False, timeout=10)
            if answer.is_redirect:
                url = urljoin(url, answer.headers["Location"])
                continue
            action = FORM_ACTION.search(answer.text)
            assert answer.status_code == 200, answer.text
            assert action, answer.text
            answer = self.session.post(
                urljoin(url, html.unescape(action.group(1))),
                data={"prompt": "login", "login": login, "password": "anything"},
                allow_redirects=False,
                timeout=10,
            )
            assert answer.is_redirect, answer.text[:500]
            url = urljoin(url, answer.headers["Location"])
        raise AssertionError(f"the provider never sent the browser back (last: {url})")

    def come_back(self, answer_url: str) -> requests.Response:
        """Visit the provider's answer on Alliance and follow where Alliance sends us."""
        return self.session.get(answer_url, timeout=30)

    def sign_in_with_email(self, email: str, login: str) -> requests.Response:
        return self.come_back(self.sign_in_at_provider(self.start_with_email(email), login))

    def page(self, path: str) -> requests.Response:
        return self.session.get(self.alliance_url + path, allow_redirects=False, timeout=10)


def with_query(url: str, **changes: str | None) -> str:
    """``url`` with query parameters replaced (or removed, for None)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


def messages_on(page: requests.Response) -> list[str]:
    block = re.search(r'<ul class="messages".*?</ul>', page.text, re.S)
    if block is None:
        return []
    return [html.unescape(item) for item in re.findall(r"<li[^>]*>(.*?)</li>", block.group(0))]
