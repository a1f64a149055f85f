"""A partner portal's client for Alliance, with nothing but Python's standard library.

    python partner_client.py agreements   # lists the agreements the client may read
    python partner_client.py usage POOL_ID usage.csv
    python partner_client.py verify < webhook.json  # {"headers": {...}, "body": "..."}

Configuration comes from the environment: ALLIANCE_URL (e.g. https://alliance.example.eu),
ALLIANCE_CLIENT_ID and ALLIANCE_CLIENT_SECRET (from your organisation's "API clients" page),
and ALLIANCE_WEBHOOK_SECRET (whsec_..., from the webhook endpoint's page) for ``verify``.
Copy what you need: the functions below are the whole integration.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any


class AllianceError(Exception):
    """An answer other than success, with the problem the API described."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class Alliance:
    """Obtains a token with the client credentials and renews it shortly before it expires."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, scope: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self._token = ""
        self._expires_at = 0.0

    def token(self) -> str:
        if time.monotonic() < self._expires_at - 30:
            return self._token
        credentials = (
            f"{urllib.parse.quote(self.client_id)}:{urllib.parse.quote(self.client_secret)}"
        )
        form = {"grant_type": "client_credentials", **({"scope": self.scope} if self.scope else {})}
        request = urllib.request.Request(
            self.base_url + "/oauth/token/",
            data=urllib.parse.urlencode(form).encode(),
            headers={
                "Authorization": "Basic " + base64.b64encode(credentials.encode()).decode(),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        answer = self._send(request)
        self._token = answer["access_token"]
        self._expires_at = time.monotonic() + float(answer["expires_in"])
        return self._token

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        url = path if path.startswith("http") else self.base_url + path
        request = urllib.request.Request(
            url,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {self.token()}",
                "Accept": "application/json",
                **({"Content-Type": "application/json"} if body is not None else {}),
                **(headers or {}),
            },
        )
        return self._send(request)

    def pages(self, path: str) -> Iterator[dict[str, Any]]:
        """Every row of a list, following the cursor links."""
        next_url: str | None = path
        while next_url:
            page = self.call("GET", next_url)
            yield from page["results"]
            next_url = page.get("next")

    @staticmethod
    def _send(request: urllib.request.Request) -> Any:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            raise AllianceError(error.code, body) from None


def list_agreements(alliance: Alliance) -> list[dict[str, Any]]:
    return list(alliance.pages("/api/v1/agreements/"))


def post_usage(alliance: Alliance, pool_id: int, csv_text: str) -> Any:
    """Report daily GPU usage. The Idempotency-Key makes a retry after a timeout safe: the
    server answers the first result again instead of recording twice."""
    key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{pool_id}:{csv_text}"))
    return alliance.call(
        "POST", f"/api/v1/pools/{pool_id}/usage/", {"csv": csv_text}, {"Idempotency-Key": key}
    )


class WebhookVerificationError(Exception):
    pass


class WebhookVerifier:
    """Checks a delivery as the Standard Webhooks spec says: an HMAC-SHA256 signature over
    ``id.timestamp.body`` with the endpoint's secret, a timestamp within five minutes, and
    (what the spec leaves to receivers) an id not seen before, so a replay is refused."""

    TOLERANCE_SECONDS = 5 * 60

    def __init__(self, secret: str) -> None:
        self.key = base64.b64decode(secret.removeprefix("whsec_"))
        self.seen: set[str] = set()

    def verify(self, headers: dict[str, str], body: bytes, now: float | None = None) -> Any:
        lower = {name.lower(): value for name, value in headers.items()}
        try:
            message_id = lower["webhook-id"]
            timestamp = lower["webhook-timestamp"]
            signatures = lower["webhook-signature"]
        except KeyError as missing:
            raise WebhookVerificationError(f"unsigned: no {missing.args[0]} header") from None
        current = time.time() if now is None else now
        if not timestamp.isdigit() or abs(current - int(timestamp)) > self.TOLERANCE_SECONDS:
            raise WebhookVerificationError("timestamp too old or too new")
        signed = f"{message_id}.{timestamp}.".encode() + body
        expected = base64.b64encode(hmac.new(self.key, signed, hashlib.sha256).digest()).decode()
        # During a secret rotation the header carries one signature per secret.
        offered = [part.split(",", 1)[1] for part in signatures.split() if part.startswith("v1,")]
        if not any(hmac.compare_digest(expected, candidate) for candidate in offered):
            raise WebhookVerificationError("signature does not match")
        if message_id in self.seen:
            raise WebhookVerificationError(f"replayed: {message_id} was already received")
        self.seen.add(message_id)
        return json.loads(body)


def main(arguments: list[str]) -> int:
    if arguments[:1] == ["verify"]:
        delivery = json.load(sys.stdin)
        verifier = WebhookVerifier(os.environ["ALLIANCE_WEBHOOK_SECRET"])
        event = verifier.verify(delivery["headers"], delivery["body"].encode())
        print(json.dumps(event, indent=2))
        return 0
    alliance = Alliance(
        os.environ["ALLIANCE_URL"],
        os.environ["ALLIANCE_CLIENT_ID"],
        os.environ["ALLIANCE_CLIENT_SECRET"],
    )
    try:
        if arguments[:1] == ["agreements"]:
            for agreement in list_agreements(alliance):
                print(f"{agreement['id']}\t{agreement['status']}\t{agreement['title']}")
            return 0
        if arguments[:1] == ["usage"] and len(arguments) == 3:
            with open(arguments[2], encoding="utf-8") as report:
                print(json.dumps(post_usage(alliance, int(arguments[1]), report.read()), indent=2))
            return 0
    except AllianceError as error:
        print(f"Alliance refused: {error}", file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
