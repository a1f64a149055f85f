"""Filters of the compute lists, for the API and the pages alike (one FilterSet per list)."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from alliance.api.filters import IdFilter, InstantFilter
from compute.models import (
    AllocationRequest,
    Approval,
    Loan,
    Pool,
    Provider,
    Reservation,
    Site,
    UsageRecord,
)


class ProviderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="legal_name", lookup_expr="icontains", label="Legal name contains"
    )
    head_office_jurisdiction = django_filters.CharFilter(
        field_name="head_office_jurisdiction_id", label="Head office jurisdiction code"
    )

    class Meta:
        model = Provider
        fields = ["q", "head_office_jurisdiction"]


class SiteFilter(django_filters.FilterSet):
    provider = IdFilter(field_name="provider_id")
    jurisdiction = django_filters.CharFilter(
        method="filter_jurisdiction", label="Country code where the site is"
    )
    air_gapped = django_filters.BooleanFilter()

    class Meta:
        model = Site
        fields = ["provider", "jurisdiction", "air_gapped"]

    def filter_jurisdiction(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(jurisdiction_id=value.upper())


class ApprovalFilter(django_filters.FilterSet):
    consortium = IdFilter(field_name="consortium_id")
    provider = IdFilter(field_name="provider_id")
    site = IdFilter(field_name="site_id")
    in_force_on = django_filters.DateFilter(
        method="filter_in_force_on", label="Only approvals in force on this day"
    )

    class Meta:
        model = Approval
        fields = ["consortium", "provider", "site", "in_force_on"]

    def filter_in_force_on(
        self, queryset: QuerySet[Any], name: str, value: datetime.date
    ) -> QuerySet[Any]:
        return queryset.filter(revoked_at__isnull=True, valid_from__lte=value).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=value)
        )


class PoolFilter(django_filters.FilterSet):
    consortium = IdFilter(field_name="consortium_id")
    gpu_type = django_filters.CharFilter(field_name="gpu_type", label="GPU type, e.g. H100")
    site = IdFilter(field_name="sites", label="Pools at this site")

    class Meta:
        model = Pool
        fields = ["consortium", "gpu_type", "site"]


class AllocationRequestFilter(django_filters.FilterSet):
    consortium = IdFilter(field_name="consortium_id")
    pool = IdFilter(field_name="pool_id")
    organisation = IdFilter(field_name="organisation_id")
    status = django_filters.MultipleChoiceFilter(
        choices=AllocationRequest.Status.choices, label="Status (repeat for several)"
    )
    open = django_filters.BooleanFilter(method="filter_open", label="Still waiting for a decision")

    class Meta:
        model = AllocationRequest
        fields = ["consortium", "pool", "organisation", "status", "open"]

    def filter_open(self, queryset: QuerySet[Any], name: str, value: bool) -> QuerySet[Any]:
        condition = Q(status__in=AllocationRequest.OPEN)
        return queryset.filter(condition) if value else queryset.exclude(condition)


class ReservationFilter(django_filters.FilterSet):
    pool = IdFilter(field_name="pool_id")
    site = IdFilter(field_name="site_id")
    organisation = IdFilter(field_name="organisation_id")
    request = IdFilter(field_name="request_id")
    status = django_filters.ChoiceFilter(choices=Reservation.Status.choices)
    active_at = InstantFilter(
        method="filter_active_at", label="Active reservations holding GPUs at this instant"
    )

    class Meta:
        model = Reservation
        fields = ["pool", "site", "organisation", "request", "status", "active_at"]

    def filter_active_at(
        self, queryset: QuerySet[Any], name: str, value: datetime.datetime
    ) -> QuerySet[Any]:
        return queryset.filter(
            status=Reservation.Status.ACTIVE, starts_at__lte=value, ends_at__gt=value
        )


class UsageFilter(django_filters.FilterSet):
    organisation = IdFilter(field_name="organisation_id")
    site = IdFilter(field_name="site_id")
    day_from = django_filters.DateFilter(field_name="day", lookup_expr="gte", label="From day")
    day_to = django_filters.DateFilter(
        field_name="day", lookup_expr="lte", label="To day (included)"
    )

    class Meta:
        model = UsageRecord
        fields = ["organisation", "site", "day_from", "day_to"]


class LoanFilter(django_filters.FilterSet):
    pool = IdFilter(field_name="pool_id")
    lender = IdFilter(field_name="lender_id")
    borrower = IdFilter(field_name="borrower_id")
    running_on = django_filters.DateFilter(
        method="filter_running_on", label="Loans running on this day (not cancelled)"
    )

    class Meta:
        model = Loan
        fields = ["pool", "lender", "borrower", "running_on"]

    def filter_running_on(
        self, queryset: QuerySet[Any], name: str, value: datetime.date
    ) -> QuerySet[Any]:
        return queryset.filter(cancelled_at__isnull=True, starts_on__lte=value, ends_on__gt=value)
