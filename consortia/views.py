"""Browser pages of the consortium domain: selectors to read, services to write.

Forms post to small action views. With htmx, the members-and-roles section is swapped in
place; without JavaScript the same forms post normally and the page redirects back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from alliance.auth import acting_user
from audit import selectors as audit_selectors
from consortia import panels, permissions, selectors, services
from consortia.filters import ConsortiumFilter, OrganisationFilter
from consortia.forms import (
    AdmitForm,
    ChairHandOverForm,
    ConsortiumCreateForm,
    ConsortiumEditForm,
    ConsortiumStatusForm,
    InviteForm,
    OrganisationForm,
    ReasonForm,
    RoleAssignForm,
    apply_service_errors,
    invitable_organisations,
)
from consortia.models import Consortium, Membership
from consortia.permissions import ConsortiumAction, OrganisationAction

DETAIL_TEMPLATE = "consortia/consortium_detail.html"
PAGE_SIZE = 25


def _is_partial(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.boosted  # type: ignore[attr-defined]


# Consortia ---------------------------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers("HX-Request")
def consortium_list(request: HttpRequest) -> HttpResponse:
    queryset = selectors.consortium_list(actor=acting_user(request)).select_related(
        "partnership_model", "home_jurisdiction"
    )
    filterset = ConsortiumFilter(request.GET or None, queryset=queryset)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "consortia/consortium_list.html"
    return render(
        request,
        f"{template}#results" if _is_partial(request) else template,
        {"filterset": filterset, "page": page},
    )


def _form_page(
    request: HttpRequest,
    form: forms.Form,
    *,
    save: Callable[[dict[str, Any]], Any],
    done: Callable[[Any], tuple[str, str]],
    title: str,
    submit: str,
    cancel: str,
) -> HttpResponse:
    """A page with one form whose valid input goes to one service.

    ``save`` calls the service with the cleaned data; a ValidationError it raises lands on
    the form (input kept). ``done`` gives the success message and where to go next.
    """
    if request.method == "POST" and form.is_valid():
        try:
            result = save(form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            message, url = done(result)
            messages.success(request, message)
            return redirect(url)
    context = {"form": form, "title": title, "submit": submit, "cancel": cancel}
    return render(request, "consortia/form.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def consortium_create(request: HttpRequest) -> HttpResponse:
    return _form_page(
        request,
        ConsortiumCreateForm(request.POST or None),
        save=lambda data: services.consortium_create(actor=acting_user(request), **data),
        done=lambda consortium: (
            _("%(consortium_name)s is founded; you chair it.")
            % {"consortium_name": consortium.name},
            reverse("consortia:detail", args=[consortium.pk]),
        ),
        title=_("Found a consortium"),
        submit=_("Found consortium"),
        cancel=reverse("consortia:list"),
    )


def _detail_context(request: HttpRequest, consortium: Consortium, **bound: Any) -> dict[str, Any]:
    rights = permissions.consortium_rights(request.user, consortium.pk)
    context: dict[str, Any] = {
        "consortium": consortium,
        "model": consortium.partnership_model,
        "memberships": consortium.memberships.all(),
        "role_assignments": consortium.role_assignments.all(),
        "can_change": ConsortiumAction.CHANGE in rights,
        "can_manage_membership": ConsortiumAction.MANAGE_MEMBERSHIP in rights,
        "can_manage_roles": ConsortiumAction.MANAGE_ROLES in rights,
        "is_open": consortium.status != Consortium.Status.DISSOLVED,
        "reason_form": ReasonForm(),
        "admit_form": AdmitForm(),
        "history": audit_selectors.recent_activity(actor=request.user, consortium_id=consortium.pk),
        "can_audit": ConsortiumAction.VIEW_AUDIT in rights,
        "panels": panels.rendered(request, consortium),
    }
    if context["can_change"] and services.CONSORTIUM_TRANSITIONS[consortium.status]:
        context["status_form"] = bound.get("status_form") or ConsortiumStatusForm(
            consortium=consortium
        )
    if context["can_manage_membership"] and context["is_open"]:
        context["invite_form"] = bound.get("invite_form") or InviteForm(consortium=consortium)
    if context["can_manage_roles"] and context["is_open"]:
        context["role_form"] = bound.get("role_form") or RoleAssignForm(consortium=consortium)
        context["chair_form"] = bound.get("chair_form") or ChairHandOverForm(consortium=consortium)
    return context


@login_required
@require_GET
def consortium_detail(request: HttpRequest, pk: int) -> HttpResponse:
    consortium = selectors.consortium_detail(actor=acting_user(request), pk=pk)
    return render(request, DETAIL_TEMPLATE, _detail_context(request, consortium))


def _after_people_change(
    request: HttpRequest, consortium_pk: int, **bound: Any
) -> HttpResponseBase:
    """Answer a members-or-roles form: the refreshed section for htmx, else the page."""
    failed = any(form.errors for form in bound.values())
    if not failed and not _is_partial(request):
        return redirect("consortia:detail", pk=consortium_pk)
    consortium = selectors.consortium_detail(actor=acting_user(request), pk=consortium_pk)
    context = _detail_context(request, consortium, **bound)
    if _is_partial(request):
        context["show_messages"] = True
        return render(request, f"{DETAIL_TEMPLATE}#people", context)
    return render(request, DETAIL_TEMPLATE, context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def consortium_edit(request: HttpRequest, pk: int) -> HttpResponse:
    consortium = permissions.get_consortium_for(request.user, pk, ConsortiumAction.CHANGE)
    detail = reverse("consortia:detail", args=[consortium.pk])
    return _form_page(
        request,
        ConsortiumEditForm(request.POST or None, consortium=consortium),
        save=lambda data: services.consortium_update(
            actor=acting_user(request), consortium=consortium, **data
        ),
        done=lambda _saved: (_("Changes saved."), detail),
        title=_("Edit %(consortium_name)s") % {"consortium_name": consortium.name},
        submit=_("Save changes"),
        cancel=detail,
    )


@login_required
@require_POST
def consortium_transition(request: HttpRequest, pk: int) -> HttpResponseBase:
    consortium = permissions.get_consortium_for(request.user, pk, ConsortiumAction.CHANGE)
    form = ConsortiumStatusForm(request.POST, consortium=consortium)
    if form.is_valid():
        try:
            services.consortium_transition(
                actor=acting_user(request),
                consortium=consortium,
                status=form.cleaned_data["status"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(consortium_name)s is now %(status)s.")
                % {"consortium_name": consortium.name, "status": form.cleaned_data["status"]},
            )
            return redirect("consortia:detail", pk=consortium.pk)
    consortium = selectors.consortium_detail(actor=acting_user(request), pk=pk)
    return render(
        request, DETAIL_TEMPLATE, _detail_context(request, consortium, status_form=form), status=400
    )


# Members and roles -------------------------------------------------------------------------


@login_required
@require_POST
def membership_invite(request: HttpRequest, pk: int) -> HttpResponseBase:
    consortium = permissions.get_consortium_for(
        request.user, pk, ConsortiumAction.MANAGE_MEMBERSHIP
    )
    form = InviteForm(request.POST, consortium=consortium)
    if form.is_valid():
        try:
            membership = services.membership_invite(
                actor=acting_user(request), consortium=consortium, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(organisation)s is invited; its administrators are notified.")
                % {"organisation": membership.organisation},
            )
            return _after_people_change(request, consortium.pk)
    return _after_people_change(request, consortium.pk, invite_form=form)


@login_required
@require_GET
def organisation_options(request: HttpRequest, pk: int) -> HttpResponse:
    """Name suggestions for the invite form (``<option>`` elements for its datalist)."""
    consortium = permissions.get_consortium_for(
        request.user, pk, ConsortiumAction.MANAGE_MEMBERSHIP
    )
    query = request.GET.get("organisation", "").strip()
    names = (
        invitable_organisations(consortium)
        .filter(name__icontains=query)
        .order_by("name")
        .values_list("name", flat=True)[:20]
        if len(query) >= 2
        else []
    )
    return render(request, "consortia/organisation_options.html", {"names": names})


MEMBERSHIP_ACTIONS: dict[str, tuple[type[forms.Form] | None, Callable[..., Membership], str]] = {
    "admit": (AdmitForm, services.membership_admit, "{organisation} is admitted."),
    "suspend": (ReasonForm, services.membership_suspend, "{organisation} is suspended."),
    "reinstate": (None, services.membership_reinstate, "{organisation} is reinstated."),
    "remove": (ReasonForm, services.membership_remove, "{organisation} is removed."),
}


@login_required
@require_POST
def membership_action(request: HttpRequest, pk: int, action: str) -> HttpResponseBase:
    if action not in MEMBERSHIP_ACTIONS:
        return HttpResponse("Unknown action.", status=404)
    membership = permissions.get_membership_for(
        request.user, pk, ConsortiumAction.MANAGE_MEMBERSHIP
    )
    form_class, service, done = MEMBERSHIP_ACTIONS[action]
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        for field_errors in form.errors.values():
            for message in field_errors:
                messages.error(request, f"{membership.organisation}: {message}")
        return _after_people_change(request, membership.consortium_id)
    arguments = {
        key: value
        for key, value in (form.cleaned_data if form else {}).items()
        if value is not None
    }
    try:
        service(actor=acting_user(request), membership=membership, **arguments)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, f"{membership.organisation}: {message}")
    else:
        messages.success(request, done.format(organisation=membership.organisation))
    return _after_people_change(request, membership.consortium_id)


@login_required
@require_POST
def role_assign(request: HttpRequest, pk: int) -> HttpResponseBase:
    consortium = permissions.get_consortium_for(request.user, pk, ConsortiumAction.MANAGE_ROLES)
    form = RoleAssignForm(request.POST, consortium=consortium)
    if form.is_valid():
        try:
            assignment = services.role_assign(
                actor=acting_user(request), consortium=consortium, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(display_name)s is now %(role)s.")
                % {
                    "display_name": assignment.user.display_name,
                    "role": assignment.get_role_display().lower(),
                },
            )
            return _after_people_change(request, consortium.pk)
    return _after_people_change(request, consortium.pk, role_form=form)


@login_required
@require_POST
def role_revoke(request: HttpRequest, pk: int) -> HttpResponseBase:
    assignment = permissions.get_role_assignment_for(
        request.user, pk, ConsortiumAction.MANAGE_ROLES
    )
    try:
        services.role_revoke(actor=acting_user(request), assignment=assignment)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("%(display_name)s is no longer %(role)s.")
            % {
                "display_name": assignment.user.display_name,
                "role": assignment.get_role_display().lower(),
            },
        )
    return _after_people_change(request, assignment.consortium_id)


@login_required
@require_POST
def chair_hand_over(request: HttpRequest, pk: int) -> HttpResponseBase:
    consortium = permissions.get_consortium_for(request.user, pk, ConsortiumAction.MANAGE_ROLES)
    form = ChairHandOverForm(request.POST, consortium=consortium)
    if form.is_valid():
        try:
            assignment = services.chair_hand_over(
                actor=acting_user(request), consortium=consortium, to_user=form.cleaned_data["user"]
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(display_name)s now chairs %(consortium_name)s.")
                % {
                    "display_name": assignment.user.display_name,
                    "consortium_name": consortium.name,
                },
            )
            return _after_people_change(request, consortium.pk)
    return _after_people_change(request, consortium.pk, chair_form=form)


# Organisations -----------------------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers("HX-Request")
def organisation_list(request: HttpRequest) -> HttpResponse:
    queryset = selectors.organisation_list(actor=acting_user(request)).select_related(
        "home_jurisdiction"
    )
    filterset = OrganisationFilter(request.GET or None, queryset=queryset)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "consortia/organisation_list.html"
    return render(
        request,
        f"{template}#results" if _is_partial(request) else template,
        {
            "filterset": filterset,
            "page": page,
            "can_add": permissions.can(request.user, OrganisationAction.ADD, None),
        },
    )


@login_required
@require_GET
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = permissions.get_organisation_for(request.user, pk)
    shared = (
        selectors.consortium_list(actor=acting_user(request))
        .filter(
            memberships__organisation=organisation,
            memberships__status__in=permissions.VISIBLE_MEMBERSHIP_STATUSES,
        )
        .select_related("partnership_model")
    )
    return render(
        request,
        "consortia/organisation_detail.html",
        {
            "organisation": organisation,
            "consortia": shared,
            "can_change": permissions.can(request.user, OrganisationAction.CHANGE, organisation),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def organisation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = permissions.get_organisation_for(request.user, pk, OrganisationAction.CHANGE)
    detail = reverse("consortia:organisation-detail", args=[organisation.pk])
    initial = {name: getattr(organisation, name) for name in services.ORGANISATION_FIELDS}
    return _form_page(
        request,
        OrganisationForm(request.POST or None, initial=initial),
        save=lambda data: services.organisation_update(
            actor=acting_user(request), organisation=organisation, **data
        ),
        done=lambda _saved: (_("Changes saved."), detail),
        title=_("Edit %(organisation_name)s") % {"organisation_name": organisation.name},
        submit=_("Save changes"),
        cancel=detail,
    )


@login_required
@require_http_methods(["GET", "POST"])
def organisation_create(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, OrganisationAction.ADD, None)
    return _form_page(
        request,
        OrganisationForm(request.POST or None),
        save=lambda data: services.organisation_create(actor=acting_user(request), **data),
        done=lambda organisation: (
            f"{organisation.name} is registered.",
            reverse("consortia:organisation-detail", args=[organisation.pk]),
        ),
        title=_("Register an organisation"),
        submit=_("Register"),
        cancel=reverse("consortia:organisation-list"),
    )
