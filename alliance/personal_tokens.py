"""People's own API tokens (knox), found in one query.

knox's own authenticator also reads every other token of the person on every request, to
delete the expired ones, and leaves the person's organisation to a later query (the audit
trail names it on every write). Here one query reads the token with its person and
organisation; an expired token is refused like an unknown one, and a daily task deletes
expired tokens (``alliance.tasks.personal_tokens_purge``).
"""

from __future__ import annotations

import binascii
from hmac import compare_digest
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework import exceptions


class PersonalTokenAuthentication(TokenAuthentication):  # type: ignore[misc]
    def authenticate_credentials(self, token: bytes) -> tuple[Any, AuthToken]:
        refused = exceptions.AuthenticationFailed(_("Invalid token."))
        try:
            raw = token.decode("utf-8")
            digest = hash_token(raw)
        except (UnicodeDecodeError, TypeError, binascii.Error):
            raise refused from None
        now = timezone.now()
        candidates = AuthToken.objects.filter(
            token_key=raw[: CONSTANTS.TOKEN_KEY_LENGTH]
        ).select_related("user__organisation")
        for auth_token in candidates:
            if auth_token.expiry is not None and auth_token.expiry < now:
                continue
            if compare_digest(digest, auth_token.digest):
                user: Any = auth_token.user
                if not user.is_active:
                    raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
                return user, auth_token
        raise refused


def purge_expired() -> int:
    """Delete the tokens past their expiry; returns how many."""
    deleted, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    return int(deleted)


class PersonalTokenScheme(KnoxTokenScheme):  # type: ignore[no-untyped-call]
    """The schema describes these tokens as knox's (the same bearer scheme, the same name)."""

    target_class = "alliance.personal_tokens.PersonalTokenAuthentication"
