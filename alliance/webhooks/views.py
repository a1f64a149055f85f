"""Browser pages of webhooks: an organisation's administrators manage its endpoints and read
their delivery log; a consortium's chair keeps its allow-list of destinations.

Reads go through ``selectors`` and the ``permissions`` gates (404 for another organisation's
endpoint or an unseen consortium, 403 without the right), writes through the services.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alliance.auth import acting_user
from alliance.errors import ConflictError
from alliance.webhooks import events, permissions, selectors, services
from alliance.webhooks.filters import MessageFilter
from alliance.webhooks.forms import DestinationForm, DisableForm, EndpointForm, RotateForm
from alliance.webhooks.models import Endpoint, Message
from consortia import permissions as consortium_permissions
from consortia.forms import apply_service_errors
from consortia.models import Consortium
from consortia.permissions import ConsortiumAction

PAGE_SIZE = 50
BADGES: dict[str, str] = {
    Message.Status.PENDING: "submitted",
    Message.Status.DELIVERED: "approved",
    Message.Status.FAILED: "rejected",
    Message.Status.GAVE_UP: "rejected",
}


def _endpoint_page(
    request: HttpRequest,
    endpoint: Endpoint,
    *,
    rotate_form: RotateForm | None = None,
    disable_form: DisableForm | None = None,
    secret: str | None = None,
    status: int = 200,
) -> HttpResponse:
    filterset = MessageFilter(
        request.GET or None,
        queryset=selectors.message_list(actor=acting_user(request), endpoint_id=endpoint.pk),
    )
    page = Paginator(filterset.qs.order_by("-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    for message in page:
        message.badge = BADGES.get(message.status, "")
    context = {
        "endpoint": endpoint,
        "receiving": selectors.receiving_consortia([endpoint])[endpoint.pk],
        "page": page,
        "filterset": filterset,
        "statuses": Message.Status.choices,
        "labels": dict(events.choices()),
        "rotate_form": rotate_form or RotateForm(),
        "disable_form": disable_form or DisableForm(),
        "secret": secret,
    }
    return render(request, "webhooks/endpoint_detail.html", context, status=status)


@login_required
@require_GET
def endpoint_list(request: HttpRequest) -> HttpResponse:
    organisation = permissions.own_organisation(acting_user(request))
    endpoints = list(
        selectors.endpoint_list(actor=acting_user(request)).filter(organisation=organisation)
    )
    receiving = selectors.receiving_consortia(endpoints)
    return render(
        request,
        "webhooks/endpoint_list.html",
        {
            "organisation": organisation,
            "rows": [(endpoint, receiving[endpoint.pk]) for endpoint in endpoints],
            "labels": dict(events.choices()),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_create(request: HttpRequest) -> HttpResponse:
    organisation = permissions.own_organisation(acting_user(request))
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.endpoint_create(
                actor=acting_user(request), organisation=organisation, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request, _("Endpoint registered. Copy its secret now: it is not shown again.")
            )
            return _endpoint_page(request, endpoint, secret=secret)
    return render(
        request,
        "webhooks/endpoint_form.html",
        {
            "form": form,
            "title": _("New webhook endpoint"),
            "submit": _("Register endpoint"),
            "cancel": reverse("webhooks:endpoints"),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _endpoint_page(request, permissions.get_endpoint_for(request.user, pk))


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = permissions.get_endpoint_for(request.user, pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(
                actor=acting_user(request), endpoint=endpoint, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Endpoint saved."))
            return redirect("webhooks:endpoint", pk=endpoint.pk)
    return render(
        request,
        "webhooks/endpoint_form.html",
        {
            "form": form,
            "title": _("Edit %(endpoint_url)s") % {"endpoint_url": endpoint.url},
            "submit": _("Save"),
            "cancel": reverse("webhooks:endpoint", args=[endpoint.pk]),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def endpoint_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = permissions.get_endpoint_for(request.user, pk)
    form = RotateForm(request.POST)
    if not form.is_valid():
        return _endpoint_page(request, endpoint, rotate_form=form, status=400)
    endpoint, secret = services.endpoint_rotate_secret(
        actor=acting_user(request), endpoint=endpoint, **form.cleaned_data
    )
    messages.success(request, _("New secret made. Copy it now: it is not shown again."))
    return _endpoint_page(request, endpoint, secret=secret)


@login_required
@require_POST
def endpoint_disable(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = permissions.get_endpoint_for(request.user, pk)
    form = DisableForm(request.POST)
    if not form.is_valid():
        return _endpoint_page(request, endpoint, disable_form=form, status=400)
    services.endpoint_disable(
        actor=acting_user(request), endpoint=endpoint, reason=form.cleaned_data["reason"]
    )
    messages.success(request, _("Endpoint disabled: messages wait until you enable it."))
    return redirect("webhooks:endpoint", pk=endpoint.pk)


@login_required
@require_POST
def endpoint_enable(request: HttpRequest, pk: int) -> HttpResponseBase:
    endpoint = permissions.get_endpoint_for(request.user, pk)
    services.endpoint_enable(actor=acting_user(request), endpoint=endpoint)
    messages.success(request, _("Endpoint enabled: waiting messages are on their way."))
    return redirect("webhooks:endpoint", pk=endpoint.pk)


@login_required
@require_POST
def endpoint_delete(request: HttpRequest, pk: int) -> HttpResponseBase:
    endpoint = permissions.get_endpoint_for(request.user, pk)
    services.endpoint_delete(actor=acting_user(request), endpoint=endpoint)
    messages.success(request, _("Endpoint deleted, with its delivery log."))
    return redirect("webhooks:endpoints")


@login_required
@require_GET
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = permissions.get_message_for(request.user, pk)
    message.badge = BADGES.get(message.status, "")  # type: ignore[attr-defined]
    return render(
        request,
        "webhooks/message_detail.html",
        {
            "message": message,
            "endpoint": message.endpoint,
            "attempts": selectors.attempt_list(message=message),
            "payload": json.dumps(json.loads(message.event.body), indent=2, ensure_ascii=False),
        },
    )


@login_required
@require_POST
def message_replay(request: HttpRequest, pk: int) -> HttpResponseBase:
    message = permissions.get_message_for(request.user, pk)
    try:
        services.message_replay(actor=acting_user(request), message=message)
    except ConflictError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(webhook_id)s will be sent again, with the same id.")
            % {"webhook_id": message.webhook_id},
        )
    return redirect("webhooks:message", pk=message.pk)


@login_required
@require_http_methods(["GET", "POST"])
def destination_list(request: HttpRequest, pk: int) -> HttpResponse:
    """A consortium's allow-list: everyone who sees the consortium reads it; the chair adds
    and removes destinations."""
    consortium = consortium_permissions.get_consortium_for(request.user, pk)
    can_change = permissions.can_approve_destinations(request.user, consortium.pk)
    form = DestinationForm(request.POST or None)
    if request.method == "POST":
        consortium_permissions.require(request.user, ConsortiumAction.CHANGE, consortium)
        if form.is_valid():
            try:
                destination = services.destination_approve(
                    actor=acting_user(request), consortium=consortium, **form.cleaned_data
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, f"{destination} approved for {consortium.name}.")
                return redirect("webhooks:destinations", pk=consortium.pk)
    return render(
        request,
        "webhooks/destinations.html",
        {
            "consortium": consortium,
            "destinations": selectors.destination_list(
                actor=acting_user(request), consortium_id=consortium.pk
            ),
            "can_change": can_change,
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def destination_remove(request: HttpRequest, pk: int) -> HttpResponseBase:
    destination = permissions.get_destination_for(request.user, pk, change=True)
    services.destination_remove(actor=acting_user(request), destination=destination)
    messages.success(
        request,
        _("%(destination)s is no longer an approved destination.") % {"destination": destination},
    )
    return redirect("webhooks:destinations", pk=destination.consortium_id)


def consortium_panel(request: HttpRequest, consortium: Consortium) -> dict[str, Any]:
    """The webhooks line of the consortium page: how many destinations are approved, and the
    way to the allow-list (and, for an organisation's administrators, to their endpoints)."""
    return {
        "consortium": consortium,
        "approved": selectors.destination_list(
            actor=request.user, consortium_id=consortium.pk
        ).count(),
        "can_change": permissions.can_approve_destinations(request.user, consortium.pk),
        "manages_endpoints": permissions.can_manage(
            request.user, getattr(request.user, "organisation", None)
        ),
    }
