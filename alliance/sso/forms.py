"""The shape of an organisation's provider settings, as its admins type them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from alliance.sso.models import IdentityProvider
from alliance.sso.services import ProviderSettings


class ProviderForm(forms.Form):
    issuer = forms.CharField(
        max_length=255,
        help_text=_(
            "Your provider's issuer identifier, exactly as its discovery document gives it "
            "(https://…; Alliance reads the issuer followed by /.well-known/openid-configuration)."
        ),
    )
    client_id = forms.CharField(
        max_length=191,
        label=_("Client id"),
        help_text=_("The client id your provider issued to Alliance."),
    )
    client_secret = forms.CharField(
        max_length=191,
        required=False,
        label=_("Client secret"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    email_domains = forms.CharField(
        required=False,
        label=_("E-mail domains"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line. People who type an address at one of them on the sign-in page "
            "are sent to your provider, and your provider may then sign in only people whose "
            "confirmed address is at one of them. Leave empty to accept whoever your provider "
            "signs in (people then use the organisation's sign-in link)."
        ),
    )
    is_enabled = forms.BooleanField(
        required=False, initial=True, label=_("People may sign in through this provider")
    )
    auto_create_accounts = forms.BooleanField(
        required=False,
        label=_("Create an account for someone the provider signs in who has none"),
        help_text=_("Off: only people whose account is already linked may sign in."),
    )

    def __init__(
        self, *args: Any, identity_provider: IdentityProvider | None, **kwargs: Any
    ) -> None:
        if identity_provider is not None:
            kwargs.setdefault(
                "initial",
                {
                    "issuer": identity_provider.issuer,
                    "client_id": identity_provider.app.client_id,
                    "email_domains": "\n".join(
                        domain.domain for domain in identity_provider.domains.all()
                    ),
                    "is_enabled": identity_provider.is_enabled,
                    "auto_create_accounts": identity_provider.auto_create_accounts,
                },
            )
        super().__init__(*args, **kwargs)
        # The secret is never shown back; on an existing provider, empty keeps it.
        secret = self.fields["client_secret"]
        if identity_provider is None:
            secret.required = True
            secret.help_text = _("The client secret your provider issued to Alliance.")
        else:
            secret.help_text = (
                "Stored and not shown again. Leave empty to keep it; type a new one to replace it."
            )

    def terms(self) -> ProviderSettings:
        data = self.cleaned_data
        return ProviderSettings(
            issuer=data["issuer"],
            client_id=data["client_id"],
            client_secret=data["client_secret"] or None,
            # One a line (or comma-separated); a line with a space in it is reported as typed.
            email_domains=tuple(data["email_domains"].replace(",", "\n").splitlines()),
            is_enabled=data["is_enabled"],
            auto_create_accounts=data["auto_create_accounts"],
        )
