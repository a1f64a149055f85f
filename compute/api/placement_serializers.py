"""API shapes of data set placements: ``CompliancePlacementInput`` to record one,
``CompliancePlacementEndInput`` to end it, ``CompliancePlacementRow`` for lists and single
placements.

Inputs check shape only (types, no unknown field); the service decides whether the data set
belongs to the consortium, the site exists and the dates make a period. Names start with
``Compliance`` like the gate's, as drf-spectacular names schema components after them.
"""

from __future__ import annotations

from rest_framework import serializers

from alliance.api.serializers import RowSerializer
from compute.api.compliance_serializers import _StrictInput
from compute.compliance.placements import NOTE_LENGTH


class CompliancePlacementInput(_StrictInput):
    """A copy of a data set stored at a site for the consortium's work."""

    consortium = serializers.IntegerField(min_value=1)
    dataset = serializers.IntegerField(min_value=1, help_text="Id of the consortium's data set.")
    site = serializers.IntegerField(min_value=1, help_text="Id of the directory's site.")
    since = serializers.DateField(help_text="The first day the copy is there.")
    until = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The first day the copy is no longer there; empty while it is.",
    )
    note = serializers.CharField(
        max_length=NOTE_LENGTH, required=False, allow_blank=True, default=""
    )


class CompliancePlacementEndInput(_StrictInput):
    until = serializers.DateField(help_text="The first day the copy is no longer there.")


class CompliancePlacementRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    consortium = serializers.IntegerField(read_only=True, source="consortium_id")
    dataset = serializers.IntegerField(read_only=True, source="dataset_id")
    dataset_name = serializers.CharField(read_only=True, source="dataset.name")
    site = serializers.IntegerField(read_only=True, source="site_id")
    site_name = serializers.CharField(read_only=True, source="site.name")
    since = serializers.DateField(read_only=True)
    until = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="The first day the copy is no longer there; null while it is.",
    )
    note = serializers.CharField(read_only=True)
    recorded_by = serializers.CharField(read_only=True, source="recorded_by.username")
    created_at = serializers.DateTimeField(read_only=True)
