from django.urls import URLPattern, path
from oauth2_provider import views as oauth_views

from alliance.partners import views

# Only what the client-credentials grant needs: no authorisation pages, no self-service apps.
oauth_urls: list[URLPattern] = [
    path("token/", oauth_views.TokenView.as_view(), name="token"),
    path("revoke/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
]

app_name = "partners"

urlpatterns = [
    path("organisations/<int:org_pk>/clients/", views.client_list, name="list"),
    path("organisations/<int:org_pk>/clients/new/", views.client_create, name="create"),
    path("organisations/<int:org_pk>/clients/<int:pk>/", views.client_detail, name="detail"),
    path("organisations/<int:org_pk>/clients/<int:pk>/edit/", views.client_edit, name="edit"),
    path("organisations/<int:org_pk>/clients/<int:pk>/rotate/", views.client_rotate, name="rotate"),
    path("organisations/<int:org_pk>/clients/<int:pk>/revoke/", views.client_revoke, name="revoke"),
]
