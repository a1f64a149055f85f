"""REST endpoints of the consortium domain. They read through selectors and write through
services, exactly like the browser views."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from alliance.api.views import RowViewSet
from alliance.auth import acting_user
from consortia import permissions, selectors, services
from consortia.api import serializers as api
from consortia.filters import (
    ConsortiumFilter,
    JurisdictionFilter,
    MembershipFilter,
    OrganisationFilter,
    RoleAssignmentFilter,
)
from consortia.permissions import ConsortiumAction, OrganisationAction

CONFLICT = OpenApiResponse(description="Refused by the current state; the body says why.")


class JurisdictionViewSet(RowViewSet):
    """Countries (ISO 3166-1) and blocs, with dated bloc memberships. Read-only reference data."""

    scope_area = "consortia"

    row_serializer = api.JurisdictionRow
    filterset_class = JurisdictionFilter
    cursor_ordering = "code"
    lookup_value_regex = "[A-Za-z]{2,8}"

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.jurisdiction_list(actor=self.request.user)

    @extend_schema(responses=api.JurisdictionDetail)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        row = selectors.jurisdiction_detail(actor=acting_user(request), code=str(kwargs["pk"]))
        if row is None:
            raise Http404("No jurisdiction has this code.")
        return Response(api.JurisdictionDetail(row).data)


@extend_schema_view(
    create=extend_schema(request=api.OrganisationInput, responses={201: api.OrganisationRow}),
    partial_update=extend_schema(request=api.OrganisationInput, responses=api.OrganisationRow),
    destroy=extend_schema(responses={204: None, 409: CONFLICT}),
)
class OrganisationViewSet(RowViewSet):
    """The directory of legal entities. Operators register them; an organisation's
    administrators correct its record."""

    scope_area = "consortia"

    row_serializer = api.OrganisationRow
    filterset_class = OrganisationFilter
    cursor_ordering = "name"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.organisation_list(actor=self.request.user)

    def get_object(self) -> Model:
        return permissions.get_organisation_for(self.request.user, self.kwargs["pk"])

    def create(self, request: Request) -> Response:
        permissions.require(request.user, OrganisationAction.ADD, None)
        organisation = services.organisation_create(
            actor=acting_user(request), **self.validated(api.OrganisationInput)
        )
        return self.row_response(organisation, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        organisation = permissions.get_organisation_for(request.user, pk, OrganisationAction.CHANGE)
        fields = self.validated(api.OrganisationInput, partial=True)
        organisation = services.organisation_update(
            actor=acting_user(request), organisation=organisation, **fields
        )
        return self.row_response(organisation)

    def destroy(self, request: Request, pk: str) -> Response:
        organisation = permissions.get_organisation_for(request.user, pk, OrganisationAction.DELETE)
        services.organisation_delete(actor=acting_user(request), organisation=organisation)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    create=extend_schema(request=api.ConsortiumCreateInput, responses={201: api.ConsortiumRow}),
    partial_update=extend_schema(request=api.ConsortiumUpdateInput, responses=api.ConsortiumRow),
    destroy=extend_schema(responses={204: None, 409: CONFLICT}),
)
class ConsortiumViewSet(RowViewSet):
    """Consortia the caller's organisation belongs to (or holds an explicit grant on).

    Founding one makes the caller's organisation its founding member and the caller its chair.
    """

    scope_area = "consortia"

    row_serializer = api.ConsortiumRow
    filterset_class = ConsortiumFilter
    cursor_ordering = "name"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.consortium_list(actor=self.request.user)

    def get_object(self) -> Model:
        return permissions.get_consortium_for(self.request.user, self.kwargs["pk"])

    @extend_schema(responses=api.HealthOut)
    @action(detail=True, methods=["get"])
    def health(self, request: Request, pk: str) -> Response:
        """The partnership health check: score out of 100 and each finding with its fix."""
        from consortia import health

        score, findings = health.run(permissions.get_consortium_for(request.user, pk))
        return Response(
            api.HealthOut({"score": score, "findings": [f.as_dict() for f in findings]}).data
        )

    def create(self, request: Request) -> Response:
        consortium = services.consortium_create(
            actor=acting_user(request), **self.validated(api.ConsortiumCreateInput)
        )
        return self.row_response(consortium, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        consortium = permissions.get_consortium_for(request.user, pk, ConsortiumAction.CHANGE)
        fields = self.validated(api.ConsortiumUpdateInput, partial=True)
        new_status = fields.pop("status", None)
        # One PATCH, one outcome: a refused move (or a lost database) must not leave the
        # other fields changed on their own.
        with transaction.atomic():
            if fields:
                consortium = services.consortium_update(
                    actor=acting_user(request), consortium=consortium, **fields
                )
            if new_status is not None and new_status != consortium.status:
                consortium = services.consortium_transition(
                    actor=acting_user(request), consortium=consortium, status=new_status
                )
        return self.row_response(consortium)

    def destroy(self, request: Request, pk: str) -> Response:
        consortium = permissions.get_consortium_for(request.user, pk, ConsortiumAction.DELETE)
        services.consortium_delete(actor=acting_user(request), consortium=consortium)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=api.ChairHandOverInput, responses=api.RoleAssignmentRow)
    @action(detail=True, methods=["post"], url_path="hand-over-chair")
    def hand_over_chair(self, request: Request, pk: str) -> Response:
        """Pass the chair to a person of an active member organisation."""
        consortium = permissions.get_consortium_for(request.user, pk, ConsortiumAction.MANAGE_ROLES)
        username = self.validated(api.ChairHandOverInput)["user"]
        to_user = selectors.assignable_user(consortium=consortium, username=username)
        assignment = services.chair_hand_over(
            actor=acting_user(request), consortium=consortium, to_user=to_user
        )
        row = (
            selectors.role_assignment_list(actor=acting_user(request))
            .filter(pk=assignment.pk)
            .values(*api.RoleAssignmentRow.columns())
            .get()
        )
        return Response(api.RoleAssignmentRow(row).data)


@extend_schema_view(
    create=extend_schema(request=api.MembershipInviteInput, responses={201: api.MembershipRow}),
    partial_update=extend_schema(request=api.MembershipUpdateInput, responses=api.MembershipRow),
)
class MembershipViewSet(RowViewSet):
    """Member organisations of the consortia the caller can see.

    Inviting creates an invited membership; admit, suspend, reinstate and remove move it
    along. A membership is never deleted: history refers to it.
    """

    scope_area = "consortia"

    row_serializer = api.MembershipRow
    filterset_class = MembershipFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.membership_list(actor=self.request.user)

    def get_object(self) -> Model:
        return permissions.get_membership_for(self.request.user, self.kwargs["pk"])

    def _managed(self, pk: str) -> Any:
        return permissions.get_membership_for(
            self.request.user, pk, ConsortiumAction.MANAGE_MEMBERSHIP
        )

    def create(self, request: Request) -> Response:
        fields = self.validated(api.MembershipInviteInput)
        consortium = permissions.get_consortium_for(
            request.user, fields.pop("consortium"), ConsortiumAction.MANAGE_MEMBERSHIP
        )
        membership = services.membership_invite(
            actor=acting_user(request), consortium=consortium, **fields
        )
        return self.row_response(membership, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        membership = self._managed(pk)
        fields = self.validated(api.MembershipUpdateInput)
        return self.row_response(
            services.membership_update(actor=acting_user(request), membership=membership, **fields)
        )

    @extend_schema(request=api.MembershipAdmitInput, responses=api.MembershipRow)
    @action(detail=True, methods=["post"])
    def admit(self, request: Request, pk: str) -> Response:
        """Admit an invited organisation."""
        membership = self._managed(pk)
        fields = self.validated(api.MembershipAdmitInput)
        return self.row_response(
            services.membership_admit(actor=acting_user(request), membership=membership, **fields)
        )

    @extend_schema(request=api.ReasonInput, responses=api.MembershipRow)
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, pk: str) -> Response:
        """Suspend an active member; its people keep read access, its roles stop counting."""
        membership = self._managed(pk)
        reason = self.validated(api.ReasonInput)["reason"]
        return self.row_response(
            services.membership_suspend(
                actor=acting_user(request), membership=membership, reason=reason
            )
        )

    @extend_schema(request=None, responses=api.MembershipRow)
    @action(detail=True, methods=["post"])
    def reinstate(self, request: Request, pk: str) -> Response:
        """Lift a suspension."""
        membership = self._managed(pk)
        return self.row_response(
            services.membership_reinstate(actor=acting_user(request), membership=membership)
        )

    @extend_schema(request=api.ReasonInput, responses=api.MembershipRow)
    @action(detail=True, methods=["post"])
    def remove(self, request: Request, pk: str) -> Response:
        """Remove an organisation or withdraw its invitation; its people's roles are revoked."""
        membership = self._managed(pk)
        reason = self.validated(api.ReasonInput)["reason"]
        return self.row_response(
            services.membership_remove(
                actor=acting_user(request), membership=membership, reason=reason
            )
        )


