"""One filter for the agreements list, in the browser and the API."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from agreements.models import Agreement, AgreementKind
from alliance.api.filters import IdFilter


class AgreementFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="title", lookup_expr="icontains", label="Title contains"
    )
    consortium = IdFilter(field_name="consortium_id")
    status = django_filters.ChoiceFilter(choices=Agreement.Status.choices)
    kind = django_filters.ChoiceFilter(choices=AgreementKind.choices)
    party = IdFilter(method="filter_party", label="Party organisation id")
    expiring = django_filters.BooleanFilter(method="filter_expiring", label="Expiring soon")

    class Meta:
        model = Agreement
        fields = ["q", "consortium", "status", "kind", "party", "expiring"]

    def filter_party(self, queryset: QuerySet[Any], name: str, value: int) -> QuerySet[Any]:
        return queryset.filter(
            pk__in=Agreement.objects.filter(parties__organisation_id=value).values("pk")
        )

    def filter_expiring(
        self, queryset: QuerySet[Any], name: str, value: bool | None
    ) -> QuerySet[Any]:
        if not value:
            return queryset
        horizon = timezone.localdate() + datetime.timedelta(
            days=settings.AGREEMENT_EXPIRY_WARNING_DAYS
        )
        return queryset.filter(
            status=Agreement.Status.EXECUTED, expires_on__isnull=False, expires_on__lte=horizon
        )
