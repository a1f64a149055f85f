"""Operators may look at organisations' providers and links; changes go through the
organisation's settings page (and its audited service), so allauth's own editable admin
pages for apps, tokens, links and addresses are taken away."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib import admin

from alliance.admin import ReadOnlyAdmin
from alliance.sso.models import IdentityProvider

for model in (SocialApp, SocialToken, SocialAccount, EmailAddress):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(IdentityProvider)
class IdentityProviderAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "issuer", "is_enabled", "auto_create_accounts", "updated_at")
    list_filter = ("is_enabled", "auto_create_accounts")
    search_fields = ("organisation__name", "issuer")
    # The app holds the client secret: it is not shown here either.
    exclude = ("app",)


@admin.register(SocialAccount)
class LinkAdmin(ReadOnlyAdmin):
    list_display = ("user", "provider", "uid", "date_joined", "last_login")
    list_filter = ("provider",)
    search_fields = ("user__username", "uid")
    exclude = ("extra_data",)
