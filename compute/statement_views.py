"""A member's statement for a month or a quarter, as a page, a CSV and a PDF.

``?organisation=<id>&period=2026-11`` (or ``2026-Q4``); by default the reader's own
organisation and the current month. A member's people read their own statement; the chair,
the capacity board and auditors read every member's (``permissions.can_read_statement``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from alliance.errors import AccessDeniedError, NotVisibleError
from compute import charts, selectors, statements
from compute.forms import StatementForm
from compute.permissions import ComputeAction, can, can_read_statement
from compute.statement_pdf import render_statement
from compute.views import consortium_for
from consortia.models import Consortium, Organisation


def _organisation(request: HttpRequest, consortium: Consortium, choices: Any) -> Organisation:
    wanted = request.GET.get("organisation") or getattr(request.user, "organisation_id", None)
    if wanted is None:
        first = choices.first()
        if first is None:
            raise NotVisibleError("This consortium has no member with a statement.")
        return first  # type: ignore[no-any-return]
    organisation = (
        selectors.statement_organisations(consortium.pk).filter(pk=int(wanted)).first()
        if str(wanted).isdigit()
        else None
    )
    if organisation is None:
        raise NotVisibleError(
            "No member of this consortium matches the given query.",
            consortium_id=consortium.pk,
            object_type="consortia.organisation",
            object_id=str(wanted)[:64],
            action="read_statement",
        )
    if not can_read_statement(request.user, consortium.pk, organisation.pk):
        raise AccessDeniedError(
            "A member's statement is for its own people, the chair, the capacity board and "
            "auditors.",
            consortium_id=consortium.pk,
            object_type="consortia.organisation",
            object_id=str(organisation.pk),
            action="read_statement",
        )
    return organisation


def _statement(
    request: HttpRequest, consortium_pk: int
) -> tuple[Consortium, StatementForm, statements.Statement | None, str]:
    """The consortium, the choice form, and the statement (or None with why not)."""
    consortium = consortium_for(request, consortium_pk)
    everyone = can(request.user, ComputeAction.VIEW_ALL_STATEMENTS, consortium.pk)
    choices = selectors.statement_organisations(consortium.pk)
    if not everyone:
        choices = choices.filter(pk=getattr(request.user, "organisation_id", None) or 0)
    organisation = _organisation(request, consortium, choices)
    period = request.GET.get("period") or timezone.localdate().strftime("%Y-%m")
    form = StatementForm({"organisation": organisation.pk, "period": period}, organisations=choices)
    form.is_valid()
    try:
        start, end, label = statements.parse_period(period)
    except ValueError as error:
        return consortium, form, None, str(error)
    found = statements.statement(None, organisation, start, end, consortium=consortium, label=label)
    return consortium, form, found, ""


def _query(found: statements.Statement, period: str) -> str:
    return urlencode({"organisation": str(found.organisation_id), "period": period})


@login_required
@require_GET
def statement_page(request: HttpRequest, consortium_pk: int) -> HttpResponse:
    consortium, form, found, problem = _statement(request, consortium_pk)
    context: dict[str, Any] = {
        "consortium": consortium,
        "form": form,
        "statement": found,
        "problem": problem,
    }
    if found is not None:
        query = _query(found, form.data["period"])
        context |= {
            "csv_url": reverse("compute:statement-csv", args=[consortium.pk]) + "?" + query,
            "pdf_url": reverse("compute:statement-pdf", args=[consortium.pk]) + "?" + query,
            "chart": charts.statement_chart(
                [
                    charts.StatementBars(
                        name=row.pool_name,
                        entitlement=row.entitlement_gpu_hours,
                        used=row.used_gpu_hours,
                        reserved=row.reserved_gpu_hours,
                    )
                    for row in found.rows
                ],
                title=f"{found.organisation_name}, {found.label}: GPU-hours per pool",
            )
            if found.rows
            else None,
        }
    return render(request, "compute/statement.html", context, status=400 if problem else 200)


def _filename(found: statements.Statement, suffix: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in found.organisation_name).strip("-")
    return f"statement-{slug.lower()}-{found.period_start:%Y-%m}-{found.last_day:%Y-%m}.{suffix}"


@login_required
@require_GET
def statement_csv(request: HttpRequest, consortium_pk: int) -> HttpResponse:
    _, _, found, problem = _statement(request, consortium_pk)
    if found is None:
        return HttpResponse(problem, status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(statements.statement_csv(found), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(found, "csv")}"'
    return response


@login_required
@require_GET
def statement_pdf(request: HttpRequest, consortium_pk: int) -> HttpResponse:
    consortium, _, found, problem = _statement(request, consortium_pk)
    if found is None:
        return HttpResponse(problem, status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(render_statement(found, consortium), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(found, "pdf")}"'
    return response
