"""Single sign-on URLs. Everything sits under /accounts/sso/ except the organisation admins'
settings page, which hangs off the organisation's own page."""

from django.urls import URLPattern, URLResolver, include, path

from alliance.sso import views

sso_patterns: list[URLPattern] = [
    path("accounts/sso/start/", views.sign_in_start, name="start"),
    path("accounts/sso/link/", views.link, name="link"),
    path("organisations/<int:org_pk>/sso/", views.provider_settings, name="settings"),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include((sso_patterns, "sso"))),
    # allauth reverses these two by these names (without a namespace): the provider's
    # sign-in link, and the redirect URI each organisation registers at its provider.
    path(
        "accounts/sso/oidc/<str:provider_id>/login/",
        views.provider_login,
        name="openid_connect_login",
    ),
    path(
        "accounts/sso/oidc/<str:provider_id>/login/callback/",
        views.provider_callback,
        name="openid_connect_callback",
    ),
]