@extend_schema_view(
    create=extend_schema(request=api.RoleAssignmentInput, responses={201: api.RoleAssignmentRow}),
    destroy=extend_schema(responses={204: None}),
)
class RoleAssignmentViewSet(RowViewSet):
    """Who holds which role in the consortia the caller can see. Revoking is DELETE."""

    scope_area = "consortia"

    row_serializer = api.RoleAssignmentRow
    filterset_class = RoleAssignmentFilter
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.role_assignment_list(actor=self.request.user)

    def get_object(self) -> Model:
        return permissions.get_role_assignment_for(self.request.user, self.kwargs["pk"])

    def create(self, request: Request) -> Response:
        fields = self.validated(api.RoleAssignmentInput)
        consortium = permissions.get_consortium_for(
            request.user, fields["consortium"], ConsortiumAction.MANAGE_ROLES
        )
        user = selectors.assignable_user(consortium=consortium, username=fields["user"])
        assignment = services.role_assign(
            actor=acting_user(request), consortium=consortium, user=user, role=fields["role"]
        )
        return self.row_response(assignment, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, pk: str) -> Response:
        assignment = permissions.get_role_assignment_for(
            request.user, pk, ConsortiumAction.MANAGE_ROLES
        )
        services.role_revoke(actor=acting_user(request), assignment=assignment)
        return Response(status=status.HTTP_204_NO_CONTENT)
