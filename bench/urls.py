from django.urls import include, path

from bench import views

urlpatterns = [
    path("bench/floor/", views.floor),
    path("bench/floor/authenticated/", views.AuthenticatedFloor.as_view()),
    path("bench/floor/page/", views.authenticated_page),
    path("bench/values/consortia/", views.consortia_values),
    path("bench/values/memberships/", views.memberships_values),
    path("", include("alliance.urls")),
]
