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
    changes = models.JSONField(default=dict, blank=True)

    request_id = models.CharField(max_length=64, blank=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    reason = models.TextField(blank=True)

    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

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
        indexes = [
            models.Index(fields=["consortium_id", "-occurred_at"], name="audit_consortium_time"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["related_object_type", "related_object_id"], name="audit_related"),
            models.Index(fields=["request_id"], name="audit_request"),
        ]

    def __str__(self) -> str:
        return f"{self.chain}#{self.sequence} {self.action} {self.object_display}"
