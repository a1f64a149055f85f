"""Reads of the audit trail, scoped by the registered chain-access policy."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from alliance.errors import NotVisibleError
from audit import policy
from audit.models import Action, AuditCheckpoint, AuditEvent, AuditExport, Outcome, consortium_chain

# Reading and signing in are private to whoever did them; the activity feed that every member
# sees shows changes only. Auditors (full access) see everything.
READ_ACTIONS = frozenset(
    {
        Action.VIEW,
        Action.LIST,
        Action.EXPORT,
        Action.DOWNLOAD,
        Action.LOGIN,
        Action.LOGIN_FAILED,
        Action.LOGOUT,
        Action.DENIED,
    }
)


def _changes_only(events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
    return events.exclude(action__in=READ_ACTIONS).filter(outcome=Outcome.SUCCESS)


def event_list(*, actor: Any) -> QuerySet[AuditEvent]:
    """Every event ``actor`` may read, across consortia."""
    if not getattr(actor, "is_authenticated", False):
        return AuditEvent.objects.none()
    if actor.is_superuser:
        return AuditEvent.objects.all()
    access = policy.current()
    full, activity = access.full_consortium_ids(actor), access.activity_consortium_ids(actor)
    if full is None or activity is None:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(
        Q(consortium_id__in=full)
        | (Q(consortium_id__in=activity) & ~Q(action__in=READ_ACTIONS) & Q(outcome=Outcome.SUCCESS))
    )


def consortium_events(*, actor: Any, consortium_id: int) -> tuple[QuerySet[AuditEvent], bool]:
    """A consortium's chain as ``actor`` may read it, and whether that is the whole chain."""
    access = policy.current()
    access.require(actor, consortium_id, full=False)
    events = AuditEvent.objects.filter(chain=consortium_chain(int(consortium_id)))
    full = access.has_full(actor, consortium_id)
    return (events if full else _changes_only(events)), full


def object_history(
    *, actor: Any, consortium_id: int, object_type: str, object_id: Any, limit: int = 10
) -> list[AuditEvent]:
    """The latest changes to an object or to what hangs off it (its history panel)."""
    events, _ = consortium_events(actor=actor, consortium_id=consortium_id)
    about = Q(object_type=object_type, object_id=str(object_id)) | Q(
        related_object_type=object_type, related_object_id=str(object_id)
    )
    return list(_changes_only(events).filter(about).order_by("-id")[:limit])


def recent_activity(*, actor: Any, consortium_id: int, limit: int = 10) -> list[AuditEvent]:
    """The latest changes anywhere in the consortium's chain (its dashboard's activity)."""
    events, _ = consortium_events(actor=actor, consortium_id=consortium_id)
    return list(_changes_only(events).order_by("-id")[:limit])


def checkpoint_list(*, actor: Any) -> QuerySet[AuditCheckpoint]:
    """Checkpoints of every chain ``actor`` may see: all members may keep them as evidence."""
    if not getattr(actor, "is_authenticated", False):
        return AuditCheckpoint.objects.none()
    if actor.is_superuser:
        return AuditCheckpoint.objects.all()
    activity = policy.current().activity_consortium_ids(actor)
    if activity is None:
        return AuditCheckpoint.objects.none()
    return AuditCheckpoint.objects.filter(consortium_id__in=activity)


def export_list(*, actor: Any) -> QuerySet[AuditExport]:
    """Exports of the consortia whose whole chain ``actor`` may read."""
    if not getattr(actor, "is_authenticated", False):
        return AuditExport.objects.none()
    if actor.is_superuser:
        return AuditExport.objects.all()
    full = policy.current().full_consortium_ids(actor)
    return (
        AuditExport.objects.none()
        if full is None
        else AuditExport.objects.filter(consortium_id__in=full)
    )


def export_detail(*, actor: Any, pk: Any) -> AuditExport:
    """One export: 404 if it does not exist or its consortium is hidden, 403 without full access."""
    export = AuditExport.objects.filter(pk=pk).first() if str(pk).isdigit() else None
    if export is None:
        raise NotVisibleError(
            "No export matches the given query.",
            consortium_id=None,
            object_type="audit.auditexport",
            object_id=str(pk)[:64],
            action="view_audit_log",
        )
    policy.current().require(actor, export.consortium_id, full=True)
    return export


def latest_checkpoint(*, actor: Any, consortium_id: int) -> AuditCheckpoint | None:
    policy.current().require(actor, consortium_id, full=False)
    return (
        AuditCheckpoint.objects.filter(chain=consortium_chain(consortium_id))
        .order_by("-size")
        .first()
    )


def recent_exports(*, actor: Any, consortium_id: int, limit: int = 5) -> list[AuditExport]:
    if not policy.current().has_full(actor, consortium_id):
        return []
    return list(
        AuditExport.objects.filter(consortium_id=consortium_id).order_by("-created_at")[:limit]
    )
