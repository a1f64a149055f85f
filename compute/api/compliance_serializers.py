"""API shapes of the compliance gate: ``Compliance*Input`` for request bodies, ``*Row`` for
lists, ``*Result`` and ``*Detail`` for single objects.

Inputs check shape only (types, which fields go together, no unknown field); the services
decide whether a dataset, site, purpose or action exists and belongs to the consortium, and
the engine decides the rest. Names start with ``Compliance`` because drf-spectacular names
schema components after them. Codes and outcomes are plain strings with their values in the
help text: an enum called "outcome" or "status" would collide with the other apps' ones.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from agreements.terms import ACTIONS, PURPOSES
from alliance.api.serializers import RowSerializer
from compute.compliance import services
from compute.compliance.models import Decision, Job, Movement
from compute.compliance.reasons import Code, ObligationCode

MAX_BATCH = 100
MAX_IDS = 200

# The fields that describe a job (what, where, why, when), shared by proposing and deciding.
SPEC_FIELDS = tuple(sorted(services.SPEC_FIELDS))
REQUIRED_SPEC_FIELDS = (
    "consortium",
    "datasets",
    "sites",
    "purpose",
    "action",
    "movement",
    "starts_at",
    "ends_at",
)


def _one_of(values: Any) -> str:
    return "One of: " + ", ".join(str(value) for value in values) + "."


def _optional_id(help_text: str = "") -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1, required=False, allow_null=True, default=None, help_text=help_text
    )


class _StrictInput(serializers.Serializer[Any]):
    """Refuses fields it does not know: a pipeline's typo ("dataset") must not be ignored."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        """The declared fields, each a shallow copy that this serializer binds to itself.

        DRF deep-copies every declared field for each instance, which re-runs every field's
        constructor: a twentieth of the gate's time for a decision. Plain fields keep no state
        between requests once constructed, so a shallow copy is enough; nested serializers
        (the batch's jobs) are deep-copied as DRF does."""
        return {
            name: copy.deepcopy(field)
            if isinstance(field, serializers.BaseSerializer)
            else copy.copy(field)
            for name, field in self._declared_fields.items()
        }

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


class ComplianceJobInput(_StrictInput):
    """A job: the consortium, what data and model, where, why, when, and where outputs go."""

    consortium = serializers.IntegerField(min_value=1)
    organisation = _optional_id(
        "The requesting organisation: the caller's own (the default); no other may be named."
    )
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    datasets = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        max_length=MAX_IDS,
        help_text="Ids of the consortium's datasets the job uses.",
    )
    model = _optional_id("Id of the model (an IP asset of the consortium) the job starts from.")
    sites = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        max_length=MAX_IDS,
        help_text="Ids of the directory's sites where the job runs.",
    )
    purpose = serializers.CharField(max_length=40, help_text=_one_of(PURPOSES))
    action = serializers.CharField(max_length=20, help_text=_one_of(ACTIONS))
    movement = serializers.CharField(max_length=16, help_text=_one_of(Movement.values))
    output_jurisdiction = serializers.CharField(
        max_length=8,
        required=False,
        allow_null=True,
        default=None,
        help_text="Where the outputs go (a jurisdiction code such as FR or EU), or give "
        "output_site.",
    )
    output_site = _optional_id("The site the outputs go to, or give output_jurisdiction.")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    aggregation_site = _optional_id("Federated jobs: where the updates are aggregated.")
    secure_aggregation = serializers.BooleanField(required=False, default=False)
    dp_epsilon = serializers.FloatField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Federated jobs on personal data: the differential-privacy budget.",
    )


class ComplianceDecisionInput(ComplianceJobInput):
    """A job to decide: ``job`` (the id of a proposed job) alone, or the job's fields."""

    job = _optional_id("A proposed job's id; then send no other field of the job.")
    at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The instant to evaluate for (default: now).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in REQUIRED_SPEC_FIELDS:
            self.fields[name].required = False
            self.fields[name].allow_null = True

    def to_internal_value(self, data: Any) -> Any:
        attrs = super().to_internal_value(data)
        if attrs.get("job") is not None:
            extra = sorted(str(key) for key in data if key not in ("job", "at"))
            if extra:
                raise serializers.ValidationError(
                    {
                        "job": "Send a proposed job's id or the job's fields, not both "
                        f"(also sent: {', '.join(extra)})."
                    }
                )
            return attrs
        missing = [name for name in REQUIRED_SPEC_FIELDS if attrs.get(name) is None]
        if missing:
            raise serializers.ValidationError(
                {
                    name: ["This field is required (or send a proposed job's id as job)."]
                    for name in missing
                }
            )
        return attrs


class ComplianceBatchInput(_StrictInput):
    jobs = ComplianceDecisionInput(
        many=True,
        allow_empty=False,
        max_length=MAX_BATCH,
        help_text=f"Up to {MAX_BATCH} jobs, each decided and stored; results come in this order.",
    )


