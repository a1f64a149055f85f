"""Browser pages of the risk register and the operationalization plan. Everyone who sees
the consortium reads them; the chair and steering-committee members also get the forms.
Plain forms and ``<details>``: the pages work without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from alliance.auth import acting_user
from consortia import permissions, planning_selectors, planning_services
from consortia.forms import apply_service_errors
from consortia.models import Consortium
from consortia.planning import Milestone, Risk
from consortia.planning_forms import (
    MilestoneCompleteForm,
    MilestoneReopenForm,
    RiskForm,
    RiskUpdateForm,
)


def _risks_context(
    request: HttpRequest,
    consortium: Consortium,
    form: RiskForm | None = None,
    edited: RiskUpdateForm | None = None,
    edited_risk: Risk | None = None,
) -> dict[str, Any]:
    may_keep = planning_services.may_keep_plan(request.user, consortium.pk)
    owners = list(planning_selectors.owner_choices(consortium)) if may_keep else []
    rows = []
    for risk in planning_selectors.risk_list(request.user, consortium.pk):
        edit_form = None
        if may_keep:
            is_edited = edited_risk is not None and edited_risk.pk == risk.pk
            edit_form = edited if is_edited else RiskUpdateForm(owners=owners, risk=risk)
        rows.append({"risk": risk, "form": edit_form})
    return {
        "consortium": consortium,
        "rows": rows,
        "may_keep": may_keep,
        "form": form or (RiskForm(owners=owners) if may_keep else None),
        "edited_risk": edited_risk,
    }


@login_required
@require_http_methods(["GET", "POST"])
def risk_list(request: HttpRequest, pk: int) -> HttpResponse:
    consortium = permissions.get_consortium_for(request.user, pk)
    if request.method == "GET":
        return render(request, "consortia/risks.html", _risks_context(request, consortium))
    # Someone who may not write gets 403 whatever they sent, before the form is looked at.
    planning_services.require_keeper(acting_user(request), consortium.pk, consortium, "create_risk")
    owners = list(planning_selectors.owner_choices(consortium))
    form = RiskForm(request.POST, owners=owners)
    if form.is_valid():
        data = dict(form.cleaned_data)
        try:
            data["owner"] = planning_selectors.organisation_for_owner(data["owner"])
            risk = planning_services.risk_create(
                actor=acting_user(request), consortium=consortium, **data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"“{risk.title}” is on the register (score {risk.score}).")
            return redirect("consortia:risks", pk=consortium.pk)
    return render(
        request, "consortia/risks.html", _risks_context(request, consortium, form=form), status=400
    )


@login_required
@require_POST
def risk_edit(request: HttpRequest, pk: int) -> HttpResponseBase:
    risk = planning_selectors.get_risk_for(request.user, pk)
    planning_services.require_keeper(acting_user(request), risk.consortium_id, risk, "change_risk")
    owners = list(planning_selectors.owner_choices(risk.consortium))
    form = RiskUpdateForm(request.POST, owners=owners, risk=risk)
    if form.is_valid():
        data = dict(form.cleaned_data)
        try:
            data["owner"] = planning_selectors.organisation_for_owner(data["owner"])
            planning_services.risk_update(actor=acting_user(request), risk=risk, **data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"“{risk.title}” is updated.")
            return redirect("consortia:risks", pk=risk.consortium_id)
    return render(
        request,
        "consortia/risks.html",
        _risks_context(request, risk.consortium, edited=form, edited_risk=risk),
        status=400,
    )


def _plan_context(
    request: HttpRequest,
    consortium: Consortium,
    failed: Milestone | None = None,
    failed_form: MilestoneCompleteForm | MilestoneReopenForm | None = None,
) -> dict[str, Any]:
    return {
        "consortium": consortium,
        "plan": planning_selectors.plan_for(request.user, consortium),
        "may_keep": planning_services.may_keep_plan(request.user, consortium.pk),
        "failed": failed,
        "failed_form": failed_form,
    }


@login_required
@require_http_methods(["GET"])
def plan(request: HttpRequest, pk: int) -> HttpResponse:
    consortium = permissions.get_consortium_for(request.user, pk)
    return render(request, "consortia/plan.html", _plan_context(request, consortium))


def _milestone_step(
    request: HttpRequest,
    pk: int,
    form_class: type[MilestoneCompleteForm] | type[MilestoneReopenForm],
    service: Callable[..., Any],
    action: str,
    done: str,
) -> HttpResponseBase:
    milestone = planning_selectors.get_milestone_for(request.user, pk)
    planning_services.require_keeper(
        acting_user(request), milestone.consortium_id, milestone, action
    )
    form = form_class(request.POST)
    if form.is_valid():
        try:
            service(actor=acting_user(request), milestone=milestone, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, done.format(title=milestone.title))
            return redirect("consortia:plan", pk=milestone.consortium_id)
    return render(
        request,
        "consortia/plan.html",
        _plan_context(request, milestone.consortium, failed=milestone, failed_form=form),
        status=400,
    )


@login_required
@require_POST
def milestone_complete(request: HttpRequest, pk: int) -> HttpResponseBase:
    return _milestone_step(
        request,
        pk,
        MilestoneCompleteForm,
        planning_services.milestone_complete,
        "complete_milestone",
        "“{title}” is reached.",
    )


@login_required
@require_POST
def milestone_reopen(request: HttpRequest, pk: int) -> HttpResponseBase:
    return _milestone_step(
        request,
        pk,
        MilestoneReopenForm,
        planning_services.milestone_reopen,
        "reopen_milestone",
        "“{title}” is open again.",
    )


def consortium_panel(request: HttpRequest, consortium: Consortium) -> dict[str, Any]:
    """On the consortium page: plan progress, slipping milestones and the top open risks."""
    risks = planning_selectors.risk_list(request.user, consortium.pk).filter(
        status=Risk.Status.OPEN
    )
    return {
        "consortium": consortium,
        "plan": planning_selectors.plan_for(request.user, consortium),
        "top_risks": list(risks[:3]),
    }
