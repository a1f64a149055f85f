"""Reference views that give the benchmark its floors, measured in the same run.

(a) ``floor``: a constant JSON answer: what Django and gunicorn cost on this machine.
(a2) ``AuthenticatedFloor``: a constant JSON answer from a DRF view behind the API's own
    authentication (API token or session) and permission: what any authenticated API
    request costs before it does anything (the floor of the compliance decision API).
(a3) ``authenticated_page``: a constant page behind the browser's login (session and user
    loaded): the floor of a signed-in person's page, such as the consortium dashboard.
(b) ``*_values``: the same page of rows as the real API list, as ``.values()`` and
    ``JsonResponse``, behind the same session authentication and the same access filter
    (the same selector): what that data costs without DRF and serialisers.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consortia import selectors
from consortia.api.serializers import ConsortiumRow, MembershipRow


def floor(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@login_required
def authenticated_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"<!doctype html><title>Floor</title><p>{request.user.pk}</p>")


class AuthenticatedFloor(APIView):
    """The project's default authentication and permission classes (IsAuthenticated), a
    constant body."""

    def get(self, request: Request) -> Response:
        return Response({"status": "ok", "user": request.user.pk})


def _page(request: HttpRequest, rows: Any) -> JsonResponse:
    size = min(int(request.GET.get("page_size", 50)), 500)
    return JsonResponse({"results": list(rows[:size])})


def consortia_values(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        return JsonResponse({"detail": "Authentication credentials were not provided."}, status=401)
    rows = (
        selectors.consortium_list(actor=request.user)
        .order_by("name")
        .values(*ConsortiumRow.columns())
    )
    return _page(request, rows)


def memberships_values(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        return JsonResponse({"detail": "Authentication credentials were not provided."}, status=401)
    rows = (
        selectors.membership_list(actor=request.user)
        .order_by("-id")
        .values(*MembershipRow.columns())
    )
    return _page(request, rows)
