"""Project-level pages: the home page (what waits on the signed-in person) and the health
check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from alliance.auth import acting_user
from consortia import waiting


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Everything waiting on the person across their consortia, each linking to where they
    act; the apps each contribute what they ask of people (consortia.waiting)."""
    return render(request, "home.html", {"items": waiting.waiting_for(acting_user(request))})


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and compose health checks."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok"})
