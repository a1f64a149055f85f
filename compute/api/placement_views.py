"""Where copies of a consortium's data sets are stored, recorded by people and pipelines.

``POST /compliance/placements/`` records a copy of a data set at a site from a day on;
``POST .../<id>/end/`` records the first day it is gone. Each queues a sweep of the
consortium, which holds every live placement to the data set's residency and terms.

Members whose role requests capacity or reports usage record and end placements; every
reader of a consortium reads them; outside the consortium a placement answers 404, and a
read-only role gets 403 on any write. A data set the caller cannot see is bad input (400 on
the field), like one that does not exist.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Model, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from alliance.api.filters import IdFilter
from alliance.api.views import RowViewSet
from alliance.auth import acting_user
from compute import compliance_selectors as selectors
from compute import permissions
from compute.api import placement_serializers as api
from compute.api import queries
from compute.compliance import placements
from compute.compliance.models import Placement
from consortia import permissions as consortium_permissions


class PlacementFilter(django_filters.FilterSet):  # type: ignore[misc]  # untyped django-filter
    consortium = IdFilter(field_name="consortium_id")
    dataset = IdFilter(field_name="dataset_id")
    site = IdFilter(field_name="site_id")

    class Meta:
        model = Placement
        fields = ["consortium", "dataset", "site"]


@extend_schema_view(
    list=extend_schema(summary="Placements of data sets in the consortia the caller sees."),
    retrieve=extend_schema(summary="One placement."),
    create=extend_schema(
        summary="Record a copy of a data set stored at a site.",
        request=api.CompliancePlacementInput,
        responses={201: api.CompliancePlacementRow},
    ),
)
class CompliancePlacementViewSet(RowViewSet):
    """Copies of the consortium's data sets and the sites they are stored at."""

    scope_area = "compliance"

    row_serializer = api.CompliancePlacementRow
    filterset_class = PlacementFilter
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return permissions.visible_placements(self.request.user)

    def get_object(self) -> Model:
        return permissions.get_placement_for(self.request.user, self.kwargs["pk"])

    def create(self, request: Request) -> Response:
        fields = self.validated(api.CompliancePlacementInput)
        user = acting_user(request)
        consortium = consortium_permissions.get_consortium_for(user, fields["consortium"])
        # The right before the body's ids are looked up: a reader gets 403 whatever it sent.
        selectors.require_check_jobs(user, consortium.pk)
        (dataset,) = queries.datasets_by_ids(user, [fields["dataset"]], field="dataset")
        placement = placements.placement_record(
            actor=user,
            consortium=consortium,
            dataset=dataset,
            site=fields["site"],
            since=fields["since"],
            until=fields["until"],
            note=fields["note"],
        )
        return self.row_response(placement, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record the first day the copy is no longer there.",
        request=api.CompliancePlacementEndInput,
        responses={200: api.CompliancePlacementRow},
    )
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str) -> Response:
        user = acting_user(request)
        placement = permissions.get_placement_for(user, pk)
        selectors.require_check_jobs(user, placement.consortium_id)
        fields = self.validated(api.CompliancePlacementEndInput)
        ended = placements.placement_end(actor=user, placement=placement, until=fields["until"])
        return self.row_response(ended)
