"""The access policy for webhooks, built on the consortium's.

Endpoints and their delivery logs belong to an organisation: only its administrators (the
people who may change its record, ``consortia.permissions`` OrganisationAction.CHANGE) see and
manage them. People of another organisation get 404, the organisation's other people 403.

A consortium's allow-list of destinations is read by everyone who sees the consortium (a
member needs to know where it may receive events) and changed only by those who may change
the consortium (its chair).
"""

from __future__ import annotations

from typing import Any

from django.db import models

from alliance.errors import AccessDeniedError, NotVisibleError
from alliance.webhooks.models import Destination, Endpoint, Message
from consortia import permissions as consortium_permissions
from consortia.models import Organisation
from consortia.permissions import ConsortiumAction, OrganisationAction

MANAGE = "manage_webhooks"


def _authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def visible_endpoints(user: Any) -> models.QuerySet[Endpoint]:
    """Endpoints of the user's own organisation (every endpoint for a superuser)."""
    if not _authenticated(user):
        return Endpoint.objects.none()
    if user.is_superuser:
        return Endpoint.objects.all()
    if user.organisation_id is None:
        return Endpoint.objects.none()
    return Endpoint.objects.filter(organisation_id=user.organisation_id)


def visible_messages(user: Any) -> models.QuerySet[Message]:
    return Message.objects.filter(endpoint__in=visible_endpoints(user).values("pk"))


def can_manage(user: Any, organisation: Organisation | None) -> bool:
    """May ``user`` see and manage ``organisation``'s webhooks? Its administrators may."""
    if organisation is None or not _authenticated(user):
        return False
    if user.is_superuser:
        return True
    return user.organisation_id == organisation.pk and consortium_permissions.can(
        user, OrganisationAction.CHANGE, organisation
    )


def require_manage(user: Any, organisation: Organisation | None, obj: Any = None) -> None:
    if not can_manage(user, organisation):
        raise AccessDeniedError(
            "Only your organisation's administrators manage its webhooks.",
            object_type=obj._meta.label_lower if obj is not None else "consortia.organisation",
            object_id=str(obj.pk if obj is not None else getattr(organisation, "pk", "")),
            action=MANAGE,
        )


def own_organisation(user: Any) -> Organisation:
    """The organisation whose webhooks ``user`` manages (403 for anyone else)."""
    organisation: Organisation | None = (
        getattr(user, "organisation", None) if _authenticated(user) else None
    )
    require_manage(user, organisation)
    assert organisation is not None
    return organisation


def _not_visible(model: type[models.Model], pk: Any) -> NotVisibleError:
    return NotVisibleError(
        f"No {model._meta.verbose_name} matches the given query.",
        object_type=model._meta.label_lower,
        object_id=str(pk)[:64],
        action=MANAGE,
    )


def get_endpoint_for(user: Any, pk: Any) -> Endpoint:
    """The endpoint if it belongs to the user's organisation (else 404) and the user
    administers that organisation (else 403)."""
    found = (
        visible_endpoints(user).select_related("organisation").filter(pk=pk).first()
        if str(pk).isdigit()
        else None
    )
    if found is None:
        raise _not_visible(Endpoint, pk)
    require_manage(user, found.organisation, found)
    return found


def get_message_for(user: Any, pk: Any) -> Message:
    found = (
        visible_messages(user)
        .select_related("endpoint__organisation", "event")
        .filter(pk=pk)
        .first()
        if str(pk).isdigit()
        else None
    )
    if found is None:
        raise _not_visible(Message, pk)
    require_manage(user, found.endpoint.organisation, found)
    return found


def visible_destinations(user: Any) -> models.QuerySet[Destination]:
    if not _authenticated(user):
        return Destination.objects.none()
    if user.is_superuser:
        return Destination.objects.all()
    return Destination.objects.filter(
        consortium_id__in=consortium_permissions.visible_consortium_ids(user)
    )


def can_approve_destinations(user: Any, consortium_id: int) -> bool:
    return ConsortiumAction.CHANGE in consortium_permissions.consortium_rights(user, consortium_id)


def get_destination_for(user: Any, pk: Any, *, change: bool = False) -> Destination:
    """The destination if the user sees its consortium (else 404); with ``change``, only
    for those who may change the consortium (else 403)."""
    found = (
        visible_destinations(user).select_related("consortium").filter(pk=pk).first()
        if str(pk).isdigit()
        else None
    )
    if found is None:
        consortium_id = (
            Destination.objects.filter(pk=pk).values_list("consortium_id", flat=True).first()
            if str(pk).isdigit()
            else None
        )
        raise NotVisibleError(
            "No webhook destination matches the given query.",
            consortium_id=consortium_id,
            object_type="webhooks.destination",
            object_id=str(pk)[:64],
            action=ConsortiumAction.CHANGE.value if change else "view_webhook_destination",
        )
    if change:
        consortium_permissions.require(user, ConsortiumAction.CHANGE, found.consortium)
    return found


def require_reader(user: Any) -> None:
    """Lists of endpoints and messages are for an organisation's administrators (and
    superusers, who see every organisation's)."""
    if not (_authenticated(user) and user.is_superuser):
        own_organisation(user)
