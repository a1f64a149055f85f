"""Browser pages of allocation requests: the capacity board's queue (a pool's or the
consortium's), a request's page with the board's decision form and the requester's revise and
withdraw, and the new-request form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from alliance.auth import acting_user
from alliance.errors import AccessDeniedError, ConflictError
from compute import allocations, permissions, selectors
from compute.forms import DecisionForm, ReasonForm, RequestForm
from compute.models import AllocationRequest, Pool
from compute.permissions import ComputeAction, can, get_pool_for, get_request_for
from compute.views import consortium_for, is_partial, run_service
from consortia.models import Consortium


def _queue_page(request: HttpRequest, consortium: Consortium, pool: Pool | None) -> HttpResponse:
    user = request.user
    pools = list(selectors.pool_list(actor=user, consortium_id=consortium.pk))
    template = "compute/queue.html"
    return render(
        request,
        f"{template}#queue" if is_partial(request) else template,
        {
            "consortium": consortium,
            "pool": pool,
            "pools": pools,
            "queue": list(
                selectors.request_queue(actor=user, consortium_id=consortium.pk, pool=pool)
            ),
            "decided": selectors.recent_decisions(
                actor=user, consortium_id=consortium.pk, pool=pool
            ),
            "may_decide": can(user, ComputeAction.DECIDE, consortium.pk),
            "may_request": can(user, ComputeAction.REQUEST, consortium.pk),
        },
    )


@login_required
@require_GET
@vary_on_headers("HX-Request")
def consortium_queue(request: HttpRequest, consortium_pk: int) -> HttpResponse:
    consortium = consortium_for(request, consortium_pk)
    pool = None
    if request.GET.get("pool"):
        pool = get_pool_for(request.user, request.GET["pool"])
        if pool.consortium_id != consortium.pk:
            pool = None
    return _queue_page(request, consortium, pool)


@login_required
@require_GET
def pool_queue(request: HttpRequest, pk: int) -> HttpResponse:
    pool = get_pool_for(request.user, pk)
    return _queue_page(request, pool.consortium, pool)


def _request_form(request: HttpRequest, pool: Pool, data: Any = None, **kwargs: Any) -> RequestForm:
    return RequestForm(
        data,
        pool=pool,
        datasets=selectors.consortium_datasets(
            actor=request.user, consortium_id=pool.consortium_id
        ),
        **kwargs,
    )


def _terms(form: RequestForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "gpus": data["gpus"],
        "gpu_hours": data["gpu_hours"],
        "starts_at": data["starts_at"],
        "ends_at": data["ends_at"],
        "purpose": data["purpose"],
        "sites": list(data["sites"]),
        "datasets": list(data["datasets"]),
    }


@login_required
@require_http_methods(["GET", "POST"])
def request_create(request: HttpRequest, pk: int) -> HttpResponse:
    pool = get_pool_for(request.user, pk, ComputeAction.REQUEST)
    form = _request_form(request, pool, request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            created, status = run_service(
                form,
                lambda: allocations.request_submit(
                    actor=acting_user(request), pool=pool, **_terms(form)
                ),
            )
            if created is not None:
                messages.success(
                    request,
                    _("Request %(created_number)s is with the capacity board.")
                    % {"created_number": created.number},
                )
                return redirect("compute:request", pk=created.pk)
    return render(
        request,
        "compute/request_form.html",
        {
            "form": form,
            "pool": pool,
            "consortium": pool.consortium,
            "title": _("Request %(gpu_type)s GPUs of %(pool_name)s")
            % {"gpu_type": pool.gpu_type, "pool_name": pool.name},
            "submit": _("Send to the capacity board"),
            "cancel": reverse("compute:pool", args=[pool.pk]),
        },
        status=status,
    )


def _request_context(
    request: HttpRequest, allocation: AllocationRequest, **bound: Any
) -> dict[str, Any]:
    user = request.user
    consortium_id = allocation.consortium_id
    own = getattr(user, "organisation_id", None) == allocation.organisation_id
    may_decide = (
        allocation.status == AllocationRequest.Status.SUBMITTED
        and can(user, ComputeAction.DECIDE, consortium_id)
        and (not own or getattr(user, "is_superuser", False))
    )
    may_change = own and can(user, ComputeAction.REQUEST, consortium_id)
    reservations = list(selectors.request_reservations(actor=user, request=allocation))
    may_release = can(user, ComputeAction.DECIDE, consortium_id) or may_change
    return {
        "allocation": allocation,
        "pool": allocation.pool,
        "consortium": allocation.consortium,
        "reservations": reservations,
        "may_decide": may_decide,
        "board_member_of_requester": own and can(user, ComputeAction.DECIDE, consortium_id),
        "may_revise": may_change
        and allocation.status
        in (AllocationRequest.Status.SUBMITTED, AllocationRequest.Status.CHANGES_REQUESTED),
        "may_withdraw": may_change
        and allocation.status
        in (AllocationRequest.Status.SUBMITTED, AllocationRequest.Status.CHANGES_REQUESTED),
        "may_release": may_release,
        "decision_form": bound.get("decision_form") or DecisionForm(),
        "release_form": ReasonForm(),
    }


@login_required
@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = selectors.request_detail(actor=request.user, pk=pk)
    return render(request, "compute/request.html", _request_context(request, allocation))


@login_required
@require_POST
def request_decide(request: HttpRequest, pk: int) -> HttpResponseBase:
    allocation = get_request_for(request.user, pk, ComputeAction.DECIDE)
    form = DecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        decided, status = run_service(
            form,
            lambda: allocations.request_decide(
                actor=acting_user(request),
                request=allocation,
                decision=data["decision"],
                reason=data["reason"],
                gpus=data["gpus"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                from_reserve=data["from_reserve"],
                vote_closes_at=data["vote_closes_at"],
            ),
        )
        if decided is not None:
            if decided.status == AllocationRequest.Status.AWAITING_VOTE:
                messages.success(
                    request,
                    _(
                        "Request %(number)s is above the pool's vote threshold: motion "
                        "%(motion_number)s is open for the steering committee."
                    )
                    % {
                        "number": decided.number,
                        "motion_number": decided.motion.number if decided.motion else "",
                    },
                )
            else:
                messages.success(
                    request,
                    _("Request %(number)s: %(status)s.")
                    % {"number": decided.number, "status": decided.get_status_display().lower()},
                )
            return redirect("compute:request", pk=allocation.pk)
    else:
        status = 400
    allocation = selectors.request_detail(actor=request.user, pk=pk)
    return render(
        request,
        "compute/request.html",
        _request_context(request, allocation, decision_form=form),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_revise(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = get_request_for(request.user, pk, ComputeAction.REQUEST)
    if acting_user(request).organisation_id != allocation.organisation_id:
        raise AccessDeniedError(
            "Only people of the requesting organisation change its request.",
            consortium_id=allocation.consortium_id,
            object_type="compute.allocationrequest",
            object_id=str(allocation.pk),
            action="revise_request",
        )
    if request.method == "POST":
        form = _request_form(request, allocation.pool, request.POST)
    else:
        detailed = selectors.request_detail(actor=request.user, pk=pk)
        form = _request_form(request, allocation.pool, initial=RequestForm.initial_from(detailed))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            revised, status = run_service(
                form,
                lambda: allocations.request_revise(
                    actor=acting_user(request), request=allocation, **_terms(form)
                ),
            )
            if revised is not None:
                messages.success(
                    request,
                    _("Request %(revised_number)s is back with the board.")
                    % {"revised_number": revised.number},
                )
                return redirect("compute:request", pk=allocation.pk)
    return render(
        request,
        "compute/request_form.html",
        {
            "form": form,
            "pool": allocation.pool,
            "consortium": allocation.consortium,
            "title": _("Revise request %(allocation_number)s")
            % {"allocation_number": allocation.number},
            "submit": _("Send the revised request"),
            "cancel": reverse("compute:request", args=[allocation.pk]),
            "allocation": allocation,
        },
        status=status,
    )


def _run(request: HttpRequest, action: Any, done: str) -> None:
    try:
        action()
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except ConflictError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)


@login_required
@require_POST
def request_withdraw(request: HttpRequest, pk: int) -> HttpResponseBase:
    allocation = get_request_for(request.user, pk, ComputeAction.REQUEST)
    _run(
        request,
        lambda: allocations.request_withdraw(actor=acting_user(request), request=allocation),
        _("Request %(allocation_number)s is withdrawn.") % {"allocation_number": allocation.number},
    )
    return redirect("compute:request", pk=allocation.pk)


@login_required
@require_POST
def reservation_release(request: HttpRequest, pk: int) -> HttpResponseBase:
    reservation = permissions.get_reservation_for(request.user, pk)
    _run(
        request,
        lambda: allocations.reservation_release(
            actor=acting_user(request),
            reservation=reservation,
            reason=request.POST.get("reason", ""),
        ),
        _("%(gpus)s GPUs at %(site_name)s are released.")
        % {"gpus": reservation.gpus, "site_name": reservation.site.name},
    )
    return redirect(reverse("compute:request", args=[reservation.request_id]) + "#reservations")
