from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView

from agreements.api import urls as agreements_api
from alliance import views
from alliance.api import urls as alliance_api
from alliance.api.doc_pages import RedocPage, SwaggerPage
from alliance.observability import views as observability
from alliance.partners.urls import oauth_urls
from alliance.webhooks import api as webhooks_api
from audit.api import urls as audit_api
from compute.api import urls as compute_api
from consortia.api import urls as consortia_api

# One flat list of the apps' API routes, not an include of each: resolving a URL that an
# include does not hold raises and records every pattern tried there, and that cost the
# compliance gate (the fourth app) a twentieth of each request. The gate comes first: Django
# tries each pattern in turn, and the hundred before it cost a pipeline's every call 55 us.
# No other route starts with compliance/decisions/, so the order changes no answer.
api_v1: list[URLPattern | URLResolver] = [
    *compute_api.gate_urlpatterns,
    *consortia_api.urlpatterns,
    *audit_api.urlpatterns,
    *agreements_api.urlpatterns,
    *compute_api.urlpatterns,
    *webhooks_api.urlpatterns,
    *alliance_api.urlpatterns,
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
    # First: pipelines call the API many times a minute, and Django tries each pattern in
    # turn; no other route starts with api/v1/, so the order changes no answer.
    path("api/v1/", include((api_v1, "api"))),
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
    path("oauth/", include((oauth_urls, "oauth2_provider"))),
    path("", include("alliance.partners.urls")),
    path("", include("consortia.urls")),
    path("", include("audit.urls")),
    path("", include("agreements.urls")),
    path("", include("compute.urls")),
    path("", include("alliance.webhooks.urls")),
]
