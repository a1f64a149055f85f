"""Sign-in, sign-out and failed sign-in are audit events (platform chain).

These happen inside django.contrib.auth's own views, so its signals are the one place to
hear them; everything else is recorded explicitly by services.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from audit.models import Action, Outcome
from audit.services import audit_record


def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(action=Action.LOGIN, actor=user, target=user)


def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(action=Action.LOGOUT, actor=user, target=user)


def _login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # Django already masks the password in ``credentials``; only the username is kept.
    username = str(credentials.get("username", ""))[:150]
    # django-axes (its handler runs before this one) marks a request it refuses or locks.
    locked = getattr(request, "axes_locked_out", False)
    audit_record(
        action=Action.LOGIN_FAILED,
        actor=AnonymousUser(),
        object_type="auth.user",
        object_display=username,
        outcome=Outcome.DENIED,
        reason="too many failed sign-ins: locked out" if locked else "wrong username or password",
    )


def connect() -> None:
    user_logged_in.connect(_logged_in, dispatch_uid="audit_login")
    user_logged_out.connect(_logged_out, dispatch_uid="audit_logout")
    user_login_failed.connect(_login_failed, dispatch_uid="audit_login_failed")
