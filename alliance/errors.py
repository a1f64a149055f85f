"""Errors that services raise besides Django's ValidationError and PermissionDenied."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404


class ConflictError(Exception):
    """Well-formed, allowed, but refused by the current state (HTTP 409): deleting what
    history refers to, for instance. The message says why and what to do instead."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class PolicyDenialError(Exception):
    """What the access policy knows about a refusal, for the audit event the boundary writes.

    Views and API views let these propagate; the denial middleware (browser) and the API's
    exception handler record one ``denied`` event in the consortium's chain (or the
    platform chain when the object is unknown), outside any transaction that may roll back.
    """

    consortium_id: int | None = None
    object_type: str = ""
    object_id: str = ""
    action: str = ""

    def __init__(
        self,
        message: str = "",
        *,
        consortium_id: int | None = None,
        object_type: str = "",
        object_id: str = "",
        action: str = "",
    ) -> None:
        super().__init__(message)
        self.consortium_id, self.object_type, self.object_id, self.action = (
            consortium_id,
            object_type,
            object_id,
            action,
        )


class NotVisibleError(PolicyDenialError, Http404):
    """404: the object does not exist for this user (it may exist for others)."""


class AccessDeniedError(PolicyDenialError, PermissionDenied):
    """403: the object is visible, the action is not allowed."""
