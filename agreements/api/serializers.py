"""API shapes of agreements."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from agreements.models import (
    Agreement,
    AgreementKind,
    AgreementVersion,
    ClauseKind,
    IPAssetKind,
    PartyRole,
    Sensitivity,
)
from alliance.api.serializers import RowSerializer


class AgreementRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    consortium = serializers.IntegerField(read_only=True, source="consortium_id")
    consortium_name = serializers.CharField(read_only=True, source="consortium.name")
    kind = serializers.ChoiceField(choices=AgreementKind.choices, read_only=True)
    title = serializers.CharField(read_only=True)
    governing_law = serializers.CharField(read_only=True, source="governing_law_id")
    status = serializers.ChoiceField(choices=Agreement.Status.choices, read_only=True)
    effective_on = serializers.DateField(read_only=True, allow_null=True)
    expires_on = serializers.DateField(read_only=True, allow_null=True)
    requires_steering_approval = serializers.BooleanField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class PartyOut(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    organisation = serializers.IntegerField(read_only=True, source="organisation_id")
    organisation_name = serializers.CharField(read_only=True, source="organisation.name")
    role = serializers.ChoiceField(choices=PartyRole.choices, read_only=True)
    signatory = serializers.CharField(
        read_only=True, source="signatory.username", allow_null=True, default=None
    )
    signing_order = serializers.IntegerField(read_only=True)


class ApprovalOut(serializers.Serializer[Any]):
    organisation = serializers.IntegerField(
        read_only=True, source="organisation_id", allow_null=True
    )
    is_steering = serializers.BooleanField(read_only=True)
    approved_by = serializers.CharField(read_only=True, source="approved_by.username")
    approved_at = serializers.DateTimeField(read_only=True)
    comment = serializers.CharField(read_only=True)


class VersionOut(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    number = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=AgreementVersion.Status.choices, read_only=True)
    based_on = serializers.IntegerField(read_only=True, source="based_on_id", allow_null=True)
    note = serializers.CharField(read_only=True)
    content_hash = serializers.CharField(read_only=True)
    frozen_at = serializers.DateTimeField(read_only=True, allow_null=True)
    executed_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ClauseOut(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    key = serializers.UUIDField(read_only=True)
    number = serializers.CharField(read_only=True)
    position = serializers.IntegerField(read_only=True)
    level = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=ClauseKind.choices, read_only=True)
    heading = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    html = serializers.CharField(read_only=True, help_text="The body rendered and sanitised.")


class VersionDetail(VersionOut):
    agreement = serializers.IntegerField(read_only=True, source="agreement_id")
    approvals = ApprovalOut(many=True, read_only=True)
    approvals_missing = serializers.ListField(child=serializers.CharField(), read_only=True)
    clauses = ClauseOut(many=True, read_only=True)


class AgreementDetail(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    consortium = serializers.IntegerField(read_only=True, source="consortium_id")
    kind = serializers.ChoiceField(choices=AgreementKind.choices, read_only=True)
    title = serializers.CharField(read_only=True)
    governing_law = serializers.CharField(read_only=True, source="governing_law_id")
    status = serializers.ChoiceField(choices=Agreement.Status.choices, read_only=True)
    effective_on = serializers.DateField(read_only=True, allow_null=True)
    expires_on = serializers.DateField(read_only=True, allow_null=True)
    requires_steering_approval = serializers.BooleanField(read_only=True)
    parties = PartyOut(many=True, read_only=True)
    versions = VersionOut(many=True, read_only=True)


class AgreementCreateInput(serializers.Serializer[Any]):
    consortium = serializers.IntegerField(min_value=1)
    kind = serializers.ChoiceField(choices=AgreementKind.choices)
    title = serializers.CharField(max_length=300)
    governing_law = serializers.CharField(
        max_length=8, help_text="Jurisdiction code, e.g. DE or EU."
    )
    effective_on = serializers.DateField(required=False, allow_null=True)
    expires_on = serializers.DateField(required=False, allow_null=True)
    requires_steering_approval = serializers.BooleanField(required=False, default=False)


class AgreementUpdateInput(serializers.Serializer[Any]):
    title = serializers.CharField(max_length=300, required=False)
    governing_law = serializers.CharField(max_length=8, required=False)
    effective_on = serializers.DateField(required=False, allow_null=True)
    expires_on = serializers.DateField(required=False, allow_null=True)
    requires_steering_approval = serializers.BooleanField(required=False)


class PartyInput(serializers.Serializer[Any]):
    organisation = serializers.IntegerField(min_value=1)
    role = serializers.ChoiceField(choices=PartyRole.choices)
    signatory = serializers.CharField(
        max_length=150, required=False, allow_blank=True, help_text="Username."
    )
    signing_order = serializers.IntegerField(min_value=0, required=False, default=0)


class ClauseInput(serializers.Serializer[Any]):
    version = serializers.IntegerField(
        min_value=1, help_text="The draft version to add the clause to."
    )
    heading = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    body = serializers.CharField(required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(
        choices=ClauseKind.choices, required=False, default=ClauseKind.GENERAL
    )
    level = serializers.IntegerField(min_value=0, max_value=1, required=False, default=0)
    position = serializers.IntegerField(min_value=1, required=False)
    template = serializers.SlugField(
        required=False, help_text="Insert this library clause instead."
    )


class ClauseUpdateInput(serializers.Serializer[Any]):
    heading = serializers.CharField(max_length=200, required=False)
    body = serializers.CharField(required=False)
    kind = serializers.ChoiceField(choices=ClauseKind.choices, required=False)
    level = serializers.IntegerField(min_value=0, max_value=1, required=False)


class MoveInput(serializers.Serializer[Any]):
    position = serializers.IntegerField(min_value=1)


class ChangeReasonInput(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=1000)


class NoteInput(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ApprovalInput(serializers.Serializer[Any]):
    steering = serializers.BooleanField(required=False, default=False)
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ClauseTemplateOut(serializers.Serializer[Any]):
    slug = serializers.SlugField(read_only=True)
    title = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=ClauseKind.choices, read_only=True)
    agreement_kind = serializers.CharField(read_only=True)
    partnership_model = serializers.CharField(
        read_only=True, source="partnership_model_id", allow_null=True
    )
    body = serializers.CharField(read_only=True)
    guidance = serializers.CharField(read_only=True)


class DatasetRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    consortium = serializers.IntegerField(read_only=True, source="consortium_id")
    owner = serializers.IntegerField(read_only=True, source="owner_id")
    owner_name = serializers.CharField(read_only=True, source="owner.name")
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    sensitivity = serializers.ChoiceField(choices=Sensitivity.choices, read_only=True)
    contains_personal_data = serializers.BooleanField(read_only=True)
    residency = serializers.CharField(read_only=True, source="residency_id")


class DatasetInput(serializers.Serializer[Any]):
    consortium = serializers.IntegerField(min_value=1)
    owner = serializers.IntegerField(min_value=1, help_text="The owning organisation: your own.")
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    sensitivity = serializers.ChoiceField(choices=Sensitivity.choices)
    contains_personal_data = serializers.BooleanField(required=False, default=False)
    residency = serializers.CharField(
        max_length=8, help_text="Jurisdiction code: a country or a bloc."
    )


class TermsInput(serializers.Serializer[Any]):
    terms = serializers.JSONField(
        allow_null=True,
        help_text="datasets (ids), purposes, actions_allowed, actions_prohibited, jurisdictions (codes), movement, "
        "retention_days, onward_transfer, onward_parties (organisation ids), derived_models_inherit; null removes them.",
    )


class ShareInput(serializers.Serializer[Any]):
    organisation = serializers.IntegerField(min_value=1)
    share = serializers.DecimalField(max_digits=5, decimal_places=2)
    revenue_share = serializers.DecimalField(max_digits=5, decimal_places=2)


class IPAssetInput(serializers.Serializer[Any]):
    consortium = serializers.IntegerField(min_value=1)
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=IPAssetKind.choices)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    governing_agreement = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    dataset = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    derived_from = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list
    )
    shares = ShareInput(many=True)


class SharesInput(serializers.Serializer[Any]):
    shares = ShareInput(many=True)


class OwnershipOut(serializers.Serializer[Any]):
    organisation = serializers.IntegerField(read_only=True, source="organisation_id")
    organisation_name = serializers.CharField(read_only=True, source="organisation.name")
    share = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)
    revenue_share = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)


class RestrictionOut(serializers.Serializer[Any]):
    source_asset = serializers.IntegerField(read_only=True)
    agreement = serializers.IntegerField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    clause = serializers.CharField(read_only=True)
    terms = serializers.JSONField(read_only=True)


class IPAssetOut(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    consortium = serializers.IntegerField(read_only=True, source="consortium_id")
    name = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=IPAssetKind.choices, read_only=True)
    description = serializers.CharField(read_only=True)
    governing_agreement = serializers.IntegerField(
        read_only=True, source="governing_agreement_id", allow_null=True
    )
    dataset = serializers.IntegerField(read_only=True, source="dataset_id", allow_null=True)
    derived_from = serializers.ListField(
        child=serializers.IntegerField(), read_only=True, source="derived_from_ids"
    )
    ownerships = OwnershipOut(many=True, read_only=True)


class IPAssetDetail(IPAssetOut):
    inherited_restrictions = RestrictionOut(many=True, read_only=True)


class SignatureOut(serializers.Serializer[Any]):
    party = serializers.IntegerField(read_only=True, source="party_id")
    signatory = serializers.CharField(read_only=True, source="signatory_display")
    organisation = serializers.CharField(read_only=True, source="organisation_display")
    decision = serializers.CharField(read_only=True)
    decided_at = serializers.DateTimeField(read_only=True)
    reason = serializers.CharField(read_only=True)


class SignedDocumentOut(serializers.Serializer[Any]):
    state = serializers.CharField(read_only=True)
    sha256 = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True)
    sealed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    error = serializers.CharField(read_only=True)


class SigningOut(serializers.Serializer[Any]):
    signatures = SignatureOut(many=True, read_only=True)
    waiting_for = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    document = SignedDocumentOut(read_only=True, allow_null=True)


class VersionWithSigning(VersionDetail):
    signing = SigningOut(read_only=True)


class VerifyInput(serializers.Serializer[Any]):
    document = serializers.FileField()


class VerifySignatureOut(serializers.Serializer[Any]):
    field = serializers.CharField(source="field_name")
    kind = serializers.CharField()
    signer = serializers.CharField(source="signer_common_name")
    organisation = serializers.CharField(source="signer_organisation")
    signing_time = serializers.DateTimeField(allow_null=True)
    signing_time_attested = serializers.BooleanField()
    intact = serializers.BooleanField()
    trusted = serializers.BooleanField()
    modified_after_signing = serializers.BooleanField()
    bottom_line = serializers.BooleanField()
    problem = serializers.CharField()


class IdentifiedOut(serializers.Serializer[Any]):
    agreement_id = serializers.IntegerField()
    agreement_title = serializers.CharField()
    version_id = serializers.IntegerField()
    version_number = serializers.IntegerField()
    content_hash = serializers.CharField()
    matches_sealed_file = serializers.BooleanField()


class VerifyOut(serializers.Serializer[Any]):
    valid = serializers.BooleanField()
    summary = serializers.CharField()
    sha256 = serializers.CharField()
    signatures = VerifySignatureOut(many=True)
    document = IdentifiedOut(allow_null=True)


class ExportInput(serializers.Serializer[Any]):
    consortium = serializers.IntegerField(min_value=1)


class ExportOut(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    consortium = serializers.IntegerField(read_only=True, source="consortium_id")
    status = serializers.CharField(read_only=True)
    documents_total = serializers.IntegerField(read_only=True)
    documents_written = serializers.IntegerField(read_only=True)
    sha256 = serializers.CharField(read_only=True)
    error = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)
