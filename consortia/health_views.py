"""The health check page: every finding of a consortium, how to fix it, and where."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from consortia import health, permissions


@login_required
@require_GET
def health_check(request: HttpRequest, pk: int) -> HttpResponse:
    consortium = permissions.get_consortium_for(request.user, pk)
    score, findings = health.run(consortium)
    return render(
        request,
        "consortia/health.html",
        {"consortium": consortium, "score": score, "findings": findings},
    )
