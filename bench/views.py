"""Reference views that give the benchmark its floors, measured in the same run.

(a) ``floor``: a constant JSON answer: what Django and gunicorn cost on this machine.
(b) ``*_values``: the same page of rows as the real API list, as ``.values()`` and
    ``JsonResponse``, behind the same session authentication and the same access filter
    (the same selector): what that data costs without DRF and serialisers.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

from consortia import selectors
from consortia.api.serializers import ConsortiumRow, MembershipRow


def floor(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


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
