"""Endpoint secrets at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256).

Signing needs the plaintext secret, so a digest would not do. The key is derived with HKDF
from SECRET_KEY (a database dump alone then reveals no secret); keys derived from
SECRET_KEY_FALLBACKS still decrypt, so rotating SECRET_KEY the Django way keeps endpoints
working until their secrets are rotated.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

INFO = b"alliance.webhooks.endpoint-secret.v1"


def _fernet_key(secret_key: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(derived)


@functools.cache
def _box(secret_key: str, fallbacks: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(key)) for key in (secret_key, *fallbacks)])


def box() -> MultiFernet:
    return _box(settings.SECRET_KEY, tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ())))


def encrypt(plaintext: str) -> str:
    return box().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    return box().decrypt(token.encode("ascii")).decode()
