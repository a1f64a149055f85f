"""Reads of webhooks: lists for people (through the access policy) and the fan-out's
question "which endpoints receive this consortium's events?"."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from alliance.webhooks import events, permissions
from alliance.webhooks.models import Attempt, Destination, Endpoint, Message
from consortia.models import Consortium, Membership
from consortia.permissions import VISIBLE_MEMBERSHIP_STATUSES


@dataclass(frozen=True)
class Subscriber:
    endpoint_id: int
    organisation_id: int
    event_types: frozenset[str]
    consortium_name: str


@functools.cache
def _subscribers_sql() -> str:
    # Hand-written, like consortia.permissions._visible_ids_sql: it runs after every commit
    # that recorded an event webhooks carry, and the ORM spends longer compiling the two
    # EXISTS than PostgreSQL spends running them. Only table names (from the models) enter
    # the text; every value is a parameter.
    endpoint, membership = Endpoint._meta.db_table, Membership._meta.db_table
    destination, consortium = Destination._meta.db_table, Consortium._meta.db_table
    statuses = ", ".join(["%s"] * len(VISIBLE_MEMBERSHIP_STATUSES))
    return (
        f"SELECT e.id, e.organisation_id, e.event_types, c.name FROM {endpoint} e "  # noqa: S608
        f"JOIN {membership} m ON m.organisation_id = e.organisation_id "
        f"AND m.consortium_id = %s AND m.status IN ({statuses}) "
        f"JOIN {consortium} c ON c.id = m.consortium_id "
        f"WHERE e.is_active AND EXISTS (SELECT 1 FROM {destination} d "
        "WHERE d.consortium_id = m.consortium_id AND d.host = e.host "
        "AND (d.port IS NULL OR d.port = e.port))"
    )


def subscribers(consortium_id: int) -> list[Subscriber]:
    """Active endpoints that may receive the consortium's events: their organisation sees
    the consortium (the access policy's membership rule; a person's own grants do not
    extend to their organisation's endpoints) and the consortium approved their host. One
    query, with the consortium's name for the payload."""
    with connection.cursor() as cursor:
        cursor.execute(_subscribers_sql(), [consortium_id, *VISIBLE_MEMBERSHIP_STATUSES])
        rows = cursor.fetchall()
    return [
        Subscriber(
            int(pk),
            int(organisation_id),
            frozenset(json.loads(types) if isinstance(types, str) else types),
            str(name),
        )
        for pk, organisation_id, types, name in rows
    ]


def receiving_consortia(endpoints: Iterable[Endpoint]) -> dict[int, list[Consortium]]:
    """For each endpoint, the consortia whose events it receives now (both conditions of
    ``subscribers``), by name: what the pages show next to each endpoint. Two queries."""
    endpoints = list(endpoints)
    if not endpoints:
        return {}
    seen: dict[int, set[int]] = {}
    for organisation_id, consortium_id in Membership.objects.filter(
        organisation_id__in={endpoint.organisation_id for endpoint in endpoints},
        status__in=VISIBLE_MEMBERSHIP_STATUSES,
    ).values_list("organisation_id", "consortium_id"):
        seen.setdefault(organisation_id, set()).add(consortium_id)
    destinations = list(
        Destination.objects.filter(
            consortium_id__in=set().union(*seen.values()),
            host__in={endpoint.host for endpoint in endpoints},
        ).select_related("consortium")
    )
    found: dict[int, list[Consortium]] = {}
    for endpoint in endpoints:
        consortia = {
            destination.consortium_id: destination.consortium
            for destination in destinations
            if destination.consortium_id in seen.get(endpoint.organisation_id, set())
            and destination.host == endpoint.host
            and destination.port in (None, endpoint.port)
        }
        found[endpoint.pk] = sorted(consortia.values(), key=lambda consortium: consortium.name)
    return found


def receiving_consortium_ids(endpoint: Endpoint) -> set[int]:
    """The consortia whose messages the endpoint may still be sent (checked again at
    delivery: a destination removed or a membership ended since the event stops it)."""
    return set(
        Membership.objects.filter(
            organisation_id=endpoint.organisation_id, status__in=VISIBLE_MEMBERSHIP_STATUSES
        )
        .filter(
            Exists(
                Destination.objects.filter(
                    consortium_id=OuterRef("consortium_id"), host=endpoint.host
                ).filter(Q(port__isnull=True) | Q(port=endpoint.port))
            )
        )
        .values_list("consortium_id", flat=True)
    )


def endpoint_list(*, actor: Any) -> QuerySet[Endpoint]:
    """The endpoints of the actor's organisation, with how many messages wait or failed."""
    return (
        permissions.visible_endpoints(actor)
        .select_related("organisation")
        .annotate(
            waiting=Count("messages", filter=Q(messages__status="pending")),
            failing=Count("messages", filter=Q(messages__status__in=["failed", "gave_up"])),
        )
        .order_by("id")
    )


def message_list(
    *, actor: Any, endpoint_id: int | None = None, status: str | None = None
) -> QuerySet[Message]:
    messages = permissions.visible_messages(actor)
    if endpoint_id is not None:
        messages = messages.filter(endpoint_id=endpoint_id)
    if status:
        messages = messages.filter(status=status)
    return messages.select_related("event")


def attempt_list(*, message: Message) -> QuerySet[Attempt]:
    """The attempts of a message the caller already obtained through the policy."""
    return Attempt.objects.filter(message=message).order_by("number")


def destination_list(*, actor: Any, consortium_id: int | None = None) -> QuerySet[Destination]:
    destinations = permissions.visible_destinations(actor)
    if consortium_id is not None:
        destinations = destinations.filter(consortium_id=consortium_id)
    return destinations.select_related("consortium", "approved_by")


def event_type_catalogue() -> list[dict[str, str]]:
    return [
        {"name": name, "label": event_type.label, "description": event_type.description}
        for name, event_type in events.CATALOGUE.items()
    ]
