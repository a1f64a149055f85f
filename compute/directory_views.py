"""Browser pages of the provider and site directory, and a consortium's approvals of them.

Every signed-in user reads the directory; staff and people who run a consortium's compute
(chair, technical, capacity board) add to it. A consortium's approvals are read by everyone
who sees the consortium and decided by its chair."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alliance.auth import acting_user
from compute import directory, permissions, selectors
from compute.forms import (
    ApprovalForm,
    CertificationForm,
    ExposureForm,
    ProviderForm,
    ReasonForm,
    SiteForm,
)
from compute.models import Provider
from compute.permissions import (
    ComputeAction,
    can,
    can_edit_directory,
    get_provider_for,
    require_directory_editor,
)
from compute.views import consortium_for, run_service
from consortia.models import Consortium


@login_required
@require_GET
def provider_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "compute/providers.html",
        {
            "providers": selectors.provider_list(actor=request.user),
            "may_edit": can_edit_directory(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def provider_create(request: HttpRequest) -> HttpResponse:
    require_directory_editor(request.user)
    form = ProviderForm(request.POST or None, jurisdictions=selectors.jurisdictions())
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            provider, status = run_service(
                form,
                lambda: directory.provider_register(
                    actor=acting_user(request), **form.cleaned_data
                ),
            )
            if provider is not None:
                messages.success(
                    request,
                    _("%(provider)s is in the directory; add its sites.") % {"provider": provider},
                )
                return redirect("compute:provider", pk=provider.pk)
    return render(
        request,
        "consortia/form.html",
        {
            "form": form,
            "title": _("Register a compute provider"),
            "submit": _("Register"),
            "cancel": reverse("compute:providers"),
        },
        status=status,
    )


def _provider_context(request: HttpRequest, provider: Provider, **bound: Any) -> dict[str, Any]:
    may_edit = can_edit_directory(request.user)
    sites = selectors.provider_sites(actor=request.user, provider=provider)
    forms: dict[str, Any] = {}
    if may_edit:
        forms = {
            "site_form": bound.get("site_form")
            or SiteForm(countries=selectors.countries(), jurisdictions=selectors.jurisdictions()),
            "certification_form": bound.get("certification_form") or CertificationForm(sites=sites),
            "exposure_form": bound.get("exposure_form") or ExposureForm(),
        }
    return {
        "provider": provider,
        "today": timezone.localdate(),
        "may_edit": may_edit,
        **forms,
    }


@login_required
@require_GET
def provider_detail(request: HttpRequest, pk: int) -> HttpResponse:
    provider = selectors.provider_detail(actor=request.user, pk=pk)
    return render(request, "compute/provider.html", _provider_context(request, provider))


def _provider_step(
    request: HttpRequest, pk: int, form_name: str, form: Any, service: Any, done: str
) -> HttpResponseBase:
    if form.is_valid():
        result, status = run_service(form, lambda: service(form.cleaned_data))
        if result is not None:
            messages.success(request, done.format(result=result))
            return redirect("compute:provider", pk=pk)
    else:
        status = 400
    provider = selectors.provider_detail(actor=request.user, pk=pk)
    return render(
        request,
        "compute/provider.html",
        _provider_context(request, provider, **{form_name: form}),
        status=status,
    )


@login_required
@require_POST
def site_create(request: HttpRequest, pk: int) -> HttpResponseBase:
    provider = get_provider_for(request.user, pk)
    require_directory_editor(request.user)
    form = SiteForm(
        request.POST, countries=selectors.countries(), jurisdictions=selectors.jurisdictions()
    )
    return _provider_step(
        request,
        provider.pk,
        "site_form",
        form,
        lambda data: directory.site_register(
            actor=acting_user(request),
            provider=provider,
            name=data["name"],
            jurisdiction=data["jurisdiction"],
            administered_from=list(data["administered_from"]),
            air_gapped=data["air_gapped"],
        ),
        "{result.name} is registered.",
    )


@login_required
@require_POST
def certification_create(request: HttpRequest, pk: int) -> HttpResponseBase:
    provider = get_provider_for(request.user, pk)
    require_directory_editor(request.user)
    form = CertificationForm(
        request.POST, sites=selectors.provider_sites(actor=request.user, provider=provider)
    )
    return _provider_step(
        request,
        provider.pk,
        "certification_form",
        form,
        lambda data: directory.certification_record(
            actor=acting_user(request), provider=provider, **data
        ),
        "{result} is recorded.",
    )


@login_required
@require_POST
def exposure_create(request: HttpRequest, pk: int) -> HttpResponseBase:
    provider = get_provider_for(request.user, pk)
    require_directory_editor(request.user)
    form = ExposureForm(request.POST)
    return _provider_step(
        request,
        provider.pk,
        "exposure_form",
        form,
        lambda data: directory.exposure_record(
            actor=acting_user(request), provider=provider, **data
        ),
        _("Exposure recorded: {result}."),
    )


def _approvals_context(
    request: HttpRequest, consortium: Consortium, form: ApprovalForm | None = None
) -> dict[str, Any]:
    may_approve = can(request.user, ComputeAction.APPROVE_SITES, consortium.pk)
    today = timezone.localdate()
    approvals = list(selectors.approval_list(actor=request.user, consortium_id=consortium.pk))
    return {
        "consortium": consortium,
        "approvals": [(approval, approval.in_force(today)) for approval in approvals],
        "usable_sites": list(selectors.usable_sites(consortium.pk)),
        "may_approve": may_approve,
        "form": form
        or (
            ApprovalForm(
                providers=selectors.provider_list(actor=request.user),
                sites=selectors.all_sites(actor=request.user),
            )
            if may_approve
            else None
        ),
        "revoke_form": ReasonForm(),
        "today": today,
    }


@login_required
@require_http_methods(["GET", "POST"])
def approval_list(request: HttpRequest, consortium_pk: int) -> HttpResponse:
    if request.method == "GET":
        consortium = consortium_for(request, consortium_pk)
        return render(request, "compute/approvals.html", _approvals_context(request, consortium))
    consortium = consortium_for(request, consortium_pk, ComputeAction.APPROVE_SITES)
    form = ApprovalForm(
        request.POST,
        providers=selectors.provider_list(actor=request.user),
        sites=selectors.all_sites(actor=request.user),
    )
    if form.is_valid():
        approval, status = run_service(
            form,
            lambda: directory.approve(
                actor=acting_user(request), consortium=consortium, **form.cleaned_data
            ),
        )
        if approval is not None:
            messages.success(
                request,
                _("%(provider)s is approved from %(valid_from)s.")
                % {
                    "provider": approval.provider or approval.site,
                    "valid_from": approval.valid_from,
                },
            )
            return redirect("compute:approvals", consortium_pk=consortium.pk)
    else:
        status = 400
    return render(
        request,
        "compute/approvals.html",
        _approvals_context(request, consortium, form),
        status=status,
    )


@login_required
@require_POST
def approval_revoke(request: HttpRequest, pk: int) -> HttpResponseBase:
    approval = permissions.get_approval_for(request.user, pk, ComputeAction.APPROVE_SITES)
    form = ReasonForm(request.POST)
    if form.is_valid():
        _result, status = run_service(
            form,
            lambda: directory.approval_revoke(
                actor=acting_user(request), approval=approval, reason=form.cleaned_data["reason"]
            ),
        )
        if status == 200:
            messages.success(
                request,
                _("The approval of %(provider)s is revoked.")
                % {"provider": approval.provider or approval.site},
            )
            return redirect("compute:approvals", consortium_pk=approval.consortium_id)
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))
    return redirect("compute:approvals", consortium_pk=approval.consortium_id)
