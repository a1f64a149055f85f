"""Browser pages of meetings: the list and a new meeting, one meeting with its minutes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alliance.auth import acting_user
from consortia import meeting_selectors, meeting_services, permissions
from consortia.forms import apply_service_errors, as_utc
from consortia.governance.services import represents
from consortia.meeting_forms import MeetingForm, MinutesForm, ProposeMinutesForm


@login_required
@require_http_methods(["GET", "POST"])
def meeting_list(request: HttpRequest, pk: int) -> HttpResponse:
    consortium = permissions.get_consortium_for(request.user, pk)
    form = MeetingForm(request.POST or None, consortium=consortium)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = meeting_services.meeting_create(
                actor=acting_user(request),
                consortium=consortium,
                title=data["title"],
                held_at=as_utc(data["held_at"]),
                location=data["location"],
                attendees=list(data["attendees"]),
                agenda=list(data["agenda"]),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The meeting is recorded; write its minutes here."))
            return redirect("consortia:meeting", pk=meeting.pk)
    meetings = meeting_selectors.visible_meetings(request.user).filter(consortium=consortium)
    return render(
        request,
        "consortia/meetings.html",
        {
            "consortium": consortium,
            "meetings": meetings,
            "form": form,
            "may_keep": represents(request.user, consortium.pk),
        },
        status=400 if form.errors else 200,
    )


def _meeting_context(request: HttpRequest, meeting: Any, **forms: Any) -> dict[str, Any]:
    return {
        "meeting": meeting,
        "attendees": meeting.attendees.select_related("organisation").order_by("last_name"),
        "agenda": meeting.agenda.order_by("number"),
        "approvals": meeting_selectors.approval_motions(meeting),
        "may_keep": represents(request.user, meeting.consortium_id),
        "minutes_form": forms.get("minutes_form")
        or MinutesForm(initial={"minutes": meeting.minutes}),
        "propose_form": forms.get("propose_form") or ProposeMinutesForm(),
    }


@login_required
@require_GET
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_selectors.get_meeting_for(request.user, pk)
    return render(request, "consortia/meeting.html", _meeting_context(request, meeting))


@login_required
@require_POST
def meeting_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_selectors.get_meeting_for(request.user, pk)
    form = MinutesForm(request.POST)
    if form.is_valid():
        try:
            meeting_services.minutes_update(
                actor=acting_user(request), meeting=meeting, minutes=form.cleaned_data["minutes"]
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Minutes saved."))
            return redirect("consortia:meeting", pk=meeting.pk)
    return render(
        request,
        "consortia/meeting.html",
        _meeting_context(request, meeting, minutes_form=form),
        status=400,
    )


@login_required
@require_POST
def meeting_propose(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_selectors.get_meeting_for(request.user, pk)
    form = ProposeMinutesForm(request.POST)
    if form.is_valid():
        try:
            motion = meeting_services.minutes_propose(
                actor=acting_user(request),
                meeting=meeting,
                closes_at=as_utc(form.cleaned_data["closes_at"]),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("The minutes are before the committee as motion %(motion_number)s.")
                % {"motion_number": motion.number},
            )
            return redirect("consortia:motion", pk=motion.pk)
    return render(
        request,
        "consortia/meeting.html",
        _meeting_context(request, meeting, propose_form=form),
        status=400,
    )


@login_required
@require_GET
def meeting_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_selectors.get_meeting_for(request.user, pk)
    response = HttpResponse(
        meeting_services.minutes_pdf(actor=request.user, meeting=meeting),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = f'attachment; filename="minutes-{meeting.pk}.pdf"'
    return response
