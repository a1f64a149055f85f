"""The health check page: every finding of a consortium, how to fix it, and where."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from alliance.auth import acting_user
from consortia import health, permissions
from consortia.governance.services import represents


@login_required
@require_GET
def health_check(request: HttpRequest, pk: int) -> HttpResponse:
    consortium = permissions.get_consortium_for(request.user, pk)
    score, findings = health.run(consortium)
    return render(
        request,
        "consortia/health.html",
        {
            "consortium": consortium,
            "score": score,
            "findings": findings,
            "history": health.history(consortium),
            "may_record": represents(request.user, consortium.pk),
        },
    )


@login_required
@require_POST
def health_record(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Keep today's result in the history now, rather than at the next daily run."""
    consortium = permissions.get_consortium_for(request.user, pk)
    health.record_on_demand(actor=acting_user(request), consortium=consortium)
    messages.success(request, _("The check ran; its result is in the history."))
    return redirect("consortia:health", pk=consortium.pk)
