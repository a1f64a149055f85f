"""REST endpoints of the risk register and the operationalization plan: the same selectors,
services and policy as the pages (404 outside the consortium, 403 for people who do not keep
the plan, 401 anonymous)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from alliance.api.filters import InConsortiumFilter
from alliance.api.views import InputViewSet
from alliance.auth import acting_user
from consortia import permissions, planning_selectors, planning_services
from consortia.planning import SCALE_MAX, SCALE_MIN, Milestone, Risk

# Serializer names are unique across the project: drf-spectacular names schema components
# after them.

STATUS_HELP = "One of: " + ", ".join(Risk.Status.values) + "."


class RiskOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    consortium = serializers.IntegerField(source="consortium_id")
    title = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    likelihood = serializers.IntegerField()
    impact = serializers.IntegerField()
    score = serializers.IntegerField()
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    owner_name = serializers.CharField(source="owner.name", allow_null=True, default=None)
    mitigations = serializers.CharField()
    status = serializers.CharField()
    review_on = serializers.DateField()
    from_model = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class RiskCreateInput(serializers.Serializer[Any]):
    consortium = serializers.IntegerField(min_value=1)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.ChoiceField(choices=Risk.Category.choices)
    likelihood = serializers.IntegerField(min_value=SCALE_MIN, max_value=SCALE_MAX)
    impact = serializers.IntegerField(min_value=SCALE_MIN, max_value=SCALE_MAX)
    owner = serializers.IntegerField(required=False, allow_null=True, default=None)
    mitigations = serializers.CharField(required=False, allow_blank=True, default="")
    # A plain string: the service names the field when it is not a status, and a second
    # enum called "status" in the schema would collide with the other apps' ones.
    status = serializers.CharField(default=Risk.Status.OPEN, help_text=STATUS_HELP)
    review_on = serializers.DateField(required=False, allow_null=True, default=None)


class RiskUpdateInput(serializers.Serializer[Any]):
    likelihood = serializers.IntegerField(min_value=SCALE_MIN, max_value=SCALE_MAX)
    impact = serializers.IntegerField(min_value=SCALE_MIN, max_value=SCALE_MAX)
    status = serializers.CharField(help_text=STATUS_HELP)
    mitigations = serializers.CharField(allow_blank=True)
    owner = serializers.IntegerField(allow_null=True)
    review_on = serializers.DateField()
    reason = serializers.CharField(max_length=500, allow_blank=True)


class MilestoneOut(serializers.Serializer[Any]):
    """A milestone with its state as of today (``planning_selectors.MilestoneProgress``)."""

    id = serializers.IntegerField(source="milestone.pk")
    consortium = serializers.IntegerField(source="milestone.consortium_id")
    key = serializers.CharField(source="milestone.key")
    title = serializers.CharField(source="milestone.title")
    description = serializers.CharField(source="milestone.description")
    position = serializers.IntegerField(source="milestone.position")
    target_months = serializers.IntegerField(source="milestone.target_months")
    due_on = serializers.DateField(source="milestone.due_on")
    done_on = serializers.DateField(source="milestone.done_on", allow_null=True)
    notes = serializers.CharField(source="milestone.notes")
    state = serializers.ChoiceField(choices=list(planning_selectors.MilestoneState))
    days_late = serializers.IntegerField()


class MilestoneCompleteInput(serializers.Serializer[Any]):
    done_on = serializers.DateField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class MilestoneReopenInput(serializers.Serializer[Any]):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


def _milestone_out(milestone: Milestone) -> dict[str, Any]:
    progress = planning_selectors.progress_of(milestone, timezone.localdate())
    return dict(MilestoneOut(progress).data)


class RiskViewSet(InputViewSet):
    """Risks of the consortia the caller sees, highest score first; the chair and
    steering-committee members add and re-assess them."""

    scope_area = "consortia"

    lookup_value_converter = "int"
    serializer_class = RiskOut
    filterset_class = InConsortiumFilter
    # Highest score first (ties by a consortium's dozens of risks stay cheap for the cursor).
    cursor_ordering = ("-score_value", "-impact", "id")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        return planning_selectors.visible_risks(self.request.user)

    @extend_schema(responses=RiskOut(many=True))
    def list(self, request: Request) -> Response:
        page = self.page_of(planning_selectors.risks_by_score(self.get_queryset()))
        return self.get_paginated_response(RiskOut(page, many=True).data)

    @extend_schema(responses=RiskOut)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(RiskOut(planning_selectors.get_risk_for(request.user, pk)).data)

    @extend_schema(request=RiskCreateInput, responses={201: RiskOut})
    def create(self, request: Request) -> Response:
        fields = self.validated(RiskCreateInput)
        consortium = permissions.get_consortium_for(request.user, fields.pop("consortium"))
        # The right before the owner is looked up: a reader gets 403 whatever they sent.
        planning_services.require_keeper(
            acting_user(request), consortium.pk, consortium, "create_risk"
        )
        owner = planning_selectors.organisation_for_owner(fields.pop("owner"))
        risk = planning_services.risk_create(
            actor=acting_user(request), consortium=consortium, owner=owner, **fields
        )
        return Response(RiskOut(risk).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RiskUpdateInput, responses=RiskOut)
    def partial_update(self, request: Request, pk: str) -> Response:
        risk = planning_selectors.get_risk_for(request.user, pk)
        planning_services.require_keeper(
            acting_user(request), risk.consortium_id, risk, "change_risk"
        )
        fields = self.validated(RiskUpdateInput, partial=True)
        if "owner" in fields:
            fields["owner"] = planning_selectors.organisation_for_owner(fields["owner"])
        risk = planning_services.risk_update(actor=acting_user(request), risk=risk, **fields)
        return Response(RiskOut(risk).data)


class MilestoneViewSet(InputViewSet):
    """Milestones of the consortia the caller sees, in plan order, with their state (done,
    due, slipping) and days late; the chair and steering-committee members mark them
    reached or reopen them."""

    scope_area = "consortia"

    lookup_value_converter = "int"
    serializer_class = MilestoneOut
    filterset_class = InConsortiumFilter
    # Plan order: a consortium's milestones, by position.
    cursor_ordering = ("consortium_id", "position", "id")
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> Any:
        return planning_selectors.visible_milestones(self.request.user)

    @extend_schema(responses=MilestoneOut(many=True))
    def list(self, request: Request) -> Response:
        page = self.page_of(self.get_queryset())
        return self.get_paginated_response([_milestone_out(milestone) for milestone in page])

    @extend_schema(responses=MilestoneOut)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(_milestone_out(planning_selectors.get_milestone_for(request.user, pk)))

    @extend_schema(request=MilestoneCompleteInput, responses=MilestoneOut)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str) -> Response:
        milestone = planning_selectors.get_milestone_for(request.user, pk)
        planning_services.require_keeper(
            acting_user(request), milestone.consortium_id, milestone, "complete_milestone"
        )
        milestone = planning_services.milestone_complete(
            actor=acting_user(request),
            milestone=milestone,
            **self.validated(MilestoneCompleteInput),
        )
        return Response(_milestone_out(milestone))

    @extend_schema(request=MilestoneReopenInput, responses=MilestoneOut)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str) -> Response:
        milestone = planning_selectors.get_milestone_for(request.user, pk)
        planning_services.require_keeper(
            acting_user(request), milestone.consortium_id, milestone, "reopen_milestone"
        )
        milestone = planning_services.milestone_reopen(
            actor=acting_user(request),
            milestone=milestone,
            **self.validated(MilestoneReopenInput),
        )
        return Response(_milestone_out(milestone))
