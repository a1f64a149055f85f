"""Shared machinery for the API's viewsets."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import Http404
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from alliance import conditional, idempotency
from alliance.api import parsers
from alliance.api.serializers import RowSerializer
from alliance.models import IdempotencyRecord


class InputViewSet(viewsets.GenericViewSet):  # type: ignore[type-arg]
    """A viewset whose actions validate their input with a given serializer, then call a service.

    A POST with an ``Idempotency-Key`` header is claimed once authenticated and its answer
    kept (``alliance.idempotency``), so a retried create returns the first result. Detail
    JSON answers carry an ETag, and a write with ``If-Match`` is compared with
    ``current_state()`` (``alliance.conditional``). Strings PostgreSQL cannot hold are refused
    as input, in the body and in the query (``alliance.api.parsers``).
    """

    idempotency: IdempotencyRecord | None = None
    parser_classes = [parsers.JSONParser, parsers.FormParser, parsers.MultiPartParser]

    def current_state(self) -> Any:
        """What an ``If-Match`` on this detail URL is compared with: the representation the
        caller would read now, with the rows it is made of locked, or None when the caller
        cannot see it (the action then answers 404 itself). None by default: viewsets whose
        detail answers carry an ETag override it."""
        return None

    def page_of(self, queryset: QuerySet[Any]) -> list[Any]:
        """The page of ``queryset`` (filtered by the view's FilterSet) this request asks for."""
        page = self.paginate_queryset(self.filter_queryset(queryset))
        assert page is not None, "every list is paginated"
        return page

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # A conditional write compares and writes in one transaction, the rows locked in
        # between, so two clients holding the same ETag cannot both succeed.
        if self.detail and request.method in conditional.WRITES and "HTTP_IF_MATCH" in request.META:
            with transaction.atomic():
                return super().dispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # A query value goes to filters as it is: one PostgreSQL cannot hold fails as input
        # here, not as a server error in the query (alliance.api.parsers does the body).
        refused = sorted(
            name
            for name, values in request.query_params.lists()
            if parsers.unstorable(name) or parsers.unstorable(values)
        )
        if refused:
            raise ValidationError({name: [parsers.REFUSAL] for name in refused})
        condition = request.headers.get("If-Match")
        if condition is not None and request.method in conditional.WRITES and self.detail:
            state = self.current_state()
            if state is not None and not conditional.matches(condition, conditional.etag(state)):
                raise conditional.PreconditionFailed()
        self.idempotency = idempotency.claim(request)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        tag = None
        if (
            self.detail
            and request.method in conditional.READS | {"PATCH", "PUT"}
            and response.status_code == 200
            # A detail action may answer with a file (a CSV, a PDF): only JSON gets tags.
            and isinstance(getattr(response, "data", None), dict)
        ):
            tag = conditional.etag(response.data)
            known = conditional.listed(request.headers.get("If-None-Match", ""))
            if request.method in conditional.READS and tag in known:
                response = Response(status=304)
        response = super().finalize_response(request, response, *args, **kwargs)
        idempotency.settle(self.idempotency, response)
        self.idempotency = None
        if tag is not None:
            response["ETag"] = tag
        return response

    def handle_exception(self, exc: Exception) -> Response:
        try:
            return super().handle_exception(exc)
        except Exception:
            # A crash is not an answer: free the key so the client's retry runs again.
            idempotency.release(self.idempotency)
            self.idempotency = None
            raise

    def validated(self, serializer_class: type[Any], *, partial: bool = False) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class RowViewSet(InputViewSet):
    """List and retrieve through ``.values()`` rows and a RowSerializer.

    ``get_queryset`` returns the access policy's visible queryset; ``get_object`` calls the
    policy's ``get_<model>_for`` (404 outside, 403 without the right). Both list and detail
    answer with the same row shape; a write's If-Match is compared with the row.
    """

    row_serializer: ClassVar[type[RowSerializer]]
    cursor_ordering: ClassVar[str] = "-id"

    def current_state(self) -> Any:
        """The row as the caller would read it now, its row locked (see InputViewSet)."""
        pk = str(self.kwargs.get("pk", ""))
        if not pk.isdigit():
            return None
        queryset = self.get_queryset()
        list(queryset.model._default_manager.select_for_update().filter(pk=pk).values_list("pk"))
        row = self.rows(queryset.filter(pk=pk)).first()
        return None if row is None else self.row_serializer(row).data

    def get_serializer_class(self) -> type[Any]:
        return self.row_serializer

    def rows(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.values(*self.row_serializer.columns())

    def row_response(self, obj: Model, status: int = 200) -> Response:
        row = self.rows(self.get_queryset().filter(pk=obj.pk)).get()
        return Response(self.row_serializer(row).data, status=status)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.rows(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(queryset)
        assert page is not None, "every list is paginated"
        return self.get_paginated_response(self.row_serializer(page, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.row_response(self.get_object())

    def visible_object(self) -> Model:
        """The object of this URL from ``get_queryset()``, or 404: for lists whose scoping
        is the queryset itself (no per-object right beyond seeing it)."""
        pk = str(self.kwargs["pk"])
        found = self.get_queryset().filter(pk=pk).first() if pk.isdigit() else None
        if found is None:
            raise Http404(
                f"No {self.get_queryset().model._meta.verbose_name} matches the given query."
            )
        return cast(Model, found)
