"""The audit trail: one append-only, hash-chained sequence of events per chain.

There is one chain per consortium and one for platform-level events. ``hash`` is SHA-256 over
the previous event's hash and a canonical serialisation of this event (see
``audit.canonical``), so rewriting any event breaks every hash after it. Database triggers
(installed by the migrations) refuse UPDATE, DELETE and TRUNCATE; the chain detects what a
privileged operator could still do behind them.

Actors, organisations and objects are stored as ids plus frozen display strings, never as
foreign keys: history must outlive renames and deletions, and ``audit`` depends on no other app.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from django.db import models
from django.db.models import Q

GENESIS_HASH = "0" * 64
PLATFORM_CHAIN = "platform"


def consortium_chain(consortium_id: int) -> str:
    return f"consortium:{consortium_id}"


class Action(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    VIEW = "view", "View"
    LIST = "list", "List"
    EXPORT = "export", "Export"
    DOWNLOAD = "download", "Download"
    APPROVE = "approve", "Approve"
    SIGN = "sign", "Sign"
    VOTE = "vote", "Vote"
    LOGIN = "login", "Login"
    LOGIN_FAILED = "login_failed", "Login failed"
    LOGOUT = "logout", "Logout"
    DENIED = "denied", "Denied"
    TRANSITION = "transition", "Status change"
    INVITE = "invite", "Invite"
    ADMIT = "admit", "Admit"
    SUSPEND = "suspend", "Suspend"
    REINSTATE = "reinstate", "Reinstate"
    REMOVE = "remove", "Remove"
    ASSIGN = "assign", "Assign role"
    REVOKE = "revoke", "Revoke role"
    GRANT = "grant", "Grant permission"
    NOTIFY = "notify", "Notify"
    SEAL = "seal", "Seal checkpoint"


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    DENIED = "denied", "Denied"
    ERROR = "error", "Error"


class ActorKind(models.TextChoices):
    USER = "user", "User"
    CLIENT = "client", "API client"
    SYSTEM = "system", "System"
    ANONYMOUS = "anonymous", "Anonymous"


class AuditEvent(models.Model):
    """One thing that happened: who did what to which object, from where, with what outcome."""

    chain = models.CharField(max_length=64)
    sequence = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField()
    consortium_id = models.BigIntegerField(null=True, blank=True)

    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_display = models.CharField(max_length=200, blank=True)
    actor_organisation_id = models.BigIntegerField(null=True, blank=True)
    actor_organisation_display = models.CharField(max_length=200, blank=True)

    action = models.CharField(max_length=32, choices=Action.choices)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_display = models.CharField(max_length=300, blank=True)
    related_object_type = models.CharField(max_length=100, blank=True)
    related_object_id = models.CharField(max_length=64, blank=True)
    related_object_display = models.CharField(max_length=300, blank=True)
    # Stored as canonical JSON text (keys sorted, no spaces), exactly the bytes that are hashed,
    # so PostgreSQL can re-hash an event without re-serialising nested JSON.
    changes = models.TextField(default="{}", help_text="Canonical JSON: keys sorted, no spaces.")

    request_id = models.CharField(max_length=64, blank=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    reason = models.TextField(blank=True)

    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["chain", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "sequence"], name="audit_event_chain_sequence"
            ),
            models.CheckConstraint(
                condition=Q(sequence__gte=1), name="audit_event_sequence_positive"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["success", "denied", "error"]),
                name="audit_event_outcome_valid",
            ),
        ]
        # Few indexes, since every audited write pays for each: the chain's own unique key
        # (feeds, verification), consortium then id (API lists), and object lookups (history).
        indexes = [
            models.Index(fields=["consortium_id", "id"], name="audit_consortium_id"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["related_object_type", "related_object_id"], name="audit_related"),
        ]

    def __str__(self) -> str:
        return f"{self.chain}#{self.sequence} {self.action} {self.object_display}"

    @functools.cached_property
    def changes_data(self) -> Any:
        """``changes`` as JSON values; set when the event is recorded, read back after."""
        return json.loads(self.changes)


class AuditCheckpoint(models.Model):
    """A signed statement of a chain's size and head hash at a moment.

    A member organisation that keeps checkpoints can later prove that the history up to each
    one was not rewritten: the chain must still lead to the same head at the same size.
    """

    chain = models.CharField(max_length=64)
    consortium_id = models.BigIntegerField(null=True, blank=True)
    size = models.PositiveBigIntegerField(help_text="Sequence number of the last event sealed.")
    head_hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField()
    key_id = models.CharField(max_length=64, help_text="SHA-256 of the signing public key.")
    signature = models.TextField(help_text="Base64 Ed25519 signature of the checkpoint note.")

    class Meta:
        ordering = ["chain", "size"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "size"], name="audit_checkpoint_chain_size"),
            models.CheckConstraint(condition=Q(size__gte=1), name="audit_checkpoint_size_positive"),
        ]
        indexes = [
            models.Index(fields=["consortium_id", "-sealed_at"], name="audit_checkpoint_consortium")
        ]

    def __str__(self) -> str:
        return f"{self.chain} at {self.size}"

    @property
    def note(self) -> str:
        from audit.signing import checkpoint_note

        return checkpoint_note(self.chain, self.size, self.head_hash, self.sealed_at)


class AuditExport(models.Model):
    """A file of a consortium's audit events, made by a task, with its filter and the
    checkpoint it verifies against written into it."""

    class Format(models.TextChoices):
        JSONL = "jsonl", "JSON Lines"
        CSV = "csv", "CSV"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    consortium_id = models.BigIntegerField()
    requested_by_id = models.BigIntegerField()
    requested_by_display = models.CharField(max_length=200)
    format = models.CharField(max_length=8, choices=Format.choices)
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    rows_total = models.PositiveBigIntegerField(default=0)
    rows_written = models.PositiveBigIntegerField(default=0)
    checkpoint = models.ForeignKey(AuditCheckpoint, null=True, blank=True, on_delete=models.PROTECT)
    file_name = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "running", "done", "failed"]),
                name="audit_export_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(rows_written__lte=models.F("rows_total")) | Q(rows_total=0),
                name="audit_export_progress_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"Audit export {self.pk} ({self.get_format_display()})"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.rows_written / self.rows_total) if self.rows_total else 0
