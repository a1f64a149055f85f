"""Strict readers for settings that come from the environment.

Every reader names the variable in its error, so a bad deployment stops at start-up with a
message that says what to fix, instead of running with a silently wrong default. Secrets may
also be given as ``<NAME>_FILE`` (a path whose contents are the value), as container
orchestrators mount them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_MISSING = object()


def _raw(name: str) -> str | None:
    """The value of ``name``, or of the file named by ``name_FILE``; both set is an error."""
    direct = os.environ.get(name)
    file_name = os.environ.get(f"{name}_FILE")
    if direct is not None and file_name is not None:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both.")
    if file_name is not None:
        path = Path(file_name)
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ImproperlyConfigured(
                f"{name}_FILE points to {file_name!r}, which cannot be read: {error.strerror}."
            ) from error
    return direct


def string(name: str, default: Any = _MISSING) -> str:
    value = _raw(name)
    if value is None or value == "":
        if default is _MISSING:
            raise ImproperlyConfigured(f"The environment variable {name} is required.")
        return str(default)
    return value


def optional_string(name: str) -> str | None:
    value = _raw(name)
    return value or None


def boolean(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean; use one of {sorted(_TRUE | _FALSE)}."
    )


def integer(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}.")
    return number


def string_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def database(name: str, default: str) -> dict[str, Any]:
    """Django DATABASES entry from a URL such as postgres://user@host:5432/alliance."""
    url = string(name, default)
    try:
        config: dict[str, Any] = environ.Env.db_url_config(url)
    except Exception as error:  # environ raises bare exceptions on malformed URLs
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {error}") from error
    engine = config.get("ENGINE", "")
    if engine not in {"django.db.backends.postgresql", "django.db.backends.sqlite3"}:
        raise ImproperlyConfigured(
            f"{name} must use postgres:// (or sqlite:/// for the quick start), not {url.split(':', 1)[0]!r}."
        )
    return config


def redis_url(name: str) -> str | None:
    url = optional_string(name)
    if url is not None and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"{name} must start with redis://, rediss:// or unix://.")
    return url
