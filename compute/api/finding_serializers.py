"""API shapes of compliance findings: ``ComplianceFindingRow`` for lists and single findings,
``ComplianceFindingAcknowledgeInput`` and ``ComplianceFindingResolveInput`` to handle one.

A finding's subject and source are the same objects as a decision's reasons (what it is
about; the agreement, version and clause the rule rests on, with a link), so a partner can
handle both with one parser.
"""

from __future__ import annotations

from rest_framework import serializers

from alliance.api.serializers import RowSerializer
from compute.api.compliance_serializers import (
    ComplianceSourceOut,
    ComplianceSubjectOut,
    _one_of,
    _StrictInput,
)
from compute.compliance.models import Finding
from compute.compliance.reasons import Code, Severity
from compute.compliance.sweeps import FINDING_NOTE_LENGTH as NOTE_LENGTH


class ComplianceFindingAcknowledgeInput(_StrictInput):
    note = serializers.CharField(
        max_length=NOTE_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text="What is being done about it (optional).",
    )


class ComplianceFindingResolveInput(_StrictInput):
    note = serializers.CharField(
        max_length=NOTE_LENGTH, help_text="How the finding was resolved (required)."
    )


class ComplianceFindingRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    consortium = serializers.IntegerField(read_only=True, source="consortium_id")
    job = serializers.IntegerField(read_only=True, source="job_id", allow_null=True)
    allocation = serializers.IntegerField(
        read_only=True,
        source="allocation_id",
        allow_null=True,
        help_text="The granted allocation request, when the finding is about GPUs in use.",
    )
    placement = serializers.IntegerField(
        read_only=True,
        source="placement_id",
        allow_null=True,
        help_text="The data set's placement, when the finding is about a stored copy.",
    )
    owner = serializers.IntegerField(
        read_only=True,
        source="owner_id",
        help_text="The organisation whose job, allocation or data it is, which must act.",
    )
    owner_name = serializers.CharField(read_only=True, source="owner.name")
    code = serializers.CharField(read_only=True, help_text=_one_of(Code))
    severity = serializers.CharField(read_only=True, help_text=_one_of(Severity))
    subject = ComplianceSubjectOut(read_only=True)
    message = serializers.CharField(read_only=True)
    expected = serializers.CharField(read_only=True)
    actual = serializers.CharField(read_only=True)
    # The field is called source in the answer; DRF pops declared fields off the class.
    source = ComplianceSourceOut(read_only=True, allow_null=True)  # type: ignore[assignment]
    status = serializers.CharField(read_only=True, help_text=_one_of(Finding.Status.values))
    note = serializers.CharField(read_only=True, help_text="The notes of those who handled it.")
    opened_at = serializers.DateTimeField(read_only=True)
    last_seen_at = serializers.DateTimeField(
        read_only=True, help_text="The last sweep that found the rule still broken."
    )
    acknowledged_at = serializers.DateTimeField(read_only=True, allow_null=True)
    resolved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    handled_by = serializers.CharField(
        read_only=True, source="handled_by.username", allow_null=True
    )
