"""Browser pages of a capacity pool: its overview (settings, sites, capacity against reserved
and used over time, the reservation timeline, shares, contributions, capacity changes,
loans), the forms of those who run it, the usage upload and the fair-share pages.

Every chart is server-rendered SVG with its numbers in a table and as CSV beside it."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alliance.auth import acting_user
from alliance.errors import ConflictError
from compute import capacity as capacity_services
from compute import charts, lending, pools, selectors, shares, usage
from compute.forms import (
    CapacityChangeForm,
    ContributionForm,
    LoanForm,
    PoolCreateForm,
    PoolSettingsForm,
    UsageUploadForm,
)
from compute.models import Pool
from compute.permissions import ComputeAction, get_loan_for, get_pool_for, rights
from compute.views import consortium_for, csv_response, run_service


def _window() -> tuple[datetime.date, datetime.date, datetime.datetime, datetime.datetime]:
    first, last = selectors.chart_window()
    return first, last, selectors.midnight(first), selectors.midnight(last + datetime.timedelta(1))


def _pool_context(request: HttpRequest, pool: Pool, **bound: Any) -> dict[str, Any]:
    user = request.user
    consortium_id = pool.consortium_id
    first, last, start, end = _window()
    series = selectors.capacity_series(actor=user, pool=pool, first=first, last=last)
    window_reservations = list(
        selectors.reservation_list(actor=user, pool=pool, start=start, end=end)
    )
    ledger = selectors.contribution_ledger(pool)
    granted = rights(user, consortium_id)
    may = {
        "manage": ComputeAction.MANAGE_POOLS in granted,
        "change_capacity": ComputeAction.CHANGE_CAPACITY in granted,
        "contribute": ComputeAction.RECORD_CONTRIBUTIONS in granted,
        "request": ComputeAction.REQUEST in granted,
        "report_usage": ComputeAction.REPORT_USAGE in granted,
        "lend": ComputeAction.LEND in granted,
        "decide": ComputeAction.DECIDE in granted,
    }
    members = selectors.member_organisations(consortium_id)
    forms: dict[str, Any] = {
        "settings_form": bound.get("settings_form")
        or (PoolSettingsForm.for_pool(pool) if may["manage"] else None),
        "capacity_form": bound.get("capacity_form")
        or (CapacityChangeForm(pool=pool) if may["change_capacity"] else None),
        "contribution_form": bound.get("contribution_form")
        or (
            ContributionForm(pool=pool, organisations=members, ledger=ledger)
            if may["contribute"]
            else None
        ),
        "loan_form": bound.get("loan_form")
        or (
            LoanForm(organisations=members.exclude(pk=getattr(user, "organisation_id", None) or 0))
            if may["lend"]
            else None
        ),
    }
    today = timezone.localdate()
    return {
        "pool": pool,
        "consortium": pool.consortium,
        "sites": selectors.pool_sites(pool),
        "series": series,
        "chart": charts.capacity_chart(
            series,
            title=_("%(pool_name)s: capacity, reserved and used GPU-hours per day")
            % {"pool_name": pool.name},
            today=today,
        ),
        "first": first,
        "last": last,
        "timeline": charts.timeline_chart(
            selectors.timeline_bars(window_reservations),
            start=start,
            end=end,
            now=timezone.now(),
            title=_("%(pool_name)s: reservations from %(first)s to %(last)s")
            % {
                "pool_name": pool.name,
                "first": format(first, "%d %b %Y"),
                "last": format(last, "%d %b %Y"),
            },
        ),
        "reservations": list(
            selectors.reservation_list(actor=user, pool=pool, start=timezone.now())
        ),
        "shares": selectors.share_table(pool),
        "contributions": list(ledger),
        "capacity_changes": list(selectors.capacity_history(pool)),
        "loans": list(selectors.loan_list(actor=user, pool=pool)),
        "open_requests": selectors.request_queue(
            actor=user, consortium_id=consortium_id, pool=pool
        ).count(),
        "may": may,
        "own_organisation": getattr(user, "organisation_id", None),
        "today": today,
        **forms,
    }


def _pool_page(request: HttpRequest, pool: Pool, status: int = 200, **bound: Any) -> HttpResponse:
    return render(
        request, "compute/pool.html", _pool_context(request, pool, **bound), status=status
    )


@login_required
@require_GET
def pool_index(request: HttpRequest) -> HttpResponse:
    """Every GPU pool of the consortia the reader sees, with what is free now."""
    summaries = selectors.pool_summaries(actor=request.user)
    return render(request, "compute/pools.html", {"summaries": summaries})


@login_required
@require_GET
def pool_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _pool_page(request, get_pool_for(request.user, pk))


@login_required
@require_http_methods(["GET", "POST"])
def pool_create(request: HttpRequest, consortium_pk: int) -> HttpResponse:
    consortium = consortium_for(request, consortium_pk, ComputeAction.MANAGE_POOLS)
    form = PoolCreateForm(request.POST or None, sites=selectors.usable_sites(consortium.pk))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            chosen = list(data["sites"])
            initial = data["initial_gpus"]
            pool, status = run_service(
                form,
                lambda: pools.pool_create(
                    actor=acting_user(request),
                    consortium=consortium,
                    name=data["name"],
                    gpu_type=data["gpu_type"],
                    sites=chosen,
                    initial_gpus={site.pk: initial for site in chosen} if initial else None,
                    **form.settings(),
                ),
            )
            if pool is not None:
                messages.success(request, _("%(pool_name)s is set up.") % {"pool_name": pool.name})
                return redirect("compute:pool", pk=pool.pk)
    return render(
        request,
        "consortia/form.html",
        {
            "form": form,
            "title": _("New GPU pool in %(consortium_name)s")
            % {"consortium_name": consortium.name},
            "submit": _("Create the pool"),
            "cancel": reverse("consortia:detail", args=[consortium.pk]),
        },
        status=status,
    )


@login_required
@require_POST
def pool_settings(request: HttpRequest, pk: int) -> HttpResponseBase:
    pool = get_pool_for(request.user, pk, ComputeAction.MANAGE_POOLS)
    form = PoolSettingsForm.for_pool(pool, request.POST)
    if form.is_valid():
        done, status = run_service(
            form,
            lambda: pools.pool_update(actor=acting_user(request), pool=pool, **form.settings()),
        )
        if done is not None:
            messages.success(request, _("The pool's rules are saved."))
            return redirect("compute:pool", pk=pool.pk)
    else:
        status = 400
    pool.refresh_from_db()
    return _pool_page(request, pool, status, settings_form=form)


@login_required
@require_POST
def capacity_change(request: HttpRequest, pk: int) -> HttpResponseBase:
    pool = get_pool_for(request.user, pk, ComputeAction.CHANGE_CAPACITY)
    form = CapacityChangeForm(request.POST, pool=pool)
    if form.is_valid():
        data = form.cleaned_data
        change, status = run_service(
            form,
            lambda: capacity_services.capacity_change(
                actor=acting_user(request),
                pool=pool,
                site=data["site"],
                effective_at=data["effective_at"],
                gpus=data["gpus"],
                reason=data["reason"],
            ),
        )
        if change is not None:
            messages.success(
                request,
                _("%(site_name)s has %(gpus)s GPUs from %(effective_at)s UTC.")
                % {
                    "site_name": change.site.name,
                    "gpus": change.gpus,
                    "effective_at": format(change.effective_at, "%d %b %Y %H:%M"),
                },
            )
            return redirect(reverse("compute:pool", args=[pool.pk]) + "#capacity-changes")
    else:
        status = 400
    return _pool_page(request, pool, status, capacity_form=form)


@login_required
@require_POST
def contribution_create(request: HttpRequest, pk: int) -> HttpResponseBase:
    pool = get_pool_for(request.user, pk, ComputeAction.RECORD_CONTRIBUTIONS)
    form = ContributionForm(
        request.POST,
        pool=pool,
        organisations=selectors.member_organisations(pool.consortium_id),
        ledger=selectors.contribution_ledger(pool),
    )
    if form.is_valid():
        data = form.cleaned_data
        entry, status = run_service(
            form,
            lambda: shares.contribution_record(actor=acting_user(request), pool=pool, **data),
        )
        if entry is not None:
            messages.success(
                request,
                _("Contribution of %(organisation)s recorded (counts %(value)s).")
                % {"organisation": entry.organisation, "value": entry.value},
            )
            return redirect(reverse("compute:pool", args=[pool.pk]) + "#contributions")
    else:
        status = 400
    return _pool_page(request, pool, status, contribution_form=form)


@login_required
@require_POST
def loan_create(request: HttpRequest, pk: int) -> HttpResponseBase:
    pool = get_pool_for(request.user, pk, ComputeAction.LEND)
    form = LoanForm(
        request.POST,
        organisations=selectors.member_organisations(pool.consortium_id).exclude(
            pk=acting_user(request).organisation_id or 0
        ),
    )
    if form.is_valid():
        loan, status = run_service(
            form,
            lambda: lending.loan_grant(actor=acting_user(request), pool=pool, **form.cleaned_data),
        )
        if loan is not None:
            messages.success(
                request,
                _("%(gpu_hours)s GPU-hours lent to %(borrower)s from %(starts_on)s.")
                % {
                    "gpu_hours": loan.gpu_hours,
                    "borrower": loan.borrower,
                    "starts_on": loan.starts_on,
                },
            )
            return redirect(reverse("compute:pool", args=[pool.pk]) + "#loans")
    else:
        status = 400
    return _pool_page(request, pool, status, loan_form=form)


@login_required
@require_POST
def loan_cancel(request: HttpRequest, pk: int) -> HttpResponseBase:
    loan = get_loan_for(request.user, pk, ComputeAction.LEND)
    try:
        lending.loan_cancel(actor=acting_user(request), loan=loan)
    except (ValidationError, ConflictError) as error:
        text = error.message if isinstance(error, ConflictError) else " ".join(error.messages)
        messages.error(request, text)
    else:
        messages.success(request, _("The loan is cancelled."))
    return redirect(reverse("compute:pool", args=[loan.pool_id]) + "#loans")


@login_required
@require_GET
def capacity_csv(request: HttpRequest, pk: int) -> HttpResponse:
    pool = get_pool_for(request.user, pk)
    first, last = selectors.chart_window()
    series = selectors.capacity_series(actor=request.user, pool=pool, first=first, last=last)
    return charts.capacity_csv(f"pool-{pool.pk}-capacity-{first}-{last}.csv", series)


@login_required
@require_GET
def reservations_csv(request: HttpRequest, pk: int) -> HttpResponse:
    pool = get_pool_for(request.user, pk)
    _first, _last, start, end = _window()
    reservations = selectors.reservation_list(actor=request.user, pool=pool, start=start, end=end)
    return csv_response(
        f"pool-{pool.pk}-reservations.csv",
        ("request", "organisation", "site", "gpus", "starts_at", "ends_at", "gpu_hours"),
        (
            (
                reservation.request.number,
                reservation.organisation.name,
                reservation.site.name,
                reservation.gpus,
                reservation.starts_at.isoformat(),
                reservation.ends_at.isoformat(),
                reservation.gpu_hours,
            )
            for reservation in reservations
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def usage_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """A site's daily usage as CSV, all or nothing: every bad row is named, nothing is
    written unless every row is good."""
    pool = get_pool_for(request.user, pk, ComputeAction.REPORT_USAGE)
    form = (
        UsageUploadForm(request.POST, request.FILES)
        if request.method == "POST"
        else UsageUploadForm()
    )
    row_errors: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                rows = usage.usage_from_csv(form.cleaned_data["file"])
                result = usage.usage_ingest(actor=acting_user(request), pool=pool, rows=rows)
            except ValidationError as error:
                row_errors = (
                    error.message_dict.get("rows", error.messages)
                    if hasattr(error, "error_dict")
                    else error.messages
                )
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(rows)s row recorded: %(created)s new, %(replaced)s replaced "
                        "(%(total_gpu_hours)s GPU-hours).",
                        "%(rows)s rows recorded: %(created)s new, %(replaced)s replaced "
                        "(%(total_gpu_hours)s GPU-hours).",
                        result.rows,
                    )
                    % {
                        "rows": result.rows,
                        "created": result.created,
                        "replaced": result.replaced,
                        "total_gpu_hours": result.total_gpu_hours,
                    },
                )
                return redirect("compute:usage-upload", pk=pool.pk)
    return render(
        request,
        "compute/usage_upload.html",
        {
            "pool": pool,
            "consortium": pool.consortium,
            "form": form,
            "row_errors": row_errors,
            "columns": usage.CSV_COLUMNS,
            "sites": list(pool.sites.order_by("name")),
        },
        status=status,
    )


def _fair_share_rows(rows: list[Any]) -> list[charts.ShareUsage]:
    return [
        charts.ShareUsage(name=row.organisation_name, share=row.share, usage=row.usage_fraction)
        for row in rows
    ]


@login_required
@require_GET
def fair_share(request: HttpRequest, pk: int) -> HttpResponse:
    pool = get_pool_for(request.user, pk)
    rows = selectors.pool_fair_share(pool)
    return render(
        request,
        "compute/fair_share.html",
        {
            "pool": pool,
            "consortium": pool.consortium,
            "rows": rows,
            "chart": charts.share_usage_chart(
                _fair_share_rows(rows),
                title=_("%(pool_name)s: share and usage per member") % {"pool_name": pool.name},
            ),
            "alerts": list(
                selectors.open_alerts(
                    actor=request.user, consortium_id=pool.consortium_id, pool=pool
                )
            ),
            "csv_url": reverse("compute:fair-share-csv", args=[pool.pk]),
            "half_life_days": pool.half_life_days,
        },
    )


FAIR_SHARE_COLUMNS = (
    "rank",
    "organisation",
    "share",
    "contribution_share",
    "decayed_gpu_hours",
    "usage_fraction",
    "factor",
    "level_fair_share",
    "used_gpu_hours_30d",
)


def _fair_share_csv(filename: str, rows: list[Any]) -> HttpResponse:
    return csv_response(
        filename,
        FAIR_SHARE_COLUMNS,
        (
            (
                row.rank,
                row.organisation_name,
                f"{row.share:.6f}",
                f"{row.contribution_share:.6f}",
                f"{row.decayed_gpu_hours:.2f}",
                f"{row.usage_fraction:.6f}",
                f"{row.factor:.6f}",
                "infinite" if row.level is None else f"{row.level:.6f}",
                row.used_gpu_hours_30d,
            )
            for row in rows
        ),
    )


@login_required
@require_GET
def fair_share_csv(request: HttpRequest, pk: int) -> HttpResponse:
    pool = get_pool_for(request.user, pk)
    return _fair_share_csv(
        f"pool-{pool.pk}-fair-share-{timezone.localdate()}.csv", selectors.pool_fair_share(pool)
    )


@login_required
@require_GET
def consortium_fair_share(request: HttpRequest, consortium_pk: int) -> HttpResponse:
    consortium = consortium_for(request, consortium_pk)
    rows = selectors.consortium_fair_share(consortium)
    if request.GET.get("format") == "csv":
        return _fair_share_csv(
            f"consortium-{consortium.pk}-fair-share-{timezone.localdate()}.csv", rows
        )
    return render(
        request,
        "compute/fair_share.html",
        {
            "pool": None,
            "consortium": consortium,
            "pools": list(selectors.pool_list(actor=request.user, consortium_id=consortium.pk)),
            "rows": rows,
            "chart": charts.share_usage_chart(
                _fair_share_rows(rows),
                title=_("%(consortium_name)s: share and usage per member, all pools")
                % {"consortium_name": consortium.name},
            ),
            "alerts": list(selectors.open_alerts(actor=request.user, consortium_id=consortium.pk)),
            "csv_url": reverse("compute:consortium-fair-share", args=[consortium.pk])
            + "?format=csv",
        },
    )
