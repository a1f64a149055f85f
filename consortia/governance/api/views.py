"""REST endpoints for motions, votes and proxies: the same services and policy as the pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from alliance.api.filters import InConsortiumFilter
from alliance.api.views import InputViewSet
from alliance.auth import acting_user
from consortia import permissions
from consortia.filters import MotionFilter
from consortia.governance import selectors, services
from consortia.governance.api import serializers as api


def _detail(request: Request, motion: Any) -> Response:
    view = selectors.motion_view(request.user, motion)
    data = {
        **api.MotionOut(motion).data,
        "voters": api.VoterOut(view.voters, many=True).data,
        "tally": api.TallyOut(view.tally).data if view.tally else None,
        "votes": api.VoteOut(view.history, many=True).data,
    }
    return Response(data)


class MotionViewSet(InputViewSet):
    """Motions of the consortia the caller sees; steering-committee members propose and vote."""

    scope_area = "governance"

    lookup_value_converter = "int"
    serializer_class = api.MotionDetailOut
    filterset_class = MotionFilter
    cursor_ordering = ("-opens_at", "-id")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        return selectors.visible_motions(self.request.user)

    @extend_schema(responses=api.MotionOut(many=True))
    def list(self, request: Request) -> Response:
        page = self.page_of(self.get_queryset())
        return self.get_paginated_response(api.MotionOut(page, many=True).data)

    @extend_schema(responses=api.MotionDetailOut)
    def retrieve(self, request: Request, pk: str) -> Response:
        return _detail(request, selectors.get_motion_for(request.user, pk))

    @extend_schema(request=api.MotionInput, responses={201: api.MotionDetailOut})
    def create(self, request: Request) -> Response:
        fields = self.validated(api.MotionInput)
        consortium = permissions.get_consortium_for(request.user, fields.pop("consortium"))
        subject = fields.pop("subject")
        motion = services.motion_propose(
            actor=acting_user(request), consortium=consortium, subject_id=subject, **fields
        )
        response = _detail(request, motion)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(request=api.MotionUpdateInput, responses=api.MotionDetailOut)
    def partial_update(self, request: Request, pk: str) -> Response:
        motion = selectors.get_motion_for(request.user, pk)
        # The right before the input: a reader gets 403 whatever they sent.
        services.require_motion_editor(acting_user(request), motion)
        fields = self.validated(api.MotionUpdateInput, partial=True)
        # Fields the input does not declare go to the service too, which refuses them by
        # name: a client asking to change the rule must hear that it cannot.
        others = {key: request.data[key] for key in request.data if key not in fields}
        if clashing := sorted({"actor", "motion"} & set(others)):
            raise ValidationError(dict.fromkeys(clashing, services.NOT_A_SETTING))
        motion = services.motion_update(
            actor=acting_user(request), motion=motion, **fields, **others
        )
        return _detail(request, motion)

    @extend_schema(request=api.VoteInput, responses=api.MotionDetailOut)
    @action(detail=True, methods=["post"])
    def vote(self, request: Request, pk: str) -> Response:
        motion = selectors.get_motion_for(request.user, pk)
        fields = self.validated(api.VoteInput)
        organisation_id = fields.pop("for_organisation")
        organisation = (
            selectors.organisation_named(organisation_id) if organisation_id is not None else None
        )
        services.vote_cast(
            actor=acting_user(request), motion=motion, for_organisation=organisation, **fields
        )
        motion.refresh_from_db()
        return _detail(request, motion)

    @extend_schema(request=api.RecusalInput, responses=api.MotionDetailOut)
    @action(detail=True, methods=["post"])
    def recuse(self, request: Request, pk: str) -> Response:
        motion = selectors.get_motion_for(request.user, pk)
        services.recuse(
            actor=acting_user(request),
            motion=motion,
            reason=self.validated(api.RecusalInput)["reason"],
        )
        return _detail(request, motion)


class ProxyViewSet(InputViewSet):
    """Votes lent between member organisations, for one motion or a period."""

    scope_area = "governance"

    lookup_value_converter = "int"
    serializer_class = api.ProxyOut
    filterset_class = InConsortiumFilter
    cursor_ordering = ("-valid_from", "-id")
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> Any:
        return selectors.visible_proxies(self.request.user)

    @extend_schema(responses=api.ProxyOut(many=True))
    def list(self, request: Request) -> Response:
        page = self.page_of(self.get_queryset())
        return self.get_paginated_response(api.ProxyOut(page, many=True).data)

    @extend_schema(request=api.ProxyInput, responses={201: api.ProxyOut})
    def create(self, request: Request) -> Response:
        fields = self.validated(api.ProxyInput)
        consortium = permissions.get_consortium_for(request.user, fields["consortium"])
        grantee = selectors.organisation_named(fields["grantee"])
        motion = (
            selectors.get_motion_for(request.user, fields["motion"]) if fields["motion"] else None
        )
        proxy = services.proxy_give(
            actor=acting_user(request),
            consortium=consortium,
            grantee=grantee,
            motion=motion,
            valid_until=fields["valid_until"],
        )
        return Response(api.ProxyOut(proxy).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=api.ProxyOut)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str) -> Response:
        proxy = selectors.get_proxy_for(request.user, pk)
        return Response(
            api.ProxyOut(services.proxy_revoke(actor=acting_user(request), proxy=proxy)).data
        )
