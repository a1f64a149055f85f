"""REST endpoints of the audit trail, scoped by the same chain-access policy as the pages."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import FileResponse, Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.api.views import RowViewSet
from audit import exports, selectors, signing
from audit.api import serializers as api
from audit.filters import AuditEventFilter
from audit.models import Action, AuditExport
from audit.services import audit_read


class AuditEventViewSet(RowViewSet):
    """Audit events the caller may read: whole chains where they audit, changes elsewhere.

    Every page read is itself recorded, one ``list`` event per consortium on the page."""

    scope_area = "audit"

    row_serializer = api.AuditEventRow
    filterset_class = AuditEventFilter
    http_method_names = ["get", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.event_list(actor=self.request.user)

    def get_object(self) -> Model:
        return self.visible_object()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        filters = AuditEventFilter(request.query_params, queryset=self.get_queryset()).applied()
        per_consortium = Counter(row["consortium_id"] for row in response.data["results"])
        # A page spanning several chains is one read: all its events are recorded, or (when
        # the database is lost halfway, and the caller sees a 503 instead) none.
        with transaction.atomic():
            for consortium_id, count in per_consortium.items():
                audit_read(
                    actor=request.user,
                    consortium_id=consortium_id,
                    action=Action.LIST,
                    filters=filters,
                    count=count,
                    what="audit.auditevent",
                )
        return response


@extend_schema_view(
    list=extend_schema(description="Signed checkpoints of the chains the caller can see.")
)
class AuditCheckpointViewSet(RowViewSet):
    """Checkpoints: chain, size, head hash, time and Ed25519 signature. Keep them: they prove
    later that the history up to each was not rewritten."""

    scope_area = "audit"

    row_serializer = api.AuditCheckpointRow
    http_method_names = ["get", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        queryset = selectors.checkpoint_list(actor=self.request.user)
        consortium = self.request.query_params.get("consortium", "")
        return queryset.filter(consortium_id=int(consortium)) if consortium.isdigit() else queryset

    def get_object(self) -> Model:
        return self.visible_object()


class AuditPublicKeyView(APIView):
    """The key that signs checkpoints, and how a checkpoint's signed note is built."""

    scope_area = "audit"

    @extend_schema(responses=api.PublicKey)
    def get(self, request: Request) -> Response:
        return Response(
            {
                "algorithm": "Ed25519",
                "key_id": signing.key_id(),
                "public_key_pem": signing.public_key_pem(),
                "note_format": "alliance-audit/<chain>\\n<size>\\n<base64 head hash>\\n<sealed_at>\\n",
            }
        )


@extend_schema_view(
    create=extend_schema(request=api.AuditExportInput, responses={202: api.AuditExportRow})
)
class AuditExportViewSet(RowViewSet):
    """Exports of whole consortium chains (or filtered parts), made by a background task."""

    scope_area = "audit"
    # Asking for an export reads the trail; it changes nothing that the trail records.
    action_scopes = {"create": "audit:read"}

    row_serializer = api.AuditExportRow
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.export_list(actor=self.request.user)

    def get_object(self) -> Model:
        return selectors.export_detail(actor=self.request.user, pk=self.kwargs["pk"])

    def create(self, request: Request) -> Response:
        fields = self.validated(api.AuditExportInput)
        export = exports.audit_export_create(
            actor=request.user,
            consortium_id=fields["consortium"],
            format=fields["format"],
            filters=fields["filters"],
        )
        return self.row_response(export, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str) -> FileResponse:
        """The export's file, once its status is done (the download is audited)."""
        export = selectors.export_detail(actor=request.user, pk=pk)
        if export.status != AuditExport.Status.DONE:
            raise Http404("This export is not ready.")
        path = exports.audit_export_open(actor=request.user, export=export)
        return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)
