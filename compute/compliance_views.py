"""Browser pages of the compliance engine: a consortium's latest decisions with a "what if"
form, its whole decision log and its findings (resolved ones too), each filtered and paged,
and one decision with every rule the engine checked.

A what-if stores no Job, but its decision is stored and audited like every decision. Every
reader of the consortium reads the log; members who request capacity or report usage check
jobs (a read-only role sees no form and gets 403 on POST); outside the consortium, 404.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from alliance.auth import acting_user
from alliance.errors import ConflictError
from compute import compliance_selectors as selectors
from compute import permissions
from compute import selectors as compute_selectors
from compute.compliance import services, sweeps
from compute.compliance_forms import WhatIfForm
from compute.views import consortium_for, is_partial, run_service
from consortia.models import Consortium


def _what_if_form(request: HttpRequest, consortium: Consortium, data: Any = None) -> WhatIfForm:
    user = request.user
    return WhatIfForm(
        data,
        datasets=compute_selectors.consortium_datasets(actor=user, consortium_id=consortium.pk),
        models=selectors.consortium_models(actor=user, consortium_id=consortium.pk),
        # Every site of the directory: a what-if may name one the consortium has not
        # approved, and the engine says so (SITE_NOT_APPROVED).
        sites=compute_selectors.all_sites(actor=user),
        jurisdictions=compute_selectors.jurisdictions(),
    )


@login_required
@require_http_methods(["GET", "POST"])
def compliance_page(request: HttpRequest, consortium_pk: int) -> HttpResponse:
    """The decision log, newest first, and the what-if form for those who may check jobs."""
    consortium = consortium_for(request, consortium_pk)
    user = request.user
    may_check = selectors.may_check_jobs(user, consortium.pk)
    form: WhatIfForm | None = None
    decision = None
    status = 200
    if request.method == "POST":
        selectors.require_check_jobs(user, consortium.pk)
        form = _what_if_form(request, consortium, request.POST)
        status = 400
        if form.is_valid():
            bound = form
            decision, status = run_service(
                bound,
                lambda: services.decide_and_record(
                    actor=acting_user(request),
                    consortium=consortium,
                    spec_or_job=bound.spec(),
                    at=bound.cleaned_data["at"],
                    explain=True,
                ),
            )
    elif may_check:
        form = _what_if_form(request, consortium)
    findings, by_severity = selectors.open_findings(actor=user, consortium_id=consortium.pk)
    return render(
        request,
        "compute/compliance.html",
        {
            "consortium": consortium,
            "decisions": selectors.decision_list(actor=user, consortium_id=consortium.pk),
            "total": selectors.decision_count(actor=user, consortium_id=consortium.pk),
            "log_length": selectors.LOG_LENGTH,
            "may_check": may_check,
            "form": form,
            "decision": decision,
            "findings": findings,
            "findings_total": sum(by_severity.values()),
            "findings_by_severity": by_severity,
            "note_length": sweeps.FINDING_NOTE_LENGTH,
        },
        status=status,
    )


def _filtered_page(
    request: HttpRequest,
    consortium: Consortium,
    filterset: Any,
    shown_filters: tuple[str, ...],
    per_page: int,
    template: str,
    **context: Any,
) -> HttpResponse:
    """A page of what ``filterset`` keeps, with the filters a person picks from (the others,
    ids, are the API's); htmx gets the results alone. A hand-written query with a choice that
    does not exist answers 400 and says so, not a silent full list."""
    valid = not filterset.is_bound or filterset.is_valid()
    rows = filterset.qs if valid else filterset.queryset.none()
    return render(
        request,
        f"{template}#results" if is_partial(request) else template,
        {
            "consortium": consortium,
            "filterset": filterset,
            "shown_filters": shown_filters,
            "page": Paginator(rows, per_page).get_page(request.GET.get("page")),
            **context,
        },
        status=200 if valid else 400,
    )


@login_required
@require_GET
@vary_on_headers("HX-Request")
def finding_list(request: HttpRequest, consortium_pk: int) -> HttpResponse:
    """Every finding of the consortium, resolved ones too, newest first: filtered by status,
    severity and rule, a page at a time, with who handled each and their notes."""
    consortium = consortium_for(request, consortium_pk)
    user = request.user
    filterset = selectors.FindingFilter(
        request.GET or None,
        queryset=selectors.consortium_findings(actor=user, consortium_id=consortium.pk),
    )
    return _filtered_page(
        request,
        consortium,
        filterset,
        ("status", "severity", "code"),
        selectors.FINDINGS_PAGE,
        "compute/findings.html",
        may_check=selectors.may_check_jobs(user, consortium.pk),
        note_length=sweeps.FINDING_NOTE_LENGTH,
    )


@login_required
@require_GET
@vary_on_headers("HX-Request")
def decision_log(request: HttpRequest, consortium_pk: int) -> HttpResponse:
    """The consortium's whole decision log, newest first, filtered by outcome, a page at a
    time (the compliance page shows the latest only)."""
    consortium = consortium_for(request, consortium_pk)
    filterset = selectors.DecisionFilter(
        request.GET or None,
        queryset=selectors.consortium_decisions(actor=request.user, consortium_id=consortium.pk),
    )
    return _filtered_page(
        request, consortium, filterset, ("outcome",), selectors.LOG_PAGE, "compute/decisions.html"
    )


@login_required
@require_POST
def finding_handle(request: HttpRequest, pk: int, step: str) -> HttpResponseBase:
    """Acknowledge or resolve a finding, with a note (needed to resolve), then go back to the
    page it was handled on."""
    if step not in ("acknowledge", "resolve"):
        raise Http404("Findings are acknowledged or resolved.")
    finding = permissions.get_finding_for(request.user, pk)
    note = request.POST.get("note", "")
    handle = sweeps.finding_resolve if step == "resolve" else sweeps.finding_acknowledge
    try:
        handle(actor=acting_user(request), finding=finding, note=note)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except ConflictError as error:
        messages.error(request, error.message)
    else:
        done = "resolved" if step == "resolve" else "acknowledged"
        messages.success(request, f"Finding {finding.pk} is {done}.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("compute:compliance", args=[finding.consortium_id]) + "#findings"
    return redirect(back)


@login_required
@require_GET
def decision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One decision: its reasons and obligations, every rule checked, the facts it saw."""
    decision = permissions.get_decision_for(request.user, pk)
    return render(
        request,
        "compute/decision.html",
        {
            "decision": decision,
            "consortium": decision.consortium,
            "snapshot": json.dumps(decision.input_snapshot, indent=2, sort_keys=True),
        },
    )
