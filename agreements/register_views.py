"""Browser pages of the data and IP registers: datasets and IP assets."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from agreements import asset_services, selectors, terms
from agreements.forms import DatasetForm
from alliance.auth import acting_user
from consortia import selectors as consortium_selectors
from consortia.forms import apply_service_errors


@login_required
@require_GET
def dataset_list(request: HttpRequest) -> HttpResponse:
    datasets = selectors.dataset_list(actor=request.user).order_by("consortium__name", "name")
    return render(request, "agreements/datasets.html", {"datasets": datasets})


@login_required
@require_GET
def dataset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dataset, clauses = selectors.dataset_detail(actor=request.user, pk=pk)
    readable = terms.readable(clauses)
    for clause in clauses:
        clause.readable = readable[clause.pk]  # type: ignore[attr-defined]
    return render(request, "agreements/dataset.html", {"dataset": dataset, "clauses": clauses})


@login_required
@require_http_methods(["GET", "POST"])
def dataset_create(request: HttpRequest) -> HttpResponse:
    actor = acting_user(request)
    form = DatasetForm(
        request.POST or None, consortia=consortium_selectors.consortium_list(actor=actor)
    )
    if request.method == "POST" and form.is_valid():
        try:
            if actor.organisation is None:
                raise ValidationError(_("Only people of an organisation register its data sets."))
            dataset = asset_services.dataset_create(
                actor=actor, owner=actor.organisation, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"{dataset.name} is registered.")
            return redirect("agreements:dataset", pk=dataset.pk)
    return render(
        request,
        "consortia/form.html",
        {
            "form": form,
            "title": _("Register a data set of your organisation"),
            "submit": _("Register"),
            "cancel": reverse("agreements:datasets"),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def ip_asset_list(request: HttpRequest) -> HttpResponse:
    assets = selectors.ip_asset_list(actor=request.user).order_by("consortium__name", "name")
    return render(request, "agreements/ip_assets.html", {"assets": assets})


@login_required
@require_GET
def ip_asset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    asset = selectors.ip_asset_detail(actor=request.user, pk=pk)
    restrictions = asset_services.inherited_restrictions(asset)
    return render(
        request, "agreements/ip_asset.html", {"asset": asset, "restrictions": restrictions}
    )
