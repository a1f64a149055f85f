"""The event types an endpoint can subscribe to, and how each is read off the audit chain.

Every domain write records an audit event in its transaction; the ones below are the changes
partners asked to hear about. Each type names the audit object type and actions it comes from,
and a test of the event's ``changes`` (the real values, from the services that record them):

==============================  ============================  ===========  ======================================
type                            audit object type             action       condition on ``changes``
==============================  ============================  ===========  ======================================
agreement.status_changed        agreements.agreementversion,  transition,  has ``status``
                                agreements.agreement          sign
agreement.signature_requested   agreements.agreementversion   transition   status after = out_for_signature
agreement.executed              agreements.agreementversion   sign         status after = executed
motion.opened                   consortia.motion              create
motion.closed                   consortia.motion              transition   status open -> passed or failed
allocation.decided              compute.allocationrequest     transition   status after = approved,
                                                                           partly_approved or rejected
compliance.finding_opened       compute.finding               create
compliance.finding_resolved     compute.finding               transition   status after = resolved
usage.imbalance                 compute.fairsharealert        create       (an overuse or starvation alert)
==============================  ============================  ===========  ======================================

One audit event can produce several types (an execution is also a status change); each is a
message of its own. Who receives an event: endpoints of organisations that see its
consortium (``alliance.webhooks.selectors.subscribers``), narrowed by the type's ``audience``
when its object is visible to fewer organisations than the consortium's. The objects above
are all visible to everyone who sees their consortium (agreements/permissions.py,
compute/permissions.py, consortia/governance/selectors.py), so none narrows today; a type
added with ``register`` can.

The payload carries ids, display strings and the change itself, never the person who acted:
partners learn what changed, as the consortium page shows it, and read the object through the
API (``data.object.url``) with their own rights.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from audit.models import Action, AuditEvent, Outcome

Changes = Mapping[str, Any]
# Organisation ids that may receive the event, or None for all that see its consortium.
Audience = Callable[[AuditEvent, Changes], frozenset[int] | None]


def everyone_in_consortium(record: AuditEvent, changes: Changes) -> frozenset[int] | None:
    return None


@dataclass(frozen=True)
class EventType:
    name: str
    label: str
    description: str
    object_types: frozenset[str]
    actions: frozenset[str]
    condition: Callable[[Changes], bool] = field(default=lambda changes: True)
    audience: Audience = everyone_in_consortium


def _status(changes: Changes) -> tuple[Any, Any]:
    status = changes.get("status")
    if not isinstance(status, Mapping):
        return None, None
    return status.get("before"), status.get("after")


VERSION = "agreements.agreementversion"

BUILT_IN: tuple[EventType, ...] = (
    EventType(
        "agreement.status_changed",
        "Agreement status changed",
        "An agreement or one of its versions moved along its lifecycle: review, approval, "
        "signature, execution, supersession, withdrawal, termination or expiry.",
        frozenset({VERSION, "agreements.agreement"}),
        frozenset({Action.TRANSITION, Action.SIGN}),
        lambda changes: _status(changes)[1] is not None,
    ),
    EventType(
        "agreement.signature_requested",
        "Signature requested",
        "An approved agreement version went out for signature.",
        frozenset({VERSION}),
        frozenset({Action.TRANSITION}),
        lambda changes: _status(changes)[1] == "out_for_signature",
    ),
    EventType(
        "agreement.executed",
        "Agreement executed",
        "The last party signed: the version is executed and in force.",
        frozenset({VERSION}),
        frozenset({Action.SIGN}),
        lambda changes: _status(changes)[1] == "executed",
    ),
    EventType(
        "motion.opened",
        "Motion opened",
        "A motion was proposed and voting opened.",
        frozenset({"consortia.motion"}),
        frozenset({Action.CREATE}),
    ),
    EventType(
        "motion.closed",
        "Motion closed",
        "A motion closed: passed or failed, with the reason.",
        frozenset({"consortia.motion"}),
        frozenset({Action.TRANSITION}),
        lambda changes: (
            _status(changes)[0] == "open" and _status(changes)[1] in ("passed", "failed")
        ),
    ),
    EventType(
        "allocation.decided",
        "Allocation decided",
        "A capacity request was approved (in full or in part) or rejected, by the board or "
        "by a steering-committee vote.",
        frozenset({"compute.allocationrequest"}),
        frozenset({Action.TRANSITION}),
        lambda changes: _status(changes)[1] in ("approved", "partly_approved", "rejected"),
    ),
    EventType(
        "compliance.finding_opened",
        "Compliance finding opened",
        "A compliance sweep found a live job, allocation or data placement breaking a rule.",
        frozenset({"compute.finding"}),
        frozenset({Action.CREATE}),
    ),
    EventType(
        "compliance.finding_resolved",
        "Compliance finding resolved",
        "A compliance finding was resolved: by people of the consortium, with their note, or "
        "by a sweep that found the rule met again.",
        frozenset({"compute.finding"}),
        frozenset({Action.TRANSITION}),
        lambda changes: _status(changes)[1] == "resolved",
    ),
    EventType(
        "usage.imbalance",
        "Usage imbalance",
        "A member used far more than its share of a GPU pool, or far less while a request of "
        "it waits (a fair-share alert was raised).",
        frozenset({"compute.fairsharealert"}),
        frozenset({Action.CREATE}),
    ),
)

CATALOGUE: dict[str, EventType] = {}
_BY_OBJECT_TYPE: dict[str, list[EventType]] = {}


def register(event_type: EventType) -> None:
    """Add (or replace) an event type; apps and tests call this at start-up."""
    unregister(event_type.name)
    CATALOGUE[event_type.name] = event_type
    for object_type in event_type.object_types:
        _BY_OBJECT_TYPE.setdefault(object_type, []).append(event_type)


def unregister(name: str) -> None:
    CATALOGUE.pop(name, None)
    for types in _BY_OBJECT_TYPE.values():
        types[:] = [known for known in types if known.name != name]


for _built_in in BUILT_IN:
    register(_built_in)


def choices() -> list[tuple[str, str]]:
    return [(name, event_type.label) for name, event_type in CATALOGUE.items()]


def matching(record: AuditEvent) -> list[tuple[EventType, Changes]]:
    """The event types ``record`` produces, with its changes. Runs for every audit event
    (reads and denials included), so it stays a dictionary lookup unless the object type
    is one that webhooks carry."""
    candidates = _BY_OBJECT_TYPE.get(record.object_type)
    if not candidates or record.consortium_id is None or record.outcome != Outcome.SUCCESS:
        return []
    changes: Changes | None = None
    found = []
    for event_type in candidates:
        if record.action not in event_type.actions:
            continue
        if changes is None:
            changes = record.changes_data
        if event_type.condition(changes):
            found.append((event_type, changes))
    return found


# Where a partner reads the object through the API (with its own rights), by object type.
API_ROUTES = {
    "agreements.agreement": "api:agreement-detail",
    VERSION: "api:agreement-version-detail",
    "consortia.motion": "api:motion-detail",
    "compute.allocationrequest": "api:allocation-request-detail",
    "compute.finding": "api:compliance-finding-detail",
    "compute.job": "api:compliance-job-detail",
    "compute.placement": "api:compliance-placement-detail",
    "compute.pool": "api:pool-fair-share",
}
# A finding names the item it is on as "<kind> <id>" (compute.compliance.sweeps._item_label).
FINDING_ITEMS = {
    "job": "compute.job",
    "allocation": "compute.allocationrequest",
    "placement": "compute.placement",
}


def api_url(object_type: str, object_id: str) -> str | None:
    route = API_ROUTES.get(object_type)
    if route is None or not object_id.isdigit():
        return None
    try:
        return settings.PUBLIC_BASE_URL + reverse(route, args=[int(object_id)])
    except NoReverseMatch:
        return None


def _reference(object_type: str, object_id: str, display: str) -> dict[str, Any] | None:
    if not object_type:
        return None
    return {
        "type": object_type,
        "id": object_id,
        "display": display,
        "url": api_url(object_type, object_id),
    }


def _related(record: AuditEvent, changes: Changes) -> dict[str, Any] | None:
    if record.related_object_type:
        return _reference(
            record.related_object_type, record.related_object_id, record.related_object_display
        )
    item = changes.get("item")
    label = item.get("after") if isinstance(item, Mapping) else None
    if record.object_type == "compute.finding" and isinstance(label, str):
        kind, _, pk = label.partition(" ")
        if kind in FINDING_ITEMS:
            return _reference(FINDING_ITEMS[kind], pk, label)
    return None


def timestamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def payload(
    record: AuditEvent, event_type: EventType, changes: Changes, consortium_name: str
) -> dict[str, Any]:
    """The Standard Webhooks payload: ``type``, ``timestamp`` and ``data``."""
    return {
        "type": event_type.name,
        "timestamp": timestamp(record.occurred_at),
        "data": {
            "consortium": {"id": record.consortium_id, "name": consortium_name},
            "object": _reference(record.object_type, record.object_id, record.object_display),
            "related": _related(record, changes),
            "action": record.action,
            "changes": dict(changes),
            "reason": record.reason,
            "audit_event": {
                "id": record.pk,
                "chain": record.chain,
                "sequence": record.sequence,
                "hash": record.hash,
            },
        },
    }


def body(data: Mapping[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def carried_object_types() -> list[str]:
    """The audit object types some event type is made from."""
    return sorted(_BY_OBJECT_TYPE)


def matched_in(records: Sequence[AuditEvent]) -> list[tuple[AuditEvent, EventType, Changes]]:
    return [
        (record, event_type, changes)
        for record in records
        for event_type, changes in matching(record)
    ]
