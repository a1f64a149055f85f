"""Browser pages of the audit trail: a consortium's activity, its exports."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from audit import exports, policy, selectors
from audit.filters import AuditEventFilter
from audit.models import Action, AuditExport
from audit.services import audit_read

PAGE_SIZE = 50


def _is_partial(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.boosted  # type: ignore[attr-defined]


@login_required
@require_GET
@vary_on_headers("HX-Request")
def activity(request: HttpRequest, pk: int) -> HttpResponse:
    """A consortium's audit chain as the reader may see it, newest first, filterable."""
    events, full = selectors.consortium_events(actor=request.user, consortium_id=pk)
    filterset = AuditEventFilter(request.GET or None, queryset=events)
    before = request.GET.get("before", "")
    page_events = filterset.qs.order_by("-sequence")
    if before.isdigit():
        page_events = page_events.filter(sequence__lt=int(before))
    rows = list(page_events[: PAGE_SIZE + 1])
    has_more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    audit_read(
        actor=request.user,
        consortium_id=pk,
        action=Action.LIST,
        filters={**filterset.applied(), **({"before": before} if before else {})},
        count=len(rows),
        what="audit.auditevent",
    )
    name, url = policy.current().consortium_label(pk)
    context: dict[str, Any] = {
        "consortium_id": pk,
        "consortium_name": name,
        "consortium_url": url,
        "filterset": filterset,
        "events": rows,
        "has_more": has_more,
        "next_before": rows[-1].sequence if rows else None,
        "full": full,
        "query": request.GET.copy(),
    }
    if _is_partial(request) and before:
        return render(request, "audit/activity.html#rows", context)
    if _is_partial(request):
        return render(request, "audit/activity.html#results", context)
    context["checkpoint"] = selectors.latest_checkpoint(actor=request.user, consortium_id=pk)
    context["exports"] = selectors.recent_exports(actor=request.user, consortium_id=pk)
    context["formats"] = AuditExport.Format.choices
    return render(request, "audit/activity.html", context)


@login_required
@require_POST
def export_create(request: HttpRequest, pk: int) -> HttpResponseBase:
    filters = {
        key: str(value)
        for key, value in request.POST.items()
        if key not in {"csrfmiddlewaretoken", "format"}
    }
    try:
        export = exports.audit_export_create(
            actor=request.user,
            consortium_id=pk,
            format=request.POST.get("format", ""),
            filters=filters,
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("audit:activity", pk=pk)
    messages.success(request, _("The export is being prepared; this page shows its progress."))
    return redirect("audit:export", pk=export.pk)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    export = selectors.export_detail(actor=request.user, pk=pk)
    name, url = policy.current().consortium_label(export.consortium_id)
    context = {"export": export, "consortium_name": name, "consortium_url": url}
    template = "audit/export.html"
    return render(request, f"{template}#status" if _is_partial(request) else template, context)


@login_required
@require_GET
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    export = selectors.export_detail(actor=request.user, pk=pk)
    if export.status != AuditExport.Status.DONE:
        raise Http404("This export is not ready.")
    path = exports.audit_export_open(actor=request.user, export=export)
    content_type = (
        "application/x-ndjson" if export.format == AuditExport.Format.JSONL else "text/csv"
    )
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=path.name, content_type=content_type
    )
