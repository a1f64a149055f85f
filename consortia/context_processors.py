"""Template context for every page: the signed-in person's unread notification count."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest

from consortia import inbox


class InboxSummary:
    """Counted on first use only (one COUNT query), so a partial that does not show the
    navigation costs nothing."""

    def __init__(self, user: Any) -> None:
        self._user = user

    @cached_property
    def unread(self) -> int:
        return inbox.unread_count(self._user)


def inbox_summary(request: HttpRequest) -> dict[str, Any]:
    """``inbox.unread`` for signed-in people; nothing (and no query) for anonymous ones."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox": InboxSummary(user)}
