"""Who may read which audit chain: decided by the consortium domain, asked by the audit app.

``audit`` depends on no other app, so the consortium app registers its policy here when it
starts (its AppConfig.ready), the way the design has higher apps plug into lower ones.
Without a registered policy only superusers read anything.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.core.exceptions import PermissionDenied


class ChainAccess(Protocol):
    def full_consortium_ids(self, user: Any) -> Any:
        """Consortium ids whose whole chain (reads and denials included) ``user`` may read."""

    def activity_consortium_ids(self, user: Any) -> Any:
        """Consortium ids whose activity (successful changes) ``user`` may read."""

    def require(self, user: Any, consortium_id: Any, *, full: bool) -> None:
        """Raise a 404 if ``user`` cannot see the consortium, a 403 if they may not read
        what ``full`` asks for."""

    def has_full(self, user: Any, consortium_id: int) -> bool: ...

    def consortium_label(self, consortium_id: int) -> tuple[str, str]:
        """The consortium's name and the URL of its page, for headings and links."""


class SuperusersOnly:
    def full_consortium_ids(self, user: Any) -> Any:
        return None

    def activity_consortium_ids(self, user: Any) -> Any:
        return None

    def require(self, user: Any, consortium_id: Any, *, full: bool) -> None:
        if not getattr(user, "is_superuser", False):
            raise PermissionDenied("Only operators read the audit trail on this deployment.")

    def has_full(self, user: Any, consortium_id: int) -> bool:
        return bool(getattr(user, "is_superuser", False))

    def consortium_label(self, consortium_id: int) -> tuple[str, str]:
        return f"Consortium {consortium_id}", "#"


_registered: ChainAccess = SuperusersOnly()


def register(policy: ChainAccess) -> None:
    global _registered  # one registration, at start-up
    _registered = policy


def current() -> ChainAccess:
    return _registered
