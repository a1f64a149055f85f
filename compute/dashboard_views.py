"""The compute and compliance sections of the consortium page: pools now, capacity against
reserved and used over time, each member's share against its usage, and compliance findings
by severity. Each chart has its numbers in a table under it and as CSV, behind the same gate
as the page (404 outside the consortium)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from alliance.charts import count_bars
from compute import charts, compliance_selectors, permissions, selectors
from compute.compliance.models import Finding
from compute.permissions import ComputeAction
from compute.views import consortium_for, csv_response
from consortia.models import Consortium


def consortium_panel(request: HttpRequest, consortium: Consortium) -> dict[str, Any]:
    """Each pool with its GPUs now, what is reserved now and the requests waiting; the
    consortium's capacity, reserved and used GPU-hours per day; share and usage per member."""
    rights = permissions.rights(request.user, consortium.pk)
    may_view = ComputeAction.VIEW in rights
    context: dict[str, Any] = {
        "consortium": consortium,
        "may_view": may_view,
        "pools": [],
        "may_create_pool": ComputeAction.MANAGE_POOLS in rights,
        "may_approve_sites": ComputeAction.APPROVE_SITES in rights,
    }
    if not may_view:
        return context
    pools = selectors.pool_summaries(actor=request.user, consortium_id=consortium.pk)
    context["pools"] = pools
    if not pools:
        return context
    first, last = selectors.chart_window()
    series = selectors.consortium_capacity_series(
        actor=request.user, consortium_id=consortium.pk, first=first, last=last
    )
    today = timezone.localdate()
    shares = selectors.consortium_fair_share(consortium)
    context.update(
        series=series,
        first=first,
        last=last,
        today=today,
        capacity_chart=charts.capacity_chart(
            series,
            title=f"{consortium.name}: capacity, reserved and used GPU-hours per day, all pools",
            today=today,
        ),
        capacity_csv_url=reverse("compute:consortium-capacity-csv", args=[consortium.pk]),
        shares=shares,
        share_chart=charts.share_usage_chart(
            [
                charts.ShareUsage(
                    name=row.organisation_name, share=row.share, usage=row.usage_fraction
                )
                for row in shares
            ],
            title=f"{consortium.name}: each member's share and usage, all pools",
        ),
        share_csv_url=reverse("compute:consortium-fair-share", args=[consortium.pk])
        + "?format=csv",
    )
    return context


def compliance_panel(request: HttpRequest, consortium: Consortium) -> dict[str, Any]:
    """The consortium's compliance findings by severity (those still to put right charted)."""
    if not permissions.can(request.user, ComputeAction.VIEW, consortium.pk):
        return {"consortium": consortium, "may_view": False}
    counts = compliance_selectors.findings_by_severity(
        actor=request.user, consortium_id=consortium.pk
    )
    rows = [(severity, by_status, _unresolved(by_status)) for severity, by_status in counts.items()]
    unresolved = [(severity.capitalize(), open_now) for severity, _, open_now in rows]
    total = sum(sum(by_status.values()) for by_status in counts.values())
    return {
        "consortium": consortium,
        "may_view": True,
        "rows": rows,
        "total": total,
        # pygal takes tens of milliseconds: no chart for a consortium that never had a finding.
        "chart": count_bars(
            unresolved,
            title=f"{consortium.name}: compliance findings still to put right, by severity",
            description="One bar per severity, most severe on top, each labelled with how "
            "many findings are open or acknowledged. The table under the chart also counts "
            "the resolved ones.",
            unit="findings",
        )
        if total
        else None,
        "csv_url": reverse("compute:findings-csv", args=[consortium.pk]),
    }


def _unresolved(by_status: dict[str, int]) -> int:
    return by_status[Finding.Status.OPEN] + by_status[Finding.Status.ACKNOWLEDGED]


@login_required
@require_GET
def consortium_capacity_csv(request: HttpRequest, consortium_pk: int) -> HttpResponse:
    consortium = consortium_for(request, consortium_pk)
    first, last = selectors.chart_window()
    series = selectors.consortium_capacity_series(
        actor=request.user, consortium_id=consortium.pk, first=first, last=last
    )
    return charts.capacity_csv(f"consortium-{consortium.pk}-capacity-{first}-{last}.csv", series)


@login_required
@require_GET
def findings_csv(request: HttpRequest, consortium_pk: int) -> HttpResponse:
    consortium = consortium_for(request, consortium_pk)
    counts = compliance_selectors.findings_by_severity(
        actor=request.user, consortium_id=consortium.pk
    )
    return csv_response(
        f"consortium-{consortium.pk}-findings-by-severity-{timezone.localdate()}.csv",
        ("severity", *Finding.Status.values, "unresolved"),
        (
            (
                severity,
                *(by_status[status] for status in Finding.Status.values),
                _unresolved(by_status),
            )
            for severity, by_status in counts.items()
        ),
    )
