"""API shapes for the consortium domain: ``*Row`` serializers for output, ``*Input`` for input.

Input serializers check shape only; the services decide what is allowed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from alliance.api.serializers import RowSerializer
from consortia.models import (
    Consortium,
    Jurisdiction,
    Membership,
    Organisation,
    PartnershipModel,
    Role,
)


class JurisdictionRow(RowSerializer):
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=Jurisdiction.Kind.choices, read_only=True)


class JurisdictionLinkRow(RowSerializer):
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    joined_on = serializers.DateField(read_only=True)
    left_on = serializers.DateField(read_only=True, allow_null=True)


class JurisdictionDetail(serializers.Serializer[dict[str, Any]]):
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=Jurisdiction.Kind.choices, read_only=True)
    members = JurisdictionLinkRow(
        many=True, read_only=True, help_text="For a bloc: its members, past and present."
    )
    blocs = JurisdictionLinkRow(
        many=True, read_only=True, help_text="For a country: the blocs it is or was in."
    )


class OrganisationRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=Organisation.Kind.choices, read_only=True)
    home_jurisdiction = serializers.CharField(read_only=True, source="home_jurisdiction_id")
    registration_id = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class OrganisationInput(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Organisation.Kind.choices)
    home_jurisdiction = serializers.PrimaryKeyRelatedField(
        queryset=Jurisdiction.objects.countries(), help_text="ISO 3166-1 alpha-2 code."
    )
    registration_id = serializers.CharField(max_length=64)


class ConsortiumRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    partnership_model = serializers.CharField(read_only=True, source="partnership_model_id")
    partnership_model_name = serializers.CharField(read_only=True, source="partnership_model.name")
    home_jurisdiction = serializers.CharField(read_only=True, source="home_jurisdiction_id")
    status = serializers.ChoiceField(choices=Consortium.Status.choices, read_only=True)
    charter = serializers.CharField(read_only=True)
    member_count = serializers.IntegerField(
        read_only=True, help_text="Active member organisations."
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class ConsortiumCreateInput(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField(max_length=200)
    partnership_model = serializers.PrimaryKeyRelatedField(queryset=PartnershipModel.objects.all())
    home_jurisdiction = serializers.PrimaryKeyRelatedField(queryset=Jurisdiction.objects.all())
    charter = serializers.CharField(required=False, allow_blank=True, default="")


class ConsortiumUpdateInput(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField(max_length=200, required=False)
    charter = serializers.CharField(required=False, allow_blank=True)
    partnership_model = serializers.PrimaryKeyRelatedField(
        queryset=PartnershipModel.objects.all(), required=False
    )
    home_jurisdiction = serializers.PrimaryKeyRelatedField(
        queryset=Jurisdiction.objects.all(), required=False
    )
    status = serializers.ChoiceField(
        choices=Consortium.Status.choices,
        required=False,
        help_text="Moves the consortium along its lifecycle.",
    )


class ChairHandOverInput(serializers.Serializer[dict[str, Any]]):
    user = serializers.CharField(max_length=150, help_text="Username of the new chair.")


class MembershipRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    consortium = serializers.IntegerField(read_only=True, source="consortium_id")
    consortium_name = serializers.CharField(read_only=True, source="consortium.name")
    organisation = serializers.IntegerField(read_only=True, source="organisation_id")
    organisation_name = serializers.CharField(read_only=True, source="organisation.name")
    status = serializers.ChoiceField(choices=Membership.Status.choices, read_only=True)
    voting_weight = serializers.DecimalField(max_digits=9, decimal_places=4, read_only=True)
    is_founding = serializers.BooleanField(read_only=True)
    invited_at = serializers.DateTimeField(read_only=True)
    joined_on = serializers.DateField(read_only=True, allow_null=True)
    left_on = serializers.DateField(read_only=True, allow_null=True)


class MembershipInviteInput(serializers.Serializer[dict[str, Any]]):
    consortium = serializers.IntegerField(min_value=1)
    organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all())
    voting_weight = serializers.DecimalField(
        max_digits=9, decimal_places=4, min_value=Decimal(0), required=False, default=Decimal(1)
    )


class MembershipUpdateInput(serializers.Serializer[dict[str, Any]]):
    voting_weight = serializers.DecimalField(max_digits=9, decimal_places=4, min_value=Decimal(0))


class MembershipAdmitInput(serializers.Serializer[dict[str, Any]]):
    joined_on = serializers.DateField(required=False, help_text="Defaults to today.")


class ReasonInput(serializers.Serializer[dict[str, Any]]):
    reason = serializers.CharField(max_length=1000)


class RoleAssignmentRow(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    consortium = serializers.IntegerField(read_only=True, source="consortium_id")
    consortium_name = serializers.CharField(read_only=True, source="consortium.name")
    user = serializers.CharField(read_only=True, source="user.username")
    organisation = serializers.IntegerField(read_only=True, source="user.organisation_id")
    organisation_name = serializers.CharField(read_only=True, source="user.organisation.name")
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)
    assigned_at = serializers.DateTimeField(read_only=True)


class RoleAssignmentInput(serializers.Serializer[dict[str, Any]]):
    consortium = serializers.IntegerField(min_value=1)
    user = serializers.CharField(max_length=150, help_text="Username.")
    role = serializers.ChoiceField(choices=Role.choices)


class HealthFindingOut(serializers.Serializer[Any]):
    code = serializers.CharField()
    severity = serializers.CharField()
    title = serializers.CharField()
    fix = serializers.CharField()
    url = serializers.CharField()


class HealthOut(serializers.Serializer[Any]):
    score = serializers.IntegerField()
    findings = HealthFindingOut(many=True)
