"""The acting user of a request, typed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from consortia.models import User


def acting_user(request: Any) -> User:
    """``request.user`` where authentication is required (login_required, IsAuthenticated)."""
    user = request.user
    assert user.is_authenticated, "the view requires a signed-in user"
    return user  # type: ignore[no-any-return]
