"""API shapes of shared compute: ``Compute*Row`` for lists (``.values()`` rows),
``Compute*Out``/``*Detail`` for single objects and computed figures, ``Compute*Input`` for
request bodies.

Input serializers check shape only; the services decide what is allowed and say why not.
Names start with ``Compute`` because drf-spectacular names schema components after them and
they must not collide with the other apps'. Fields whose values are a status or a kind are
plain strings with the values in their help text: another enum called "status" or "kind"
would collide with the other apps' ones in the schema.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alliance.api.serializers import InstantField, RowSerializer
from compute.allocations import Decision
from compute.models import (
    AllocationRequest,
    Contribution,
    Exposure,
    ExtraterritorialLaw,
    GPUType,
    Reservation,
    Scheme,
    Site,
)


def _one_of(values: list[str]) -> str:
    return "One of: " + ", ".join(values) + "."


# The directory: providers, their exposures and certifications, their sites.


class ComputeProviderRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    legal_name = serializers.CharField(read_only=True)
    head_office_jurisdiction = serializers.CharField(
        read_only=True, source="head_office_jurisdiction_id"
    )
    ultimate_parent_jurisdiction = serializers.CharField(
        read_only=True, source="ultimate_parent_jurisdiction_id"
    )
    created_at = serializers.DateTimeField(read_only=True)


class ComputeExposureOut(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    law = serializers.CharField(read_only=True, help_text=_one_of(ExtraterritorialLaw.values))
    basis = serializers.CharField(read_only=True, help_text=_one_of(Exposure.Basis.values))
    notes = serializers.CharField(read_only=True)
    assessed_on = serializers.DateField(read_only=True)


class ComputeCertificationOut(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    site = serializers.IntegerField(read_only=True, source="site_id", allow_null=True)
    scheme = serializers.CharField(read_only=True, help_text=_one_of(Scheme.values))
    level = serializers.CharField(read_only=True)
    valid_from = serializers.DateField(read_only=True)
    valid_until = serializers.DateField(read_only=True)
    evidence = serializers.CharField(read_only=True)


class ComputeSiteBrief(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    jurisdiction = serializers.CharField(read_only=True, source="jurisdiction_id")
    air_gapped = serializers.BooleanField(read_only=True)


class ComputeProviderDetail(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    legal_name = serializers.CharField(read_only=True)
    head_office_jurisdiction = serializers.CharField(
        read_only=True, source="head_office_jurisdiction_id"
    )
    ultimate_parent_jurisdiction = serializers.CharField(
        read_only=True, source="ultimate_parent_jurisdiction_id"
    )
    registered_by = serializers.CharField(read_only=True, source="registered_by.username")
    created_at = serializers.DateTimeField(read_only=True)
    exposures = ComputeExposureOut(many=True, read_only=True, source="exposures.all")
    certifications = ComputeCertificationOut(many=True, read_only=True, source="certifications.all")
    sites = ComputeSiteBrief(many=True, read_only=True, source="sites.all")


class ComputeProviderInput(serializers.Serializer[Any]):
    legal_name = serializers.CharField(max_length=200)
    head_office_jurisdiction = serializers.CharField(
        max_length=8, help_text="Jurisdiction code of the head office, e.g. FR."
    )
    ultimate_parent_jurisdiction = serializers.CharField(
        max_length=8, help_text="Where the ultimate parent company is incorporated, e.g. US."
    )


class ComputeExposureInput(serializers.Serializer[Any]):
    law = serializers.ChoiceField(choices=ExtraterritorialLaw.choices)
    basis = serializers.ChoiceField(choices=Exposure.Basis.choices)
    assessed_on = serializers.DateField()
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class ComputeCertificationInput(serializers.Serializer[Any]):
    scheme = serializers.ChoiceField(choices=Scheme.choices)
    level = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()
    evidence = serializers.CharField(max_length=300, allow_blank=True)
    site = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="A site of the provider, when the certificate covers that site only.",
    )


class ComputeSiteRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    provider = serializers.IntegerField(read_only=True, source="provider_id")
    provider_name = serializers.CharField(read_only=True, source="provider.legal_name")
    name = serializers.CharField(read_only=True)
    jurisdiction = serializers.CharField(read_only=True, source="jurisdiction_id")
    air_gapped = serializers.BooleanField(read_only=True)
    federation_name = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class ComputeSiteDetail(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    provider = serializers.IntegerField(read_only=True, source="provider_id")
    provider_name = serializers.CharField(read_only=True, source="provider.legal_name")
    name = serializers.CharField(read_only=True)
    jurisdiction = serializers.CharField(read_only=True, source="jurisdiction_id")
    administered_from = serializers.SerializerMethodField(
        help_text="Jurisdiction codes from which the site can be administered."
    )
    air_gapped = serializers.BooleanField(read_only=True)
    federation_name = serializers.CharField(
        read_only=True,
        help_text="Participant name in federated-learning frameworks; blank: a slug of the name.",
    )
    federation_public_key = serializers.CharField(
        read_only=True, help_text="The EC public key of the site's Flower node, if any."
    )
    created_at = serializers.DateTimeField(read_only=True)
    certifications = ComputeCertificationOut(many=True, read_only=True, source="certifications.all")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_administered_from(self, site: Site) -> list[str]:
        return sorted(jurisdiction.pk for jurisdiction in site.administered_from.all())


class ComputeSiteInput(serializers.Serializer[Any]):
    provider = serializers.IntegerField(min_value=1)
    name = serializers.CharField(max_length=200)
    jurisdiction = serializers.CharField(
        max_length=8, help_text="The country where data and compute physically are."
    )
    administered_from = serializers.ListField(
        child=serializers.CharField(max_length=8),
        help_text="Every jurisdiction code from which people can administer the site.",
    )
    air_gapped = serializers.BooleanField(required=False, default=False)
    federation_name = serializers.CharField(
        max_length=50,
        required=False,
        allow_blank=True,
        default="",
        help_text="Participant (collaborator) name in federated-learning frameworks; "
        "blank: a slug of the site's name.",
    )
    federation_public_key = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="The EC public key of the site's Flower node: OpenSSH (\"ecdsa-sha2-nistp384 "
        '...") or PEM ("-----BEGIN PUBLIC KEY-----") text.',
    )


# Approvals.


class ComputeApprovalRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    consortium = serializers.IntegerField(read_only=True, source="consortium_id")
    provider = serializers.IntegerField(read_only=True, source="provider_id", allow_null=True)
    site = serializers.IntegerField(read_only=True, source="site_id", allow_null=True)
    valid_from = serializers.DateField(read_only=True)
    valid_until = serializers.DateField(read_only=True, allow_null=True)
    conditions = serializers.CharField(read_only=True)
    approved_by = serializers.CharField(
        read_only=True, source="approved_by.username", allow_null=True
    )
    motion = serializers.IntegerField(read_only=True, source="motion_id", allow_null=True)
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)


class ComputeApprovalInput(serializers.Serializer[Any]):
    consortium = serializers.IntegerField(min_value=1)
    provider = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, default=None, help_text="Approve a provider"
    )
    site = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, default=None, help_text="or one site."
    )
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)
    conditions = serializers.CharField(required=False, allow_blank=True, default="")


class ComputeReasonInput(serializers.Serializer[Any]):
    # Blank is let through: the service checks the caller's right first, then says a reason
    # is needed, so a reader is told 403 whatever they sent.
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


# Pools.

SETTINGS_HELP = {
    "board_reserve": "Share of capacity the capacity board keeps for urgent work (0 to 0.5).",
    "gpu_hour_value": "What one contributed GPU-hour counts for, in the pool's currency.",
    "half_life_days": "Usage counts half as much after this many days.",
    "vote_above_gpu_hours": "Requests larger than this go to a steering-committee vote.",
    "overuse_multiple": "Alert when a member's usage exceeds its share by this multiple.",
    "starvation_fraction": "Alert when a waiting member uses less than this part of its share.",
}


class ComputePoolRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    consortium = serializers.IntegerField(read_only=True, source="consortium_id")
    name = serializers.CharField(read_only=True)
    gpu_type = serializers.CharField(read_only=True, help_text=_one_of(GPUType.values))
    currency = serializers.CharField(read_only=True)
    board_reserve = serializers.DecimalField(max_digits=5, decimal_places=4, read_only=True)
    gpu_hour_value = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    half_life_days = serializers.IntegerField(read_only=True)
    vote_above_gpu_hours = serializers.DecimalField(max_digits=12, decimal_places=1, read_only=True)
    overuse_multiple = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)
    starvation_fraction = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class ComputePoolSiteOut(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    provider = serializers.IntegerField(read_only=True)
    provider_name = serializers.CharField(read_only=True)
    jurisdiction = serializers.CharField(read_only=True)
    gpus = serializers.IntegerField(read_only=True, help_text="Capacity in this pool now.")


class ComputeShareOut(serializers.Serializer[Any]):
    organisation = serializers.IntegerField(read_only=True)
    organisation_name = serializers.CharField(read_only=True)
    share = serializers.DecimalField(max_digits=8, decimal_places=6, read_only=True)


class ComputePoolDetail(ComputePoolRow):
    sites = ComputePoolSiteOut(many=True, read_only=True)
    gpus = serializers.IntegerField(read_only=True, help_text="Capacity of all sites now.")
    shares = ComputeShareOut(
        many=True, read_only=True, help_text="Today's shares, from the contribution ledger."
    )


class ComputePoolSiteInput(serializers.Serializer[Any]):
    site = serializers.IntegerField(min_value=1)
    gpus = serializers.IntegerField(
        required=False, default=0, help_text="Capacity at this site from now."
    )


class ComputePoolSettingsInput(serializers.Serializer[Any]):
    board_reserve = serializers.DecimalField(
        max_digits=5, decimal_places=4, required=False, help_text=SETTINGS_HELP["board_reserve"]
    )
    gpu_hour_value = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, help_text=SETTINGS_HELP["gpu_hour_value"]
    )
    half_life_days = serializers.IntegerField(
        required=False, help_text=SETTINGS_HELP["half_life_days"]
    )
    vote_above_gpu_hours = serializers.DecimalField(
        max_digits=12,
        decimal_places=1,
        required=False,
        help_text=SETTINGS_HELP["vote_above_gpu_hours"],
    )
    overuse_multiple = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, help_text=SETTINGS_HELP["overuse_multiple"]
    )
    starvation_fraction = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        required=False,
        help_text=SETTINGS_HELP["starvation_fraction"],
    )


class ComputePoolCreateInput(ComputePoolSettingsInput):
    consortium = serializers.IntegerField(min_value=1)
    name = serializers.CharField(max_length=200)
    gpu_type = serializers.ChoiceField(choices=GPUType.choices)
    sites = ComputePoolSiteInput(
        many=True, help_text="Approved sites, each with its capacity from now."
    )


class ComputePoolAddSiteInput(serializers.Serializer[Any]):
    site = serializers.IntegerField(min_value=1)
    gpus = serializers.IntegerField(required=False, default=0)
    effective_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Default: now."
    )


class ComputeCapacityInput(serializers.Serializer[Any]):
    site = serializers.IntegerField(min_value=1)
    effective_at = InstantField()
    gpus = serializers.IntegerField(help_text="The site's GPUs in the pool from effective_at.")
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ComputeCapacityChangeOut(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    pool = serializers.IntegerField(read_only=True, source="pool_id")
    site = serializers.IntegerField(read_only=True, source="site_id")
    effective_at = serializers.DateTimeField(read_only=True)
    gpus = serializers.IntegerField(read_only=True)
    reason = serializers.CharField(read_only=True)
    recorded_by = serializers.CharField(read_only=True, source="recorded_by.username")
    recorded_at = serializers.DateTimeField(read_only=True)


class ComputeStepOut(serializers.Serializer[Any]):
    at = serializers.DateTimeField(read_only=True, help_text="From this instant")
    gpus = serializers.IntegerField(read_only=True, help_text="until the next step.")


class ComputeSiteCapacityOut(serializers.Serializer[Any]):
    site = serializers.IntegerField(read_only=True)
    site_name = serializers.CharField(read_only=True)
    capacity = ComputeStepOut(many=True, read_only=True)
    reserved = ComputeStepOut(many=True, read_only=True)


class ComputeCapacityWindowOut(serializers.Serializer[Any]):
    pool = serializers.IntegerField(read_only=True)
    capacity_gpu_hours = serializers.DecimalField(max_digits=16, decimal_places=1, read_only=True)
    sites = ComputeSiteCapacityOut(many=True, read_only=True)

    def get_fields(self) -> dict[str, Any]:
        # "from" is a Python keyword: add the window's bounds by name.
        fields = super().get_fields()
        fields["from"] = serializers.DateTimeField(read_only=True)
        fields["to"] = serializers.DateTimeField(read_only=True)
        return fields


# The contribution ledger.


class ComputeContributionRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    pool = serializers.IntegerField(read_only=True, source="pool_id")
    organisation = serializers.IntegerField(read_only=True, source="organisation_id")
    organisation_name = serializers.CharField(read_only=True, source="organisation.name")
    kind = serializers.CharField(read_only=True, help_text=_one_of(Contribution.Kind.values))
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    value = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    site = serializers.IntegerField(read_only=True, source="site_id", allow_null=True)
    contributed_on = serializers.DateField(read_only=True)
    reference = serializers.CharField(read_only=True)
    corrects = serializers.IntegerField(read_only=True, source="corrects_id", allow_null=True)
    recorded_by = serializers.CharField(read_only=True, source="recorded_by.username")
    recorded_at = serializers.DateTimeField(read_only=True)


class ComputeContributionInput(serializers.Serializer[Any]):
    organisation = serializers.IntegerField(min_value=1)
    kind = serializers.CharField(max_length=16, help_text=_one_of(Contribution.Kind.values))
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text="Money, or GPU-hours in kind; negative only to correct an entry (corrects).",
    )
    contributed_on = serializers.DateField()
    site = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="Where in-kind GPU-hours are provided.",
    )
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    corrects = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="The entry a negative amount corrects.",
    )


# Fair share and statements.


class ComputeMemberFairShareOut(serializers.Serializer[Any]):
    organisation = serializers.IntegerField(read_only=True, source="organisation_id")
    organisation_name = serializers.CharField(read_only=True)
    contribution_share = serializers.FloatField(
        read_only=True, help_text="S before loans, from the contribution ledger."
    )
    share = serializers.FloatField(read_only=True, help_text="S, after the loans running.")
    decayed_gpu_hours = serializers.FloatField(read_only=True, help_text="U_H.")
    usage_fraction = serializers.FloatField(read_only=True, help_text="U = U_H / all U_H.")
    factor = serializers.FloatField(read_only=True, help_text="F = 2^(-U/S).")
    level = serializers.FloatField(
        read_only=True, allow_null=True, help_text="LF = S/U; null means infinite (no usage)."
    )
    rank = serializers.IntegerField(read_only=True, help_text="1 = most under-served.")
    used_gpu_hours_30d = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)


class ComputePoolFairShareOut(serializers.Serializer[Any]):
    pool = serializers.IntegerField(read_only=True)
    on = serializers.DateField(read_only=True)
    members = ComputeMemberFairShareOut(many=True, read_only=True)


class ComputeConsortiumFairShareOut(serializers.Serializer[Any]):
    consortium = serializers.IntegerField(read_only=True)
    on = serializers.DateField(read_only=True)
    members = ComputeMemberFairShareOut(many=True, read_only=True)


def _gpu_hours_field() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)


class ComputeStatementTotalsOut(serializers.Serializer[Any]):
    capacity_gpu_hours = _gpu_hours_field()
    entitlement_gpu_hours = _gpu_hours_field()
    reserved_gpu_hours = _gpu_hours_field()
    used_gpu_hours = _gpu_hours_field()
    lent_gpu_hours = _gpu_hours_field()
    borrowed_gpu_hours = _gpu_hours_field()
    balance_gpu_hours = _gpu_hours_field()


class ComputeStatementRowOut(ComputeStatementTotalsOut):
    pool = serializers.IntegerField(read_only=True, source="pool_id")
    pool_name = serializers.CharField(read_only=True)
    gpu_type = serializers.CharField(read_only=True)
    consortium_name = serializers.CharField(read_only=True)
    share = serializers.DecimalField(max_digits=8, decimal_places=6, read_only=True)


class ComputeStatementOut(serializers.Serializer[Any]):
    organisation = serializers.IntegerField(read_only=True, source="organisation_id")
    organisation_name = serializers.CharField(read_only=True)
    period_start = serializers.DateField(read_only=True)
    period_end = serializers.DateField(read_only=True, help_text="The first day after the period.")
    period = serializers.CharField(
        read_only=True, source="label", help_text="The period's name, e.g. Q1 2026."
    )
    rows = ComputeStatementRowOut(many=True, read_only=True)
    totals = ComputeStatementTotalsOut(read_only=True)


# Usage.


class ComputeUsageRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    pool = serializers.IntegerField(read_only=True, source="pool_id")
    organisation = serializers.IntegerField(read_only=True, source="organisation_id")
    organisation_name = serializers.CharField(read_only=True, source="organisation.name")
    site = serializers.IntegerField(read_only=True, source="site_id")
    site_name = serializers.CharField(read_only=True, source="site.name")
    day = serializers.DateField(read_only=True)
    gpu_hours = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    reported_by = serializers.CharField(read_only=True, source="reported_by.username")
    reported_at = serializers.DateTimeField(read_only=True)


class ComputeUsagePageOut(serializers.Serializer[Any]):
    next = serializers.URLField(read_only=True, allow_null=True)
    previous = serializers.URLField(read_only=True, allow_null=True)
    total_gpu_hours = serializers.DecimalField(
        max_digits=18,
        decimal_places=2,
        read_only=True,
        help_text="GPU-hours of every row that matches the filters, all pages together.",
    )
    results = ComputeUsageRow(many=True, read_only=True)


class ComputeUsageInput(serializers.Serializer[Any]):
    rows = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text='Each {"organisation": id or exact name, "site": id or exact name, '
        '"day": "YYYY-MM-DD", "gpu_hours": "12.5"}. A row already reported for that '
        "organisation, site and day is replaced, never added to.",
    )
    csv = serializers.CharField(
        required=False,
        help_text="Instead of rows: CSV text with the header organisation,site,day,gpu_hours.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("rows" in attrs) == ("csv" in attrs):
            raise serializers.ValidationError(
                {"rows": "Send the report as rows or as csv, one of the two."}
            )
        return attrs


class ComputeUsageResultOut(serializers.Serializer[Any]):
    rows = serializers.IntegerField(read_only=True)
    created = serializers.IntegerField(read_only=True)
    replaced = serializers.IntegerField(read_only=True)
    total_gpu_hours = serializers.DecimalField(
        max_digits=18, decimal_places=2, read_only=True, help_text="Of this batch."
    )


# Allocation requests and reservations.

REQUEST_STATUS_HELP = _one_of(AllocationRequest.Status.values)


class ComputeRequestRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    consortium = serializers.IntegerField(read_only=True, source="consortium_id")
    number = serializers.IntegerField(read_only=True)
    pool = serializers.IntegerField(read_only=True, source="pool_id")
    organisation = serializers.IntegerField(read_only=True, source="organisation_id")
    organisation_name = serializers.CharField(read_only=True, source="organisation.name")
    requested_by = serializers.CharField(read_only=True, source="requested_by.username")
    gpus = serializers.IntegerField(read_only=True)
    starts_at = serializers.DateTimeField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True)
    purpose = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True, help_text=REQUEST_STATUS_HELP)
    granted_gpus = serializers.IntegerField(read_only=True, allow_null=True)
    granted_starts_at = serializers.DateTimeField(read_only=True, allow_null=True)
    granted_ends_at = serializers.DateTimeField(read_only=True, allow_null=True)
    from_reserve = serializers.BooleanField(read_only=True)
    decision_reason = serializers.CharField(read_only=True)
    decided_by = serializers.CharField(
        read_only=True, source="decided_by.username", allow_null=True
    )
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    motion = serializers.IntegerField(read_only=True, source="motion_id", allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class ComputeReservationRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    pool = serializers.IntegerField(read_only=True, source="pool_id")
    site = serializers.IntegerField(read_only=True, source="site_id")
    site_name = serializers.CharField(read_only=True, source="site.name")
    request = serializers.IntegerField(read_only=True, source="request_id")
    request_number = serializers.IntegerField(read_only=True, source="request.number")
    organisation = serializers.IntegerField(read_only=True, source="organisation_id")
    organisation_name = serializers.CharField(read_only=True, source="organisation.name")
    gpus = serializers.IntegerField(read_only=True)
    starts_at = serializers.DateTimeField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True)
    status = serializers.CharField(read_only=True, help_text=_one_of(Reservation.Status.values))
    created_at = serializers.DateTimeField(read_only=True)


class ComputeRequestSiteOut(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class ComputeRequestDetail(ComputeRequestRow):
    gpu_hours = serializers.DecimalField(max_digits=16, decimal_places=1, read_only=True)
    sites = ComputeRequestSiteOut(many=True, read_only=True)
    datasets = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    reservations = ComputeReservationRow(many=True, read_only=True)


class ComputeRequestInput(serializers.Serializer[Any]):
    gpus = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="GPUs over the window"
    )
    gpu_hours = serializers.DecimalField(
        max_digits=14,
        decimal_places=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="or GPU-hours within it (rounded up to whole GPUs); not both.",
    )
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    purpose = serializers.CharField(allow_blank=True)
    sites = serializers.ListField(
        child=serializers.IntegerField(min_value=1), help_text="Sites of the pool, in order."
    )
    datasets = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list
    )


class ComputeRequestCreateInput(ComputeRequestInput):
    pool = serializers.IntegerField(min_value=1)


class ComputeDecisionInput(serializers.Serializer[Any]):
    decision = serializers.ChoiceField(choices=list(Decision.ALL))
    reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required to reject or to request changes.",
    )
    gpus = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Grant fewer GPUs"
    )
    starts_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="or a shorter window."
    )
    ends_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    from_reserve = serializers.BooleanField(
        required=False, default=False, help_text="Urgent work: may use the board's reserve."
    )
    vote_closes_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When a grant goes to the steering committee's vote (default: a week).",
    )


# Loans.


class ComputeLoanRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    pool = serializers.IntegerField(read_only=True, source="pool_id")
    lender = serializers.IntegerField(read_only=True, source="lender_id")
    lender_name = serializers.CharField(read_only=True, source="lender.name")
    borrower = serializers.IntegerField(read_only=True, source="borrower_id")
    borrower_name = serializers.CharField(read_only=True, source="borrower.name")
    gpu_hours = serializers.DecimalField(max_digits=12, decimal_places=1, read_only=True)
    starts_on = serializers.DateField(read_only=True)
    ends_on = serializers.DateField(
        read_only=True, help_text="The first day the loan no longer runs."
    )
    note = serializers.CharField(read_only=True)
    created_by = serializers.CharField(read_only=True, source="created_by.username")
    created_at = serializers.DateTimeField(read_only=True)
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ComputeLoanInput(serializers.Serializer[Any]):
    pool = serializers.IntegerField(min_value=1)
    borrower = serializers.IntegerField(min_value=1, help_text="The borrowing member.")
    gpu_hours = serializers.DecimalField(max_digits=12, decimal_places=1)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(help_text="The first day the loan no longer runs.")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
