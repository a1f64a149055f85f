"""REST endpoints for signed documents: verify a PDF, and bulk exports of executed
agreements. Signing itself happens in the browser, where the signatory re-enters a password."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.http import FileResponse, HttpResponseBase
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as InputError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agreements import exports, verification
from agreements.api import serializers as api
from alliance.api.exceptions import PayloadTooLarge
from alliance.api.views import InputViewSet
from alliance.auth import acting_user
from alliance.errors import ConflictError, NotVisibleError
from consortia import permissions as consortium_permissions


class VerifyView(APIView):
    """Upload a PDF (multipart field ``document``): its signatures, whether it changed after
    signing, and which agreement version it is. Read in memory, never stored."""

    scope_area = "agreements"

    parser_classes = [MultiPartParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Before anything reads the body: uploads stay in memory instead of a temporary file.
        request._request.upload_handlers = [MemoryFileUploadHandler(request._request)]
        super().initial(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": api.VerifyInput},
        responses={
            200: api.VerifyOut,
            413: OpenApiResponse(description="The file is larger than the deployment accepts."),
        },
    )
    def post(self, request: Request) -> Response:
        if not consortium_permissions.visible_consortia(request.user).exists():
            raise NotVisibleError("Verification is for members of a consortium.")
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.VERIFY_UPLOAD_MAX_BYTES + 64 * 1024:
            raise PayloadTooLarge(
                f"The file is larger than {settings.VERIFY_UPLOAD_MAX_BYTES} bytes."
            )
        serializer = api.VerifyInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["document"]
        if upload.size > settings.VERIFY_UPLOAD_MAX_BYTES:
            raise InputError({"document": ["The file is too large."]})
        report = verification.verify_upload(actor=request.user, data=upload.read())
        return Response(api.VerifyOut(report.as_dict()).data)


class ExportViewSet(InputViewSet):
    """ZIPs of a consortium's executed agreements, built by a task: create one, poll its
    progress, download it."""

    scope_area = "agreements"

    lookup_value_converter = "int"
    serializer_class = api.ExportOut
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(request=api.ExportInput, responses={202: api.ExportOut})
    def create(self, request: Request) -> Response:
        consortium_id = self.validated(api.ExportInput)["consortium"]
        consortium = consortium_permissions.get_consortium_for(request.user, consortium_id)
        export = exports.export_create(actor=acting_user(request), consortium=consortium)
        return Response(api.ExportOut(export).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=api.ExportOut)
    def retrieve(self, request: Request, pk: str) -> Response:
        export = exports.get_export_for(acting_user(request), pk)
        return Response(api.ExportOut(export).data)

    @extend_schema(
        responses={
            (200, "application/zip"): bytes,
            409: OpenApiResponse(description="The export is not ready yet (export_not_ready)."),
        }
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str) -> HttpResponseBase:
        export = exports.get_export_for(acting_user(request), pk)
        if export.status != export.Status.DONE:
            raise ConflictError("This export is not ready yet.", code="export_not_ready")
        return FileResponse(
            exports.export_open(actor=acting_user(request), export=export),
            as_attachment=True,
            filename=export.file_name.rsplit("/", 1)[-1],
            content_type="application/zip",
        )
