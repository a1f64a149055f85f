"""Standard Webhooks signing: the spec's own test vector, rotation with two signatures, and a
receiver's verify() refusing what it must. Secrets are encrypted at rest."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from cryptography.fernet import InvalidToken

from alliance.webhooks import signing, vault
from alliance.webhooks.signing import WebhookVerificationError

# The example of the Standard Webhooks specification and its reference libraries.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_specifications_test_vector() -> None:
    assert signing.sign(SECRET, MSG_ID, TIMESTAMP, BODY) == SIGNATURE
    headers = signing.headers([SECRET], MSG_ID, TIMESTAMP, BODY)
    assert headers == {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(TIMESTAMP),
        "webhook-signature": SIGNATURE,
    }
    assert signing.verify(SECRET, headers, BODY, now=TIMESTAMP + 10) == MSG_ID


def test_generated_secrets_are_whsec_and_32_random_bytes() -> None:
    first, second = signing.generate_secret(), signing.generate_secret()
    assert first.startswith("whsec_")
    assert first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32


def test_during_rotation_both_signatures_are_sent_and_either_secret_verifies() -> None:
    new, old = signing.generate_secret(), signing.generate_secret()
    now = int(time.time())
    headers = signing.headers([new, old], MSG_ID, now, BODY)
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert all(s.startswith("v1,") for s in signatures)
    assert signing.verify(old, headers, BODY) == MSG_ID  # a receiver not yet switched
    assert signing.verify(new, headers, BODY) == MSG_ID  # one already switched
    assert signing.verify([signing.generate_secret(), new], headers, BODY) == MSG_ID
    with pytest.raises(WebhookVerificationError, match="No signature matches"):
        signing.verify(signing.generate_secret(), headers, BODY)


def _signed(now: int) -> dict[str, str]:
    return signing.headers([SECRET], MSG_ID, now, BODY)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h, b: (h, b + b" "), "No signature matches"),  # body tampered
        (lambda h, b: ({**h, "webhook-id": "msg_other"}, b), "No signature matches"),
        (
            lambda h, b: ({**h, "webhook-timestamp": str(int(h["webhook-timestamp"]) + 1)}, b),
            "No signature matches",
        ),
        (lambda h, b: ({**h, "webhook-signature": "v1,AAAA"}, b), "No signature matches"),
        (
            lambda h, b: (
                {**h, "webhook-signature": h["webhook-signature"].replace("v1,", "v2,")},
                b,
            ),
            "No signature matches",
        ),
        (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b), "Missing"),
        (lambda h, b: ({**h, "webhook-timestamp": "yesterday"}, b), "not a number"),
    ],
)
def test_verify_refuses_a_tampered_message(change: Any, reason: str) -> None:
    now = int(time.time())
    headers, body = change(_signed(now), BODY)
    with pytest.raises(WebhookVerificationError, match=reason):
        signing.verify(SECRET, headers, body)


@pytest.mark.parametrize("age", [-301, 301, 3600])
def test_verify_refuses_a_timestamp_outside_five_minutes(age: int) -> None:
    now = int(time.time())
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        signing.verify(SECRET, _signed(now - age), BODY, now=now)
    assert signing.verify(SECRET, _signed(now - 299), BODY, now=now) == MSG_ID


def test_verify_refuses_a_replayed_id_when_given_the_ids_seen() -> None:
    seen: set[str] = set()
    headers = _signed(int(time.time()))
    assert signing.verify(SECRET, headers, BODY, seen_ids=seen) == MSG_ID
    with pytest.raises(WebhookVerificationError, match="already processed"):
        signing.verify(SECRET, headers, BODY, seen_ids=seen)


def test_header_names_are_case_insensitive() -> None:
    headers = {name.upper(): value for name, value in _signed(int(time.time())).items()}
    assert signing.verify(SECRET, headers, BODY) == MSG_ID


def test_secrets_are_encrypted_at_rest_and_come_back(settings: Any) -> None:
    secret = signing.generate_secret()
    token = vault.encrypt(secret)
    assert secret not in token
    assert secret.removeprefix("whsec_") not in token
    assert vault.decrypt(token) == secret


def test_a_rotated_secret_key_still_decrypts_through_the_fallbacks(settings: Any) -> None:
    secret = signing.generate_secret()
    token = vault.encrypt(secret)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-key-" + "n" * 50
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert vault.decrypt(token) == secret
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(InvalidToken):
        vault.decrypt(token)