class ComplianceDecideInput(_StrictInput):
    at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The instant to evaluate for (default: now).",
    )


# What a decision says.


class ComplianceSubjectOut(serializers.Serializer[Any]):
    type = serializers.CharField(
        read_only=True, help_text="dataset, site, provider, model, job or clause."
    )
    id = serializers.JSONField(read_only=True, help_text="The subject's id (number or code).")
    display = serializers.CharField(read_only=True)


class ComplianceSourceOut(serializers.Serializer[Any]):
    """The agreement, version and clause a rule comes from."""

    agreement_id = serializers.IntegerField(read_only=True)
    agreement_title = serializers.CharField(read_only=True)
    version_id = serializers.IntegerField(read_only=True)
    version_number = serializers.IntegerField(read_only=True)
    clause_id = serializers.IntegerField(read_only=True)
    clause_number = serializers.CharField(read_only=True)
    link = serializers.CharField(
        read_only=True, help_text="The agreement version's page, relative to the server."
    )


class ComplianceReasonOut(serializers.Serializer[Any]):
    code = serializers.CharField(read_only=True, help_text=_one_of(Code))
    message = serializers.CharField(read_only=True)
    subject = ComplianceSubjectOut(read_only=True)
    expected = serializers.CharField(read_only=True)
    actual = serializers.CharField(read_only=True)
    # The field is called source in the answer; DRF pops declared fields off the class.
    source = ComplianceSourceOut(read_only=True, allow_null=True)  # type: ignore[assignment]


class ComplianceObligationOut(serializers.Serializer[Any]):
    code = serializers.CharField(read_only=True, help_text=_one_of(ObligationCode))
    message = serializers.CharField(read_only=True)
    subject = ComplianceSubjectOut(read_only=True)
    # The field is called source in the answer; DRF pops declared fields off the class.
    source = ComplianceSourceOut(read_only=True, allow_null=True)  # type: ignore[assignment]


class ComplianceCheckOut(serializers.Serializer[Any]):
    rule = serializers.CharField(read_only=True)
    subject = ComplianceSubjectOut(read_only=True)
    passed = serializers.BooleanField(read_only=True)
    code = serializers.CharField(read_only=True, help_text="The reason code when not passed.")
    detail = serializers.CharField(read_only=True)


class ComplianceDecisionRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    consortium = serializers.IntegerField(read_only=True, source="consortium_id")
    job = serializers.IntegerField(read_only=True, source="job_id", allow_null=True)
    outcome = serializers.CharField(read_only=True, help_text=_one_of(Decision.Outcome.values))
    reasons = ComplianceReasonOut(many=True, read_only=True)
    obligations = ComplianceObligationOut(many=True, read_only=True)
    rules_digest = serializers.CharField(read_only=True)
    evaluated_for = serializers.DateTimeField(read_only=True)
    decided_at = serializers.DateTimeField(read_only=True)
    decided_by = serializers.CharField(
        read_only=True, source="decided_by.username", allow_null=True
    )


class ComplianceDecisionResult(ComplianceDecisionRow):
    explain = ComplianceCheckOut(
        many=True,
        read_only=True,
        help_text="Every rule checked, passed or not: filled when asked with ?explain=true.",
    )


class ComplianceDecisionDetail(ComplianceDecisionResult):
    input_snapshot = serializers.JSONField(
        read_only=True, help_text="The facts the engine saw, as it saw them."
    )


class ComplianceBatchOut(serializers.Serializer[Any]):
    results = ComplianceDecisionResult(many=True, read_only=True)


# Jobs.


class ComplianceJobRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    consortium = serializers.IntegerField(read_only=True, source="consortium_id")
    organisation = serializers.IntegerField(read_only=True, source="organisation_id")
    name = serializers.CharField(read_only=True)
    model = serializers.IntegerField(read_only=True, source="model_id", allow_null=True)
    purpose = serializers.CharField(read_only=True)
    action = serializers.CharField(read_only=True)
    movement = serializers.CharField(read_only=True, help_text=_one_of(Movement.values))
    output_jurisdiction = serializers.CharField(
        read_only=True, source="output_jurisdiction_id", allow_null=True
    )
    output_site = serializers.IntegerField(read_only=True, source="output_site_id", allow_null=True)
    starts_at = serializers.DateTimeField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True)
    status = serializers.CharField(read_only=True, help_text=_one_of(Job.Status.values))
    aggregation_site = serializers.IntegerField(
        read_only=True, source="aggregation_site_id", allow_null=True
    )
    secure_aggregation = serializers.BooleanField(read_only=True)
    dp_epsilon = serializers.FloatField(read_only=True, allow_null=True)
    proposed_by = serializers.CharField(read_only=True, source="proposed_by.username")
    created_at = serializers.DateTimeField(read_only=True)


class ComplianceJobDetail(ComplianceJobRow):
    datasets = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    sites = serializers.ListField(child=serializers.IntegerField(), read_only=True)
