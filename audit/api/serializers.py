"""API shapes of the audit trail."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from alliance.api.serializers import JSONTextField, RowSerializer
from audit.models import Action, ActorKind, AuditExport, Outcome


class AuditEventRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    chain = serializers.CharField(read_only=True)
    sequence = serializers.IntegerField(read_only=True)
    occurred_at = serializers.DateTimeField(read_only=True)
    consortium_id = serializers.IntegerField(read_only=True, allow_null=True)
    actor_kind = serializers.ChoiceField(choices=ActorKind.choices, read_only=True)
    actor_id = serializers.CharField(read_only=True)
    actor_display = serializers.CharField(read_only=True)
    actor_organisation_id = serializers.IntegerField(read_only=True, allow_null=True)
    actor_organisation_display = serializers.CharField(read_only=True)
    action = serializers.ChoiceField(choices=Action.choices, read_only=True)
    object_type = serializers.CharField(read_only=True)
    object_id = serializers.CharField(read_only=True)
    object_display = serializers.CharField(read_only=True)
    related_object_type = serializers.CharField(read_only=True)
    related_object_id = serializers.CharField(read_only=True)
    related_object_display = serializers.CharField(read_only=True)
    changes = JSONTextField(read_only=True)
    request_id = serializers.CharField(read_only=True)
    client_address = serializers.CharField(read_only=True, allow_null=True)
    user_agent = serializers.CharField(read_only=True)
    outcome = serializers.ChoiceField(choices=Outcome.choices, read_only=True)
    reason = serializers.CharField(read_only=True)
    prev_hash = serializers.CharField(read_only=True)
    hash = serializers.CharField(read_only=True)


class AuditCheckpointRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    chain = serializers.CharField(read_only=True)
    consortium_id = serializers.IntegerField(read_only=True, allow_null=True)
    size = serializers.IntegerField(read_only=True)
    head_hash = serializers.CharField(read_only=True)
    sealed_at = serializers.DateTimeField(read_only=True)
    key_id = serializers.CharField(read_only=True)
    signature = serializers.CharField(read_only=True)


class PublicKey(serializers.Serializer[dict[str, Any]]):
    algorithm = serializers.CharField(read_only=True)
    key_id = serializers.CharField(read_only=True)
    public_key_pem = serializers.CharField(read_only=True)
    note_format = serializers.CharField(read_only=True)


class AuditExportRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    consortium_id = serializers.IntegerField(read_only=True)
    requested_by_display = serializers.CharField(read_only=True)
    format = serializers.ChoiceField(choices=AuditExport.Format.choices, read_only=True)
    filters = serializers.JSONField(read_only=True)
    status = serializers.ChoiceField(choices=AuditExport.Status.choices, read_only=True)
    rows_total = serializers.IntegerField(read_only=True)
    rows_written = serializers.IntegerField(read_only=True)
    checkpoint = serializers.IntegerField(read_only=True, allow_null=True, source="checkpoint_id")
    sha256 = serializers.CharField(read_only=True)
    error = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)


class AuditExportInput(serializers.Serializer[dict[str, Any]]):
    consortium = serializers.IntegerField(min_value=1)
    format = serializers.ChoiceField(choices=AuditExport.Format.choices)
    filters = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        default=dict,
        help_text='The same filters as the events list, e.g. {"action": "update", "since": "2026-01-01T00:00:00Z"}.',
    )
