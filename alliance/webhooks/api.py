"""REST endpoints of webhooks, under /api/v1/webhooks/: the same selectors, services and
policy as the pages (404 for another organisation's endpoint or an unseen consortium, 403 for
people who may not manage them, 401 anonymous).

A create or a rotation answers with the secret, once. An ``Idempotency-Key`` replay of that
answer comes without it (``secret`` null): the stored answer of a retried request must not
keep a secret in the database in clear.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from alliance import idempotency
from alliance.api.views import InputViewSet, RowViewSet
from alliance.auth import acting_user
from alliance.webhooks import permissions, selectors, services
from alliance.webhooks import serializers as api
from alliance.webhooks.filters import DestinationFilter, MessageFilter
from alliance.webhooks.models import Endpoint, Message
from consortia import permissions as consortium_permissions
from consortia.permissions import ConsortiumAction

CONFLICT = OpenApiResponse(description="Refused by the current state; the body says why.")


class WebhookEventTypeViewSet(InputViewSet):
    """The event types an endpoint can subscribe to."""

    scope_area = "webhooks"
    serializer_class = api.WebhookEventTypeOut
    pagination_class = None
    filter_backends: list[Any] = []  # a fixed catalogue: nothing to filter

    @extend_schema(responses=api.WebhookEventTypeOut(many=True))
    def list(self, request: Request) -> Response:
        return Response(api.WebhookEventTypeOut(selectors.event_type_catalogue(), many=True).data)


def _without_secret(response: Response) -> Response:
    data = response.data
    if isinstance(data, dict) and data.get("secret"):
        data = {**data, "secret": None}
    return Response(data, status=response.status_code)


@extend_schema_view(
    list=extend_schema(summary="Your organisation's endpoints."),
    partial_update=extend_schema(
        request=api.WebhookEndpointUpdateInput, responses=api.WebhookEndpointRow
    ),
    destroy=extend_schema(responses={204: None}),
)
class WebhookEndpointViewSet(RowViewSet):
    """Endpoints of the caller's organisation, for its administrators. Each receives the
    event types it chose, from the consortia of its organisation that approve its host."""

    scope_area = "webhooks"
    row_serializer = api.WebhookEndpointRow
    lookup_value_converter = "int"
    cursor_ordering = "id"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return permissions.visible_endpoints(self.request.user)

    def get_object(self) -> Endpoint:
        return permissions.get_endpoint_for(self.request.user, self.kwargs["pk"])

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        record, self.idempotency = self.idempotency, None
        response = super().finalize_response(request, response, *args, **kwargs)
        if record is not None:
            idempotency.settle(record, _without_secret(response))
        return response

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        permissions.require_reader(request.user)
        return super().list(request, *args, **kwargs)

    def _row(self, endpoint: Endpoint) -> dict[str, Any]:
        row = self.rows(self.get_queryset().filter(pk=endpoint.pk)).get()
        return dict(self.row_serializer(row).data)

    @extend_schema(request=api.WebhookEndpointInput, responses={201: api.WebhookEndpointCreated})
    def create(self, request: Request) -> Response:
        """Register an endpoint; the answer holds its secret, the only time it is shown."""
        user = acting_user(request)
        organisation = permissions.own_organisation(user)
        fields = self.validated(api.WebhookEndpointInput)
        endpoint, secret = services.endpoint_create(actor=user, organisation=organisation, **fields)
        receiving = selectors.receiving_consortia([endpoint])[endpoint.pk]
        data = {
            "endpoint": self._row(endpoint),
            "secret": secret,
            "receiving_consortia": api.WebhookConsortiumOut(receiving, many=True).data,
        }
        return Response(data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        user = acting_user(request)
        endpoint = self.get_object()
        fields = self.validated(api.WebhookEndpointUpdateInput, partial=True)
        is_active = fields.pop("is_active", None)
        reason = fields.pop("disabled_reason", "").strip()
        if is_active is False and not reason and endpoint.is_active:
            raise ValidationError({"disabled_reason": "Say why the endpoint is disabled."})
        with transaction.atomic():  # all of the change or none of it
            if fields:
                endpoint = services.endpoint_update(actor=user, endpoint=endpoint, **fields)
            if is_active is False:
                endpoint = services.endpoint_disable(actor=user, endpoint=endpoint, reason=reason)
            elif is_active is True:
                endpoint = services.endpoint_enable(actor=user, endpoint=endpoint)
        return self.row_response(endpoint)

    def destroy(self, request: Request, pk: str) -> Response:
        services.endpoint_delete(actor=acting_user(request), endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=api.WebhookRotateInput, responses=api.WebhookRotated)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str) -> Response:
        """A new secret, shown once; the previous one keeps signing beside it for
        ``overlap_hours`` (24 by default), so receivers can switch without a gap."""
        endpoint = self.get_object()
        fields = self.validated(api.WebhookRotateInput)
        endpoint, secret = services.endpoint_rotate_secret(
            actor=acting_user(request), endpoint=endpoint, **fields
        )
        return Response({"endpoint": self._row(endpoint), "secret": secret})

    @extend_schema(responses=api.WebhookConsortiumOut(many=True))
    @action(detail=True, methods=["get"], url_path="consortia")
    def receiving_consortia(self, request: Request, pk: str) -> Response:
        """The consortia whose events this endpoint receives now: those of its organisation
        that approve its host. Empty means it receives nothing."""
        endpoint = self.get_object()
        receiving = selectors.receiving_consortia([endpoint])[endpoint.pk]
        return Response(api.WebhookConsortiumOut(receiving, many=True).data)


@extend_schema_view(list=extend_schema(summary="Messages to your organisation's endpoints."))
class WebhookMessageViewSet(RowViewSet):
    """What was sent to the caller's organisation's endpoints, newest first, with the
    payload; filter by ``endpoint`` and ``status``. A replay sends a message again with the
    same ``webhook-id``."""

    scope_area = "webhooks"
    row_serializer = api.WebhookMessageDetail
    filterset_class = MessageFilter
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.message_list(actor=self.request.user)

    def get_object(self) -> Message:
        return permissions.get_message_for(self.request.user, self.kwargs["pk"])

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        permissions.require_reader(request.user)
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses={202: api.WebhookMessageDetail, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str) -> Response:
        message = services.message_replay(actor=acting_user(request), message=self.get_object())
        return self.row_response(message, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=api.WebhookAttemptRow(many=True))
    @action(detail=True, methods=["get"])
    def attempts(self, request: Request, pk: str) -> Response:
        """Every attempt at delivering the message, first first."""
        rows = selectors.attempt_list(message=self.get_object()).values(
            *api.WebhookAttemptRow.columns()
        )
        return Response(api.WebhookAttemptRow(rows[:500], many=True).data)


@extend_schema_view(
    create=extend_schema(
        request=api.WebhookDestinationInput, responses={201: api.WebhookDestinationRow}
    ),
    destroy=extend_schema(responses={204: None}),
)
class WebhookDestinationViewSet(RowViewSet):
    """Each consortium's allow-list: the hosts its events may be sent to. Everyone who sees
    the consortium reads it; its chair approves and removes destinations."""

    scope_area = "webhooks"
    row_serializer = api.WebhookDestinationRow
    filterset_class = DestinationFilter
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.destination_list(actor=self.request.user)

    def get_object(self) -> Any:
        return permissions.get_destination_for(self.request.user, self.kwargs["pk"])

    def create(self, request: Request) -> Response:
        user = acting_user(request)
        fields = self.validated(api.WebhookDestinationInput)
        consortium = consortium_permissions.get_consortium_for(
            user, fields.pop("consortium"), ConsortiumAction.CHANGE
        )
        destination = services.destination_approve(actor=user, consortium=consortium, **fields)
        return self.row_response(destination, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, pk: str) -> Response:
        destination = permissions.get_destination_for(request.user, pk, change=True)
        services.destination_remove(actor=acting_user(request), destination=destination)
        return Response(status=status.HTTP_204_NO_CONTENT)


router = SimpleRouter(use_regex_path=False)
router.register("webhooks/event-types", WebhookEventTypeViewSet, basename="webhook-event-type")
router.register("webhooks/endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhooks/messages", WebhookMessageViewSet, basename="webhook-message")
router.register("webhooks/destinations", WebhookDestinationViewSet, basename="webhook-destination")

urlpatterns = router.urls
