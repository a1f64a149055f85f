"""Outgoing webhooks: where an organisation wants events sent, where each consortium allows
them to go, and what was sent when.

An ``Endpoint`` belongs to one organisation and names the event types it wants. A
``Destination`` is a host a consortium's chair approved: an endpoint receives a consortium's
events only while its host is approved there (sovereign deployments send nothing anywhere
else). One ``Event`` is stored per (audit event, event type), its body frozen as the exact
bytes that are signed; one ``Message`` per endpoint that receives it carries the
``webhook-id`` (the same on every retry and replay) and the delivery state; each try is an
``Attempt``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consortia.models import Consortium, Organisation


class Destination(models.Model):
    """A host (and optionally one port) that a consortium approved as a webhook destination.

    Events of the consortium go only to endpoints on an approved host; no port means any."""

    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="webhook_destinations"
    )
    host = models.CharField(
        max_length=253, help_text="Host name (IDNA, lower case) or IP address, exactly."
    )
    port = models.PositiveIntegerField(
        null=True, blank=True, help_text="Only this port; empty for any port."
    )
    note = models.CharField(max_length=300, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["consortium", "host", "port"]
        constraints = [
            # Two constraints because NULLs are distinct in a unique index.
            models.UniqueConstraint(
                fields=["consortium", "host", "port"], name="webhook_destination_unique"
            ),
            models.UniqueConstraint(
                fields=["consortium", "host"],
                condition=Q(port__isnull=True),
                name="webhook_destination_unique_any_port",
            ),
            models.CheckConstraint(
                condition=Q(port__isnull=True) | Q(port__gte=1, port__lte=65535),
                name="webhook_destination_port_valid",
            ),
            models.CheckConstraint(
                condition=~Q(host=""), name="webhook_destination_host_not_blank"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.host}:{self.port}" if self.port else self.host


class Endpoint(models.Model):
    """A URL where an organisation receives the event types it chose, signed with its secret.

    The secret is stored encrypted (``alliance.webhooks.vault``): signing needs the plaintext,
    so a digest would not do. After a rotation the previous secret keeps signing too until
    ``previous_secret_expires_at``, so receivers can switch without losing a message."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="webhook_endpoints"
    )
    url = models.CharField(max_length=2000)
    # Parsed from ``url`` by the service: what the allow-list and the delivery compare.
    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField()
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    secret_encrypted = models.TextField()
    previous_secret_encrypted = models.TextField(blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_active=True) | ~Q(disabled_reason=""),
                name="webhook_endpoint_disabled_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(port__gte=1, port__lte=65535), name="webhook_endpoint_port_valid"
            ),
            models.CheckConstraint(
                condition=~Q(secret_encrypted=""), name="webhook_endpoint_has_secret"
            ),
        ]

    def __str__(self) -> str:
        return self.url


class Event(models.Model):
    """One event type produced by one audit event, with its payload frozen as the body sent
    to every endpoint that receives it (a retry must sign the same bytes)."""

    type = models.CharField(max_length=64)
    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="+")
    # Ids, not foreign keys, like the audit trail's own references: audit depends on no app.
    audit_event_id = models.BigIntegerField()
    body = models.TextField(help_text="The JSON payload exactly as sent and signed.")
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["audit_event_id", "type"], name="webhook_event_once_per_audit_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} (audit event {self.audit_event_id})"


class Message(models.Model):
    """An event on its way to one endpoint: pending until a 2xx, retried with backoff, then
    delivered, failed (refused without retry) or given up (retries exhausted)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        GAVE_UP = "gave_up", _("Gave up")

    # No index of their own on the two foreign keys: (endpoint, event) is unique, which
    # indexes the endpoint, and nothing looks messages up by event. Every index is written
    # again when a message is marked delivered, half a million times in the bench.
    endpoint = models.ForeignKey(
        # The delivery log belongs to its endpoint: deleting an endpoint (audited) drops it.
        Endpoint,
        on_delete=models.CASCADE,
        related_name="messages",
        db_index=False,
    )
    event = models.ForeignKey(
        Event, on_delete=models.PROTECT, related_name="messages", db_index=False
    )
    webhook_id = models.CharField(max_length=40, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Attempts made, replays included.")
    failures = models.PositiveIntegerField(
        default=0, help_text="Failed attempts since the last replay: the retry schedule's step."
    )
    next_attempt_at = models.DateTimeField()
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"], name="webhook_message_once_per_endpoint"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "delivered", "failed", "gave_up"]),
                name="webhook_message_status_valid",
            ),
        ]
        indexes = [
            # The delivery run's claim (an endpoint's due messages) and the sweeper's scan.
            # Partial: a message leaves it when delivered (nearly all of them), so the index
            # stays the size of what waits.
            models.Index(
                fields=["endpoint", "next_attempt_at"],
                condition=Q(status="pending"),
                name="webhook_message_due",
            ),
        ]

    def __str__(self) -> str:
        return self.webhook_id


class Attempt(models.Model):
    """One try at delivering a message: what came back, or why nothing did."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.TextField(blank=True)
    delivered = models.BooleanField(default=False)

    class Meta:
        ordering = ["message", "number"]

    def __str__(self) -> str:
        return f"{self.message_id} #{self.number}"
