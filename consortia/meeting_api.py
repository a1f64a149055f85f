"""Read meetings and their minutes over the API (they are written in the browser)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from alliance.api.filters import InConsortiumFilter
from alliance.api.views import InputViewSet
from consortia import meeting_selectors


class MeetingOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    consortium = serializers.IntegerField(source="consortium_id")
    title = serializers.CharField()
    held_at = serializers.DateTimeField()
    location = serializers.CharField()
    attendees = serializers.ListField(child=serializers.CharField())
    organisations = serializers.ListField(child=serializers.IntegerField())
    agenda = serializers.ListField(child=serializers.IntegerField())
    minutes = serializers.CharField()
    minutes_status = serializers.CharField()
    minutes_sha256 = serializers.CharField()
    approved_at = serializers.DateTimeField(allow_null=True)


def _row(meeting: Any) -> dict[str, Any]:
    return {
        **{name: getattr(meeting, name) for name in ("id", "consortium_id", "title", "held_at")},
        **{
            name: getattr(meeting, name)
            for name in ("location", "minutes", "minutes_status", "minutes_sha256", "approved_at")
        },
        "attendees": sorted(person.username for person in meeting.attendees.all()),
        "organisations": sorted(organisation.pk for organisation in meeting.organisations.all()),
        "agenda": sorted(motion.pk for motion in meeting.agenda.all()),
    }


class MeetingViewSet(InputViewSet):
    """Steering-committee meetings of the consortia the caller sees, with their minutes."""

    scope_area = "governance"

    lookup_value_converter = "int"
    serializer_class = MeetingOut
    filterset_class = InConsortiumFilter
    cursor_ordering = ("-held_at", "-id")
    http_method_names = ["get", "head", "options"]

    def get_queryset(self) -> Any:
        return meeting_selectors.visible_meetings(self.request.user)

    @extend_schema(responses=MeetingOut(many=True))
    def list(self, request: Request) -> Response:
        meetings = self.get_queryset().prefetch_related("attendees", "organisations", "agenda")
        rows = [_row(meeting) for meeting in self.page_of(meetings)]
        return self.get_paginated_response(MeetingOut(rows, many=True).data)

    @extend_schema(responses=MeetingOut)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(MeetingOut(_row(meeting_selectors.get_meeting_for(request.user, pk))).data)
