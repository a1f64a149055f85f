"""The deployment's Ed25519 key, which signs audit checkpoints.

The key is created on first use at AUDIT_SIGNING_KEY_PATH (readable only by its owner) and
never leaves the deployment; members verify with the public key served at
/api/v1/audit/public-key/. A checkpoint note follows the C2SP checkpoint layout: origin,
size and base64 root hash on their own lines, then the time.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from audit.canonical import format_time

ORIGIN = "alliance-audit"


def checkpoint_note(chain: str, size: int, head_hash: str, sealed_at: datetime.datetime) -> str:
    root = base64.b64encode(bytes.fromhex(head_hash)).decode("ascii")
    return f"{ORIGIN}/{chain}\n{size}\n{root}\n{format_time(sealed_at)}\n"


def _key_path() -> Path:
    return Path(settings.AUDIT_SIGNING_KEY_PATH)


@cache
def private_key() -> Ed25519PrivateKey:
    path = _key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Created exclusively and owner-only, so two processes cannot race to two keys.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(pem)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise TypeError(f"{path} does not hold an Ed25519 private key")
    return loaded


def public_key() -> Ed25519PublicKey:
    return private_key().public_key()


def public_key_pem() -> str:
    return (
        public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def key_id(key: Ed25519PublicKey | None = None) -> str:
    raw = (key or public_key()).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return hashlib.sha256(raw).hexdigest()


def sign(note: str) -> str:
    return base64.b64encode(private_key().sign(note.encode("utf-8"))).decode("ascii")


def verify(note: str, signature: str, key: Ed25519PublicKey | None = None) -> bool:
    try:
        (key or public_key()).verify(base64.b64decode(signature), note.encode("utf-8"))
    except (InvalidSignature, ValueError):
        return False
    return True
