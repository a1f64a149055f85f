"""The scopes a partner client may hold, and which one each API request needs.

Every API view names its ``scope_area``; a safe request needs ``<area>:read`` and any other
``<area>:write``, unless the view's ``action_scopes`` names another for that action (asking
for a compliance decision is ``compliance:decide``, not a write to the decision log). A view
without an area refuses every client: a new endpoint is closed to tokens until someone decides.
Scopes only narrow: the client still needs the right its roles give, like any person.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from alliance.partners.catalogue import SCOPES

__all__ = ["SCOPES", "ClientScopes", "required_scope"]


def required_scope(view: Any, method: str) -> str | None:
    """The scope a client needs to make this request of ``view``, or None when no scope
    covers the view (the request is refused)."""
    area = getattr(view, "scope_area", None)
    if area is None:
        return None
    action = getattr(view, "action", None)
    explicit: dict[str, str] = getattr(view, "action_scopes", {})
    if action in explicit:
        return explicit[action]
    return f"{area}:{'read' if method in SAFE_METHODS else 'write'}"


class ClientScopes(BasePermission):
    """Refuses a partner client's request that its token's scopes do not cover (403)."""

    message = "This client's token does not carry the scope this request needs."

    def has_permission(self, request: Any, view: Any) -> bool:
        granted: frozenset[str] | None = getattr(request.user, "client_scopes", None)
        if granted is None:
            return True  # a person: their roles decide
        needed = required_scope(view, request.method)
        if needed is not None and needed in granted:
            return True
        self.message = (
            f"This client's token lacks the scope {needed}."
            if needed
            else "This endpoint is not open to partner clients."
        )
        request.insufficient_scope = needed or ""
        return False
