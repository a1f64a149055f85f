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

from alliance.compiled import CompiledQuery, column_names, instances
from consortia.models import Organisation, User


class PersonalTokenAuthentication(TokenAuthentication):  # type: ignore[misc]
    def authenticate_credentials(self, token: bytes) -> tuple[Any, AuthToken]:
        refused = exceptions.AuthenticationFailed(_("Invalid token."))
        try:
            raw = token.decode("utf-8")
            digest = hash_token(raw)
        except (UnicodeDecodeError, TypeError, binascii.Error):
            raise refused from None
        now = timezone.now()
        for auth_token in _tokens_with_key(raw[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if auth_token.expiry is not None and auth_token.expiry < now:
                continue
            if compare_digest(digest, auth_token.digest):
                user: Any = auth_token.user
                if not user.is_active:
                    raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
                return user, auth_token
        raise refused


def _token_query(key: str) -> Any:
    return (
        AuthToken.objects.filter(token_key=key)
        .order_by()
        .values_list(
            *column_names(AuthToken),
            *(f"user__{name}" for name in column_names(User)),
            *(f"user__organisation__{name}" for name in column_names(Organisation)),
        )
    )


# Every API request asks this: compiled once (see alliance.compiled).
_TOKENS = CompiledQuery(_token_query)


def _tokens_with_key(key: str) -> list[AuthToken]:
    """The tokens whose key starts the presented one, each with its person and organisation."""
    token_end = len(column_names(AuthToken))
    user_end = token_end + len(column_names(User))
    found = []
    for row in _TOKENS.rows(key=key):
        (auth_token,) = instances(AuthToken, [row[:token_end]])
        (user,) = instances(User, [row[token_end:user_end]])
        organisation = row[user_end:]
        user.organisation = (
            instances(Organisation, [organisation])[0] if organisation[0] is not None else None
        )
        auth_token.user = user
        found.append(auth_token)
    return found


def purge_expired() -> int:
    """Delete the tokens past their expiry; returns how many."""
    deleted, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    return int(deleted)


class PersonalTokenScheme(KnoxTokenScheme):  # type: ignore[no-untyped-call]
    """The schema describes these tokens as knox's (the same bearer scheme, the same name)."""

    target_class = "alliance.personal_tokens.PersonalTokenAuthentication"
