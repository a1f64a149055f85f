"""Filters shared by the browser lists and the API lists (one FilterSet per list)."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from alliance.api.filters import IdFilter, InConsortiumFilter
from consortia.models import (
    Consortium,
    Jurisdiction,
    Membership,
    Motion,
    Organisation,
    PartnershipModel,
    Role,
    RoleAssignment,
)


class JurisdictionFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Jurisdiction.Kind.choices)
    member_of = django_filters.CharFilter(
        method="filter_member_of",
        label="Bloc code: countries that are members of it (today, or on 'on')",
    )
    on = django_filters.DateFilter(
        method="filter_noop", label="Date for member_of (default: today)"
    )

    class Meta:
        model = Jurisdiction
        fields = ["kind"]

    def filter_noop(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset

    def filter_member_of(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        on: datetime.date = self.form.cleaned_data.get("on") or timezone.localdate()
        return queryset.filter(
            pk__in=Jurisdiction.objects.members_of(value.upper(), on=on).values("pk")
        )


class OrganisationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")
    kind = django_filters.ChoiceFilter(choices=Organisation.Kind.choices)
    home_jurisdiction = django_filters.CharFilter(
        field_name="home_jurisdiction_id", label="Home country code"
    )

    class Meta:
        model = Organisation
        fields = ["q", "kind", "home_jurisdiction"]


class ConsortiumFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Name or charter contains")
    status = django_filters.ChoiceFilter(choices=Consortium.Status.choices)
    partnership_model = django_filters.ModelChoiceFilter(
        queryset=PartnershipModel.objects.all(), label="Model", empty_label="Any"
    )
    home_jurisdiction = django_filters.CharFilter(
        field_name="home_jurisdiction_id", label="Home jurisdiction code"
    )

    class Meta:
        model = Consortium
        fields = ["q", "status", "partnership_model", "home_jurisdiction"]

    def filter_q(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(Q(name__icontains=value) | Q(charter__icontains=value))


class MembershipFilter(django_filters.FilterSet):
    consortium = IdFilter(field_name="consortium_id")
    organisation = IdFilter(field_name="organisation_id")
    status = django_filters.ChoiceFilter(choices=Membership.Status.choices)

    class Meta:
        model = Membership
        fields = ["consortium", "organisation", "status"]


class RoleAssignmentFilter(django_filters.FilterSet):
    consortium = IdFilter(field_name="consortium_id")
    user = django_filters.CharFilter(field_name="user__username")
    role = django_filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = RoleAssignment
        fields = ["consortium", "user", "role"]


class MotionFilter(InConsortiumFilter):
    status = django_filters.ChoiceFilter(choices=Motion.Status.choices)
