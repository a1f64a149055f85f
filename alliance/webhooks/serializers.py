"""API shapes for webhooks: ``*Row`` serializers for output, ``*Input`` for input.

Input serializers check shape only; the services decide what is allowed. Serializer names are
unique across the project: drf-spectacular names schema components after them.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from alliance.api.serializers import JSONTextField, RowSerializer
from alliance.webhooks import events
from alliance.webhooks.models import Message

STATUS_HELP = "One of: " + ", ".join(Message.Status.values) + "."


class WebhookEventTypeOut(serializers.Serializer[Any]):
    name = serializers.CharField()
    title = serializers.CharField(source="label")
    description = serializers.CharField()


class WebhookEndpointRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    organisation = serializers.IntegerField(read_only=True, source="organisation_id")
    url = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    event_types = serializers.ListField(child=serializers.CharField(), read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    disabled_reason = serializers.CharField(read_only=True)
    disabled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    secret_rotated_at = serializers.DateTimeField(read_only=True, allow_null=True)
    previous_secret_expires_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Until then messages carry a second signature, made with the previous secret.",
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class WebhookConsortiumOut(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()


class WebhookEndpointCreated(serializers.Serializer[Any]):
    endpoint = WebhookEndpointRow()
    secret = serializers.CharField(
        allow_null=True,
        help_text="whsec_...: shown only in this answer (null in a replayed answer: rotate "
        "to get a new one).",
    )
    receiving_consortia = WebhookConsortiumOut(
        many=True,
        help_text="Consortia whose events this endpoint receives now. Empty: no consortium "
        "of your organisation approves its host yet, so it receives nothing.",
    )


class WebhookEndpointInput(serializers.Serializer[Any]):
    url = serializers.CharField(max_length=2000, help_text="An https:// URL.")
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=events.choices()),
        allow_empty=False,
        help_text="Names from /api/v1/webhooks/event-types/.",
    )


class WebhookEndpointUpdateInput(serializers.Serializer[Any]):
    url = serializers.CharField(max_length=2000, required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=events.choices()), allow_empty=False, required=False
    )
    is_active = serializers.BooleanField(
        required=False, help_text="false disables the endpoint (give disabled_reason)."
    )
    disabled_reason = serializers.CharField(max_length=300, required=False)


class WebhookRotateInput(serializers.Serializer[Any]):
    overlap_hours = serializers.IntegerField(
        min_value=0,
        max_value=168,
        required=False,
        help_text="How long the previous secret keeps signing too (default 24).",
    )


class WebhookRotated(serializers.Serializer[Any]):
    endpoint = WebhookEndpointRow()
    secret = serializers.CharField(allow_null=True, help_text="The new secret, shown once.")


class WebhookMessageRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    endpoint = serializers.IntegerField(read_only=True, source="endpoint_id")
    webhook_id = serializers.CharField(read_only=True)
    event_type = serializers.CharField(read_only=True, source="event.type")
    consortium = serializers.IntegerField(read_only=True, source="event.consortium_id")
    audit_event = serializers.IntegerField(read_only=True, source="event.audit_event_id")
    status = serializers.CharField(read_only=True, help_text=STATUS_HELP)
    attempts = serializers.IntegerField(read_only=True)
    next_attempt_at = serializers.DateTimeField(read_only=True)
    last_status_code = serializers.IntegerField(read_only=True, allow_null=True)
    last_error = serializers.CharField(read_only=True)
    delivered_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)


class WebhookMessageDetail(WebhookMessageRow):
    payload = JSONTextField(read_only=True, source="event.body")


class WebhookAttemptRow(RowSerializer):
    number = serializers.IntegerField(read_only=True)
    started_at = serializers.DateTimeField(read_only=True)
    duration_ms = serializers.IntegerField(read_only=True)
    status_code = serializers.IntegerField(read_only=True, allow_null=True)
    delivered = serializers.BooleanField(read_only=True)
    error = serializers.CharField(read_only=True)
    response_excerpt = serializers.CharField(read_only=True)


class WebhookDestinationRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    consortium = serializers.IntegerField(read_only=True, source="consortium_id")
    consortium_name = serializers.CharField(read_only=True, source="consortium.name")
    host = serializers.CharField(read_only=True)
    port = serializers.IntegerField(read_only=True, allow_null=True)
    note = serializers.CharField(read_only=True)
    approved_by = serializers.CharField(read_only=True, source="approved_by.username")
    created_at = serializers.DateTimeField(read_only=True)


class WebhookDestinationInput(serializers.Serializer[Any]):
    consortium = serializers.IntegerField(min_value=1)
    host = serializers.CharField(max_length=253, help_text="Host name or IP address, exactly.")
    port = serializers.IntegerField(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
