"""Findings of the compliance sweeps, for partner portals and ticketing integrations.

``GET /compliance/findings/`` lists the findings of the consortia the caller sees, newest
first, filtered by consortium, status, severity, code, job or owner; ``POST .../<id>/
acknowledge/`` (with an optional note) and ``POST .../<id>/resolve/`` (with the note that
says how) move one on, each audited, as the compliance page does.

Every reader of a consortium reads its findings; technical and legal people handle them (a
read-only role gets 403 whatever it sent); outside the consortium a finding answers 404. A
finding already resolved, or already in the asked state, is a conflict (409
``finding_handled``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from alliance.api.views import RowViewSet
from alliance.auth import acting_user
from compute import compliance_selectors as selectors
from compute import permissions
from compute.api import finding_serializers as api
from compute.compliance import sweeps
from compute.compliance.models import Finding


@extend_schema_view(
    list=extend_schema(summary="Findings of the sweeps in the consortia the caller sees."),
    retrieve=extend_schema(summary="One finding."),
)
class ComplianceFindingViewSet(RowViewSet):
    """Rules that live jobs, granted allocations and stored copies of data sets break."""

    scope_area = "compliance"

    row_serializer = api.ComplianceFindingRow
    filterset_class = selectors.FindingFilter
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return permissions.visible_findings(self.request.user)

    def get_object(self) -> Model:
        return permissions.get_finding_for(self.request.user, self.kwargs["pk"])

    def _handled(
        self, request: Request, pk: str, shape: type[Any], handle: Callable[..., Finding]
    ) -> Response:
        """The right before the body: a read-only role gets 403 whatever it sent."""
        user = acting_user(request)
        finding = permissions.get_finding_for(user, pk)
        sweeps.require_may_handle(user, finding)
        fields = self.validated(shape)
        return self.row_response(handle(actor=user, finding=finding, note=fields["note"]))

    @extend_schema(
        summary="Acknowledge the finding: someone is on it.",
        request=api.ComplianceFindingAcknowledgeInput,
        responses={200: api.ComplianceFindingRow},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str) -> Response:
        return self._handled(
            request, pk, api.ComplianceFindingAcknowledgeInput, sweeps.finding_acknowledge
        )

    @extend_schema(
        summary="Resolve the finding, saying how.",
        request=api.ComplianceFindingResolveInput,
        responses={200: api.ComplianceFindingRow},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        return self._handled(request, pk, api.ComplianceFindingResolveInput, sweeps.finding_resolve)
