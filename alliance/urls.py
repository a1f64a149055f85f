from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView

from alliance import views
from alliance.api.doc_pages import RedocPage, SwaggerPage
from alliance.observability import views as observability
from alliance.partners.urls import oauth_urls

api_v1: list[URLPattern | URLResolver] = [
    path("", include("consortia.api.urls")),
    path("", include("audit.api.urls")),
    path("", include("agreements.api.urls")),
    path("", include("compute.api.urls")),
    path("", include("alliance.webhooks.api")),
    path("", include("alliance.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SwaggerPage.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", RedocPage.as_view(url_name="api:schema"), name="redoc"),
]

# Under /api/v1/ an unknown URL and a crash answer problem details too (alliance.api.problems);
# a lost database answers 503, not 500 (alliance.unavailable).
handler400 = "alliance.api.problems.bad_request"
handler404 = "alliance.api.problems.page_not_found"
handler500 = "alliance.unavailable.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    # Probes and metrics are served ahead of the middleware stack (docs/operations.md).
    path("healthz", views.healthz, name="healthz"),
    path("readyz", observability.readyz, name="readyz"),
    path("metrics", observability.metrics_view, name="metrics"),
    # set_language: the language switcher in base.html posts here (no i18n_patterns).
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("alliance.sso.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
    path("oauth/", include((oauth_urls, "oauth2_provider"))),
    path("", include("alliance.partners.urls")),
    path("", include("consortia.urls")),
    path("", include("audit.urls")),
    path("", include("agreements.urls")),
    path("", include("compute.urls")),
    path("", include("alliance.webhooks.urls")),
]
