from django.urls import URLPattern, path

from alliance.api import problems

urlpatterns: list[URLPattern] = [
    path("problems/", problems.ProblemTypeListView.as_view(), name="problem-types"),
    path("problems/<slug:slug>", problems.ProblemTypeView.as_view(), name="problem-type"),
]
