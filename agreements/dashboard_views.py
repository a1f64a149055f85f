"""The agreements section of the consortium page: agreements by status as a chart (with its
numbers as a table and as CSV) and those expiring soon, highlighted."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from agreements import exports, selectors
from agreements import permissions as policy
from alliance.charts import count_bars
from alliance.csv_export import csv_response
from consortia import permissions as consortium_permissions
from consortia.models import Consortium


def consortium_panel(request: HttpRequest, consortium: Consortium) -> dict[str, Any]:
    counts = selectors.status_counts(actor=request.user, consortium_id=consortium.pk)
    shown = [(label, count) for _, label, count in counts if count]
    return {
        "consortium": consortium,
        "by_status": shown,
        "chart": count_bars(
            shown,
            title=f"{consortium.name}: agreements by status",
            description="One bar per status that has agreements, in lifecycle order, each "
            "labelled with its count. The table under the chart has the same numbers.",
            unit="agreements",
        )
        if shown
        else None,
        "csv_url": reverse("agreements:by-status-csv", args=[consortium.pk]),
        "expiring": list(
            selectors.expiring(
                actor=request.user,
                consortium_id=consortium.pk,
                within_days=settings.AGREEMENT_EXPIRY_WARNING_DAYS,
            )
        ),
        "warning_days": settings.AGREEMENT_EXPIRY_WARNING_DAYS,
        "today": timezone.localdate(),
        "can_draft": policy.can_draft_in(request.user, consortium.pk),
        "can_export": exports.may_export(request.user, consortium.pk),
    }


@login_required
@require_GET
def by_status_csv(request: HttpRequest, consortium_pk: int) -> HttpResponse:
    """The chart's numbers: every status, with zeros (404 outside the consortium)."""
    consortium = consortium_permissions.get_consortium_for(request.user, consortium_pk)
    counts = selectors.status_counts(actor=request.user, consortium_id=consortium.pk)
    return csv_response(
        f"consortium-{consortium.pk}-agreements-by-status-{timezone.localdate()}.csv",
        ("status", "label", "agreements"),
        counts,
    )
