"""An organisation's partner clients, managed by its admins in the browser. Another
organisation's people get 404 (which clients exist is private); the organisation's other
people get 403."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from alliance.auth import acting_user
from alliance.errors import AccessDeniedError, NotVisibleError
from alliance.partners import selectors, services
from alliance.partners.forms import ClientForm
from alliance.partners.models import PartnerClient
from consortia import permissions
from consortia.models import Organisation
from consortia.permissions import OrganisationAction


def _organisation_for_admin(request: HttpRequest, org_pk: int) -> Organisation:
    user = acting_user(request)
    organisation = permissions.get_organisation_for(user, org_pk)
    if user.organisation_id != organisation.pk and not user.is_staff:
        raise NotVisibleError(
            "No such page.", object_type="consortia.organisation", object_id=str(org_pk)
        )
    if not permissions.can(user, OrganisationAction.CHANGE, organisation):
        raise AccessDeniedError(
            "Only your organisation's admins manage its API clients.",
            object_type="consortia.organisation",
            object_id=str(org_pk),
            action="manage_clients",
        )
    return organisation


def _client(organisation: Organisation, pk: int) -> PartnerClient:
    partner = selectors.client_of(organisation, pk)
    if partner is None:
        raise NotVisibleError(
            "No such client.", object_type="partners.partnerclient", object_id=str(pk)
        )
    return partner


@login_required
def client_list(request: HttpRequest, org_pk: int) -> HttpResponse:
    organisation = _organisation_for_admin(request, org_pk)
    return render(
        request,
        "partners/list.html",
        {
            "organisation": organisation,
            "clients": selectors.clients_of(organisation),
            "now": timezone.now(),
        },
    )


def _detail(
    request: HttpRequest, organisation: Organisation, partner: PartnerClient, secret: str = ""
) -> HttpResponse:
    return render(
        request,
        "partners/detail.html",
        {
            "organisation": organisation,
            "client": partner,
            "status": partner.status(timezone.now()),
            "secret": secret,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def client_create(request: HttpRequest, org_pk: int) -> HttpResponse:
    organisation = _organisation_for_admin(request, org_pk)
    form = ClientForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            partner, secret = services.client_create(
                actor=acting_user(request), organisation=organisation, terms=form.terms()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Client created. Copy its secret now: it is not shown again.")
            )
            return _detail(request, organisation, partner, secret)
    return render(
        request,
        "partners/form.html",
        {"organisation": organisation, "form": form, "title": _("New API client")},
    )


@login_required
def client_detail(request: HttpRequest, org_pk: int, pk: int) -> HttpResponse:
    organisation = _organisation_for_admin(request, org_pk)
    return _detail(request, organisation, _client(organisation, pk))


@login_required
@require_http_methods(["GET", "POST"])
def client_edit(request: HttpRequest, org_pk: int, pk: int) -> HttpResponse:
    organisation = _organisation_for_admin(request, org_pk)
    partner = _client(organisation, pk)
    initial = {
        "name": partner.name,
        "consortia": list(partner.consortia.all()),
        "scopes": partner.scopes,
        "allowed_networks": "\n".join(partner.allowed_networks),
        "expires_on": timezone.localdate(partner.expires_at),
    }
    form = ClientForm(request.POST or None, organisation=organisation, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(actor=acting_user(request), partner=partner, terms=form.terms())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Client updated. Its tokens were ended; it asks for new ones.")
            )
            return redirect("partners:detail", organisation.pk, partner.pk)
    return render(
        request,
        "partners/form.html",
        {
            "organisation": organisation,
            "form": form,
            "title": _("Edit %(partner_name)s") % {"partner_name": partner.name},
            "client": partner,
        },
    )


@login_required
@require_POST
def client_rotate(request: HttpRequest, org_pk: int, pk: int) -> HttpResponseBase:
    organisation = _organisation_for_admin(request, org_pk)
    partner = _client(organisation, pk)
    try:
        secret = services.client_rotate_secret(actor=acting_user(request), partner=partner)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("partners:detail", organisation.pk, partner.pk)
    messages.success(request, _("New secret issued. The old one and its tokens no longer work."))
    return _detail(request, organisation, partner, secret)


@login_required
@require_POST
def client_revoke(request: HttpRequest, org_pk: int, pk: int) -> HttpResponseBase:
    organisation = _organisation_for_admin(request, org_pk)
    partner = _client(organisation, pk)
    services.client_revoke(actor=acting_user(request), partner=partner)
    messages.success(
        request,
        _("%(partner_name)s is revoked: it can no longer obtain or use tokens.")
        % {"partner_name": partner.name},
    )
    return redirect("partners:detail", organisation.pk, partner.pk)
