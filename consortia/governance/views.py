"""Browser pages of governance: a consortium's motions and proxies, and one motion's page
where a committee member votes in a minute."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alliance.auth import acting_user
from consortia import permissions
from consortia.forms import apply_service_errors, as_utc
from consortia.governance import selectors, services
from consortia.governance.forms import (
    RULE_LABELS,
    MotionForm,
    MotionSettingsForm,
    ProxyForm,
    RecuseForm,
    VoteForm,
)
from consortia.models import Consortium


def _proxy_form(request: HttpRequest, consortium: Consortium, data: Any = None) -> ProxyForm:
    organisations, motions = selectors.proxy_choices(request.user, consortium.pk)
    return ProxyForm(data, organisations=organisations, motions=motions)


def _motions_context(
    request: HttpRequest,
    consortium: Consortium,
    form: MotionForm,
    proxy_form: ProxyForm | None = None,
) -> dict[str, Any]:
    motions = selectors.visible_motions(request.user).filter(consortium=consortium)
    return {
        "consortium": consortium,
        "open": motions.filter(status="open").order_by("closes_at"),
        "closed": motions.exclude(status="open").order_by("-closed_at")[:50],
        "proxies": selectors.live_proxies(consortium.pk),
        "may_propose": services.represents(request.user, consortium.pk),
        "own_organisation": getattr(request.user, "organisation_id", None),
        "form": form,
        "proxy_form": proxy_form or _proxy_form(request, consortium),
        "now": timezone.now(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def motion_list(request: HttpRequest, pk: int) -> HttpResponse:
    consortium = permissions.get_consortium_for(request.user, pk)
    form = MotionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        closes_at = as_utc(data.pop("closes_at"))
        try:
            motion = services.motion_propose(
                actor=acting_user(request),
                consortium=consortium,
                subject_id=data.pop("subject"),
                closes_at=closes_at,
                **data,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Motion %(motion_number)s is open for votes.") % {"motion_number": motion.number},
            )
            return redirect("consortia:motion", pk=motion.pk)
    status = 400 if form.errors else 200
    return render(
        request,
        "consortia/motions.html",
        _motions_context(request, consortium, form),
        status=status,
    )


def _motion_context(request: HttpRequest, motion: Any, **forms: Any) -> dict[str, Any]:
    view = selectors.motion_view(request.user, motion)
    organisations = [
        (voter.organisation_id, voter.organisation.name) for voter in view.can_vote_for
    ]
    return {
        "view": view,
        "motion": motion,
        "rule_label": RULE_LABELS.get(motion.rule, motion.rule),
        "vote_form": forms.get("vote_form")
        or VoteForm(organisations=organisations, initial=_standing_choice(request, view)),
        "recuse_form": forms.get("recuse_form") or RecuseForm(),
        "settings_form": forms.get("settings_form") or MotionSettingsForm(),
        "may_hide_results": view.is_open
        and not motion.results_hidden
        and services.may_update_motion(request.user, motion),
    }


def _standing_choice(request: HttpRequest, view: selectors.MotionView) -> dict[str, Any]:
    """The form starts from the vote that stands (one's own organisation's first), so that
    changing it is one click and never silently drops its reason."""
    own = getattr(request.user, "organisation_id", None)
    votes = sorted(view.standing_votes, key=lambda vote: vote.organisation_id != own)
    if not votes:
        return {}
    vote = votes[0]
    return {
        "choice": vote.choice,
        "reason": vote.reason,
        "veto": vote.veto,
        "for_organisation": vote.organisation_id,
    }


@login_required
@require_GET
def motion_detail(request: HttpRequest, pk: int) -> HttpResponse:
    motion = selectors.get_motion_for(request.user, pk)
    return render(request, "consortia/motion.html", _motion_context(request, motion))


@login_required
@require_POST
def motion_vote(request: HttpRequest, pk: int) -> HttpResponseBase:
    motion = selectors.get_motion_for(request.user, pk)
    view = selectors.motion_view(request.user, motion)
    organisations = [
        (voter.organisation_id, voter.organisation.name) for voter in view.can_vote_for
    ]
    form = VoteForm(request.POST, organisations=organisations)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.vote_cast(
                actor=acting_user(request),
                motion=motion,
                choice=data["choice"],
                reason=data["reason"],
                veto=data["veto"],
                for_organisation=selectors.organisation_named(data["for_organisation"]),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request, _("Your vote is recorded; you can change it until the close.")
            )
            return redirect("consortia:motion", pk=motion.pk)
    elif not organisations:
        # Nothing to vote for: not on the committee (403), or recused, or closed (shown).
        services.require_representative(acting_user(request), motion)
        form.add_error(None, _("Your organisation cannot vote on this motion now."))
    motion.refresh_from_db()
    return render(
        request,
        "consortia/motion.html",
        _motion_context(request, motion, vote_form=form),
        status=400,
    )


@login_required
@require_POST
def motion_recuse(request: HttpRequest, pk: int) -> HttpResponseBase:
    motion = selectors.get_motion_for(request.user, pk)
    form = RecuseForm(request.POST)
    if form.is_valid():
        try:
            services.recuse(
                actor=acting_user(request), motion=motion, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Your organisation is recused from this motion."))
            return redirect("consortia:motion", pk=motion.pk)
    return render(
        request,
        "consortia/motion.html",
        _motion_context(request, motion, recuse_form=form),
        status=400,
    )


@login_required
@require_POST
def motion_settings(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Tighten an open motion's settings: hide its tally until the close."""
    motion = selectors.get_motion_for(request.user, pk)
    services.require_motion_editor(acting_user(request), motion)
    form = MotionSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.motion_update(
                actor=acting_user(request),
                motion=motion,
                results_hidden=form.cleaned_data["results_hidden"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The tally stays hidden until the motion closes."))
            return redirect("consortia:motion", pk=motion.pk)
    motion.refresh_from_db()
    return render(
        request,
        "consortia/motion.html",
        _motion_context(request, motion, settings_form=form),
        status=400,
    )


OPEN_MOTIONS_SHOWN = 5


def consortium_panel(request: HttpRequest, consortium: Consortium) -> dict[str, Any]:
    """Open motions on the consortium page, soonest closing first."""
    return {
        "consortium": consortium,
        "open": selectors.open_motions_with_tallies(
            request.user, consortium.pk, limit=OPEN_MOTIONS_SHOWN
        ),
    }


@login_required
@require_POST
def proxy_give(request: HttpRequest, pk: int) -> HttpResponseBase:
    consortium = permissions.get_consortium_for(request.user, pk)
    form = _proxy_form(request, consortium, request.POST)
    if not form.is_valid() and not services.represents(request.user, consortium.pk):
        services.require_proxy_giver(acting_user(request), consortium)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.proxy_give(
                actor=acting_user(request),
                consortium=consortium,
                grantee=selectors.organisation_named(data["grantee"]),
                motion=selectors.get_motion_for(request.user, data["motion"])
                if data["motion"]
                else None,
                valid_until=data["valid_until"] and as_utc(data["valid_until"]),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Your organisation's vote is lent; revoke it any time."))
            return redirect("consortia:motions", pk=consortium.pk)
    context = _motions_context(request, consortium, MotionForm(), proxy_form=form)
    return render(request, "consortia/motions.html", context, status=400)


@login_required
@require_POST
def proxy_revoke(request: HttpRequest, pk: int) -> HttpResponseBase:
    proxy = selectors.get_proxy_for(request.user, pk)
    services.proxy_revoke(actor=acting_user(request), proxy=proxy)
    messages.success(request, _("The proxy is revoked."))
    return redirect("consortia:motions", pk=proxy.consortium_id)
