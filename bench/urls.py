from django.urls import include, path

from bench import views

urlpatterns = [
    path("bench/floor/", views.floor),
    path("bench/values/consortia/", views.consortia_values),
    path("bench/values/memberships/", views.memberships_values),
    path("", include("alliance.urls")),
]
