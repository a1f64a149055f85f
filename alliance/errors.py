"""Errors that services raise besides Django's ValidationError and PermissionDenied."""

from __future__ import annotations


class ConflictError(Exception):
    """Well-formed, allowed, but refused by the current state (HTTP 409): deleting what
    history refers to, for instance. The message says why and what to do instead."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
