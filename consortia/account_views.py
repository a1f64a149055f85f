"""The signed-in person's API tokens: create one (shown once), see them, revoke them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from alliance.auth import acting_user
from consortia import services


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    new_token = None
    if request.method == "POST":
        new_token = services.api_token_create(actor=acting_user(request))
        messages.success(request, _("Token created. Copy it now: it is not shown again."))
    tokens = services.api_token_list(actor=acting_user(request))
    return render(request, "consortia/tokens.html", {"tokens": tokens, "new_token": new_token})


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_key: str) -> HttpResponseBase:
    if services.api_token_revoke(actor=acting_user(request), token_key=token_key):
        messages.success(request, _("Token revoked."))
    else:
        messages.error(request, _("No such token of yours."))
    return redirect("consortia:tokens")
