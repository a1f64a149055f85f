"""Single sign-on pages: starting a sign-in, allauth's login and callback for one organisation's
provider, linking one's own account, and the organisation admins' provider settings.

allauth's own account and social pages are not mounted; the two views it reverses by name
(``openid_connect_login`` and ``openid_connect_callback``) are these, which look the
organisation's provider up first and run allauth's exchange with Alliance's stricter adapter.
"""

from __future__ import annotations

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.base import AuthProcess
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from requests import RequestException

from alliance.auth import acting_user
from alliance.sso import selectors, services
from alliance.sso.adapters import refusal_response
from alliance.sso.forms import ProviderForm
from alliance.sso.models import IdentityProvider, provider_id_for
from alliance.sso.oidc import OrganisationOIDCAdapter, SignInCheckError
from alliance.sso.permissions import get_organisation_for_sso_admin
from alliance.sso.services import SignInRefusedError


def _safe_next(request: HttpRequest) -> str | None:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return None


def _discovery_refusal(error: Exception) -> SignInRefusedError:
    if isinstance(error, SignInCheckError):
        return SignInRefusedError(str(error), reason=f"discovery: {error}")
    return SignInRefusedError(
        _("Your organisation's provider could not be reached."), reason=f"discovery: {error!r}"
    )


def _to_provider(
    request: HttpRequest,
    identity_provider: IdentityProvider,
    *,
    process: str,
    next_url: str | None,
    login_hint: str = "",
) -> HttpResponse:
    """Send the browser to the provider's authorisation page; allauth keeps the state (and the
    PKCE verifier) in the session, bound to this provider."""
    try:
        # Alliance's checks of the discovery document first (allauth's redirect uses its own
        # adapter): a provider that does not name the registered issuer is not visited.
        OrganisationOIDCAdapter(request, identity_provider.provider_id).openid_config  # noqa: B018
        provider = get_adapter(request).get_provider(request, identity_provider.provider_id)
        return provider.redirect(  # type: ignore[no-any-return]
            request,
            process,
            next_url=next_url,
            auth_params={"login_hint": login_hint} if login_hint else None,
        )
    except (RequestException, OAuth2Error, KeyError, ValueError) as error:
        return refusal_response(
            request,
            _discovery_refusal(error),
            provider_id=identity_provider.provider_id,
            identity_provider=identity_provider,
            linking=process == AuthProcess.CONNECT,
        )


@require_POST
def sign_in_start(request: HttpRequest) -> HttpResponse:
    """The sign-in page's "Sign in with your organisation": the address's domain names the
    organisation, whose provider then signs the person in."""
    email = request.POST.get("email", "").strip()
    next_url = _safe_next(request)
    identity_provider = selectors.identity_provider_for_email(email) if "@" in email else None
    if identity_provider is None:
        messages.error(
            request,
            _(
                "No organisation signs in here with addresses at that domain. Sign in with your "
                "Alliance username and password, or use your organisation's sign-in link."
            ),
        )
        login = reverse("login")
        return redirect(f"{login}?{urlencode({'next': next_url})}" if next_url else login)
    return _to_provider(
        request,
        identity_provider,
        process=AuthProcess.LOGIN,
        next_url=next_url,
        login_hint=email,
    )


@require_http_methods(["GET", "POST"])
def provider_login(request: HttpRequest, provider_id: str) -> HttpResponse:
    """An organisation's sign-in link. GET asks for a click (a sign-in never starts from a
    bare link another site could load); POST goes to the provider."""
    identity_provider = selectors.identity_provider_by_provider_id(provider_id)
    if identity_provider is None:
        raise Http404("No organisation signs in here through that provider.")
    if request.method == "GET":
        return render(
            request,
            "sso/login_confirm.html",
            {"identity_provider": identity_provider, "next": _safe_next(request) or ""},
        )
    return _to_provider(
        request, identity_provider, process=AuthProcess.LOGIN, next_url=_safe_next(request)
    )


@require_http_methods(["GET", "POST"])
def provider_callback(request: HttpRequest, provider_id: str) -> HttpResponseBase:
    """The redirect URI registered at the provider: allauth checks the state and exchanges the
    code, Alliance's adapter checks the ID token, and the social adapter applies the rule."""
    identity_provider = selectors.identity_provider_by_provider_id(provider_id)
    if identity_provider is None:
        return refusal_response(
            request,
            SignInRefusedError(
                _("Single sign-on for this organisation is turned off."),
                reason="callback for a disabled or unknown provider",
            ),
            provider_id=provider_id[:64],
            identity_provider=selectors.identity_provider_by_provider_id(
                provider_id, enabled_only=False
            ),
        )
    adapter = OrganisationOIDCAdapter(request, provider_id)
    try:
        # allauth reads the discovery document outside its own error handling: read (and
        # check) it here, so a provider that is down or misnamed is a refusal, not an error.
        adapter.openid_config  # noqa: B018
    except (RequestException, OAuth2Error, KeyError, ValueError) as error:
        return refusal_response(
            request,
            _discovery_refusal(error),
            provider_id=identity_provider.provider_id,
            identity_provider=identity_provider,
        )
    return OAuth2CallbackView.adapter_view(adapter)(request)  # type: ignore[no-any-return]


@login_required
@require_http_methods(["GET", "POST"])
def link(request: HttpRequest) -> HttpResponse:
    """Link one's own account to one's organisation's provider (for people who had an account
    before the provider was set up, so that signing in through it finds that account)."""
    user = acting_user(request)
    identity_provider = (
        selectors.identity_provider_by_provider_id(provider_id_for(user.organisation_id))
        if user.organisation_id is not None
        else None
    )
    existing = selectors.link_of(user, identity_provider) if identity_provider else None
    if request.method == "POST" and identity_provider is not None and existing is None:
        return _to_provider(
            request, identity_provider, process=AuthProcess.CONNECT, next_url=reverse("sso:link")
        )
    return render(
        request, "sso/link.html", {"identity_provider": identity_provider, "link": existing}
    )


@login_required
@require_http_methods(["GET", "POST"])
def provider_settings(request: HttpRequest, org_pk: int) -> HttpResponse:
    """The organisation's provider: its admins set it up here (and platform staff)."""
    organisation = get_organisation_for_sso_admin(request.user, org_pk)
    identity_provider = selectors.identity_provider_of(organisation)
    form = ProviderForm(request.POST or None, identity_provider=identity_provider)
    if request.method == "POST" and form.is_valid():
        try:
            services.identity_provider_save(
                actor=acting_user(request), organisation=organisation, terms=form.terms()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Single sign-on settings saved."))
            return redirect("sso:settings", organisation.pk)
    provider_id = provider_id_for(organisation.pk)
    return render(
        request,
        "sso/settings.html",
        {
            "organisation": organisation,
            "identity_provider": identity_provider,
            "form": form,
            "redirect_uri": request.build_absolute_uri(
                reverse("openid_connect_callback", kwargs={"provider_id": provider_id})
            ),
            "sign_in_url": request.build_absolute_uri(
                reverse("openid_connect_login", kwargs={"provider_id": provider_id})
            ),
            "link_count": selectors.links_of(identity_provider).count() if identity_provider else 0,
        },
    )
