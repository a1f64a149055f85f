"""Project-level pages: the home page (what waits on the signed-in person) and the liveness
probe (readiness and metrics: alliance/observability)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from alliance.auth import acting_user
from consortia import waiting


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Everything waiting on the person across their consortia, each linking to where they
    act; the apps each contribute what they ask of people (consortia.waiting)."""
    return render(request, "home.html", {"items": waiting.waiting_for(acting_user(request))})


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Nothing else is checked, so that an outage of the
    database or Redis does not get healthy web processes restarted; /readyz checks those."""
    return JsonResponse({"status": "ok"})
