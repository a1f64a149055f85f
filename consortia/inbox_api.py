"""The caller's own notifications over the API: list them (``?unread=true`` for the unread
ones), mark one or all read. Another person's notification is not there for the caller (404)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from alliance.api.serializers import RowSerializer
from alliance.api.views import RowViewSet
from alliance.auth import acting_user
from consortia import inbox

KIND_HELP = "One of: " + ", ".join(inbox.Notification.Kind.values) + "."


class NotificationRow(RowSerializer):
    id = serializers.IntegerField()
    consortium = serializers.IntegerField(source="consortium_id", allow_null=True)
    # A plain string, so the schema gets no second enum named "kind".
    kind = serializers.CharField(help_text=KIND_HELP)
    title = serializers.CharField()
    body = serializers.CharField()
    url = serializers.CharField(help_text="The path, on this site, of the page to act on.")
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


MarkedOut = inline_serializer("NotificationsMarked", {"marked": serializers.IntegerField()})


class NotificationViewSet(RowViewSet):
    """The caller's own notifications, newest first."""

    scope_area = "consortia"

    row_serializer = NotificationRow
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        unread_only = self.action == "list" and self.request.query_params.get(
            "unread", ""
        ).lower() in ("true", "1")
        return inbox.notification_list(self.request.user, unread_only=unread_only)

    def get_object(self) -> Any:
        return inbox.get_notification_for(acting_user(self.request), self.kwargs["pk"])

    @extend_schema(
        parameters=[OpenApiParameter("unread", bool, description="Only the unread ones.")]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses=NotificationRow)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str) -> Response:
        """Mark one of the caller's notifications read (already read: unchanged)."""
        notification = self.get_object()
        inbox.mark_read(acting_user(request), [notification.pk])
        return self.row_response(notification)

    @extend_schema(request=None, responses=MarkedOut)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        """Mark every unread notification of the caller read; says how many."""
        return Response({"marked": inbox.mark_read(acting_user(request), "all")})
