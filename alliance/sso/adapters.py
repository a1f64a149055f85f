"""Alliance's answers to allauth's questions: who a sign-in is, and what a refusal looks like.

allauth runs the OpenID Connect exchange and calls these adapters at its decision points.
Every decision is taken here (through ``alliance.sso.services``), so allauth's own signup,
e-mail matching and account pages are never reached: a sign-in is either the account the
linking rule names, or a refusal shown on the sign-in page and recorded as ``login_failed``.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.base import AuthError, AuthProcess
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from requests import RequestException

from alliance.auth import acting_user
from alliance.sso import selectors, services
from alliance.sso.models import IdentityProvider
from alliance.sso.oidc import SignInCheckError
from alliance.sso.services import SignInRefusedError


class LocalAccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    """allauth's account side. Alliance has no public signup: accounts are made by their
    organisation (or, through its provider, by the linking rule), never by a visitor."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False


def refusal_response(
    request: HttpRequest,
    refusal: SignInRefusedError,
    *,
    provider_id: str,
    identity_provider: IdentityProvider | None,
    subject: str = "",
    linking: bool = False,
) -> HttpResponse:
    """Record the refusal, and show its message where the attempt started: the sign-in page,
    or the link page for someone already signed in who was linking their account."""
    services.sso_sign_in_refuse(
        actor=request.user,
        identity_provider=identity_provider,
        provider_id=provider_id,
        reason=refusal.reason,
        subject=subject,
    )
    messages.error(request, _("Single sign-on refused: %(message)s") % {"message": refusal.message})
    if linking and request.user.is_authenticated:
        return redirect("sso:link")
    return redirect("login")


def _refusal_of_error(
    error: Any, exception: BaseException | None, state_known: bool
) -> SignInRefusedError:
    detail = f"{error}: {exception!r}" if exception is not None else str(error)
    if isinstance(exception, SignInCheckError):
        return SignInRefusedError(str(exception), reason=detail)
    if error == AuthError.CANCELLED:
        return SignInRefusedError(_("You cancelled the sign-in at your provider."), reason=detail)
    if not state_known:
        return SignInRefusedError(
            _(
                "This answer does not match a sign-in started here (it may have expired or been "
                "altered). Please start again."
            ),
            reason=f"unknown or mismatched state; {detail}",
        )
    if isinstance(exception, RequestException):
        return SignInRefusedError(
            _("Your organisation's provider could not be reached."), reason=detail
        )
    if isinstance(exception, OAuth2Error):
        return SignInRefusedError(
            _("Your organisation's provider did not complete the sign-in."), reason=detail
        )
    return SignInRefusedError(_("The provider's answer was not accepted."), reason=detail)


class OrganisationProviderAdapter(DefaultSocialAccountAdapter):  # type: ignore[misc]
    """allauth's social side, for organisations' own providers."""

    def list_apps(
        self, request: HttpRequest | None, provider: str | None = None, client_id: str | None = None
    ) -> list[SocialApp]:
        # Only the apps of enabled organisation providers: a disabled provider's sign-in
        # cannot start or finish, and no app is ever configured from settings.
        apps = selectors.enabled_apps()
        if provider:
            apps = apps.filter(Q(provider=provider) | Q(provider_id=provider))
        if client_id:
            apps = apps.filter(client_id=client_id)
        return list(apps)

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        provider_id = str(sociallogin.account.provider)
        identity_provider = selectors.identity_provider_by_provider_id(provider_id)
        linking = sociallogin.state.get("process") == AuthProcess.CONNECT
        try:
            if identity_provider is None:
                raise SignInRefusedError(
                    _("Single sign-on for this organisation is turned off."),
                    reason="provider disabled or removed during the sign-in",
                )
            if linking:
                self._link(request, identity_provider, sociallogin)
            elif sociallogin.state.get("process") == AuthProcess.LOGIN:
                sociallogin.user = services.sso_account_for_sign_in(
                    identity_provider=identity_provider, sociallogin=sociallogin
                )
            else:
                raise SignInRefusedError(
                    _("This kind of sign-in is not offered."),
                    reason=f"process {sociallogin.state.get('process')!r}",
                )
        except SignInRefusedError as refusal:
            raise ImmediateHttpResponse(
                refusal_response(
                    request,
                    refusal,
                    provider_id=provider_id,
                    identity_provider=identity_provider,
                    subject=str(sociallogin.account.uid),
                    linking=linking,
                )
            ) from None

    def _link(
        self, request: HttpRequest, identity_provider: IdentityProvider, sociallogin: SocialLogin
    ) -> None:
        if not request.user.is_authenticated:
            raise SignInRefusedError(
                _("Sign in first, then link your account."), reason="link without a session"
            )
        services.sso_link_create(
            actor=acting_user(request),
            identity_provider=identity_provider,
            sociallogin=sociallogin,
        )
        messages.success(
            request,
            _("Your account is linked: you can now sign in through %(organisation)s's provider.")
            % {"organisation": identity_provider.organisation},
        )
        # The link is made; allauth's own connect step (and its pages) are not needed.
        raise ImmediateHttpResponse(redirect("sso:link"))

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: BaseException | None = None,
        extra_context: dict[str, Any] | None = None,
    ) -> None:
        context = extra_context or {}
        state = context.get("state")
        provider_id = str(provider.app.provider_id) if getattr(provider, "app", None) else ""
        refusal = _refusal_of_error(error, exception, state_known=state is not None)
        raise ImmediateHttpResponse(
            refusal_response(
                request,
                refusal,
                provider_id=provider_id,
                identity_provider=selectors.identity_provider_by_provider_id(
                    provider_id, enabled_only=False
                ),
                linking=state is not None and state.get("process") == AuthProcess.CONNECT,
            )
        )

    # allauth's signup and e-mail matching stay out of reach: pre_social_login has always
    # chosen the account (or refused) before allauth would consider them.

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return False

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return False

    def can_authenticate_by_email(self, login: SocialLogin, email: str) -> bool:
        return False

    def get_connect_redirect_url(self, request: HttpRequest, socialaccount: Any) -> str:
        return reverse("sso:link")
