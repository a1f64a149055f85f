"""REST endpoints of shared compute: the same policy, services and figures as the pages.

Outside the consortium every object answers 404; inside, a role without the right gets 403;
anonymous callers get 401. Every write goes through a service of ``compute`` (which checks the
right again and audits); bad input answers 400 field by field and changes nothing; a refusal
the current state dictates (capacity exhausted, already revoked) answers 409.

The provider and site directory is shared by all consortia: every signed-in user reads it,
staff and people who run a consortium's compute add to it.

Fair share across all of a consortium's pools is ``GET /pools/fair-share-across/?consortium=``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import renderers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from alliance.api.serializers import InstantField
from alliance.api.views import RowViewSet
from alliance.auth import acting_user
from alliance.errors import AccessDeniedError
from compute import allocations, directory, fairshare, lending, permissions, pools, statements
from compute import capacity as capacity_services
from compute import shares as share_services
from compute import usage as usage_services
from compute.api import queries
from compute.api import serializers as api
from compute.filters import (
    AllocationRequestFilter,
    ApprovalFilter,
    LoanFilter,
    PoolFilter,
    ProviderFilter,
    ReservationFilter,
    SiteFilter,
    UsageFilter,
)
from compute.models import Pool, gpu_hours
from compute.permissions import ComputeAction
from consortia import permissions as consortium_permissions
from consortia import selectors as consortium_selectors

CONFLICT = OpenApiResponse(description="Refused by the current state; the body says why.")
MAX_CAPACITY_WINDOW = datetime.timedelta(days=400)
DEFAULT_CAPACITY_WINDOW = datetime.timedelta(days=30)


def _day_param(request: Request, name: str) -> datetime.date | None:
    text = request.query_params.get(name, "").strip()
    if not text:
        return None
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise ValidationError({name: f"{text!r} is not a day: write YYYY-MM-DD."}) from None
    # The fair share looks back over the pool's half-lives: near year 1 it would leave the
    # calendar (a server error) instead of refusing the day.
    if not InstantField.EARLIEST.date() <= day < InstantField.LATEST.date():
        raise ValidationError({name: "Give a day between the years 1970 and 2999."})
    return day


def _instant_param(request: Request, name: str) -> datetime.datetime | None:
    """An instant from an ISO date (midnight UTC) or date-time (UTC unless it says)."""
    text = request.query_params.get(name, "").strip()
    if not text:
        return None
    try:
        value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        # In UTC: PostgreSQL refuses an offset beyond 15:59, which Python reads (up to 23:59).
        return (
            value.astimezone(datetime.UTC)
            if timezone.is_aware(value)
            else value.replace(tzinfo=datetime.UTC)
        )
    except (ValueError, OverflowError):
        raise ValidationError(
            {name: f"{text!r} is not a day or an instant: write YYYY-MM-DD or ISO 8601."}
        ) from None


class StatementCSVRenderer(renderers.BaseRenderer):
    """``?format=csv`` (or ``Accept: text/csv``) on a statement (errors are answered in JSON:
    see ``PoolViewSet.handle_exception``)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, str):
            return data.encode()
        return bytes(renderers.JSONRenderer().render(data))


# The directory.


@extend_schema_view(
    create=extend_schema(
        request=api.ComputeProviderInput, responses={201: api.ComputeProviderDetail}
    )
)
class ProviderViewSet(RowViewSet):
    """Providers of the shared directory, with their exposures to foreign law and their
    certificates."""

    scope_area = "compute"

    row_serializer = api.ComputeProviderRow
    filterset_class = ProviderFilter
    cursor_ordering = "legal_name"
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return permissions.visible_providers(self.request.user)

    def _detail(self, pk: Any, status_code: int = 200) -> Response:
        provider = queries.provider_detail(self.request.user, pk)
        return Response(api.ComputeProviderDetail(provider).data, status=status_code)

    @extend_schema(responses=api.ComputeProviderDetail)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(kwargs["pk"])

    def create(self, request: Request) -> Response:
        permissions.require_directory_editor(request.user)
        fields = self.validated(api.ComputeProviderInput)
        provider = directory.provider_register(
            actor=acting_user(request),
            legal_name=fields["legal_name"],
            head_office_jurisdiction=consortium_selectors.jurisdiction_by_code(
                code=fields["head_office_jurisdiction"], field="head_office_jurisdiction"
            ),
            ultimate_parent_jurisdiction=consortium_selectors.jurisdiction_by_code(
                code=fields["ultimate_parent_jurisdiction"], field="ultimate_parent_jurisdiction"
            ),
        )
        return self._detail(provider.pk, status.HTTP_201_CREATED)

    @extend_schema(request=api.ComputeExposureInput, responses={201: api.ComputeProviderDetail})
    @action(detail=True, methods=["post"])
    def exposures(self, request: Request, pk: str) -> Response:
        """Record (or re-assess) the provider's exposure to a foreign law."""
        provider = permissions.get_provider_for(request.user, pk)
        permissions.require_directory_editor(request.user)
        directory.exposure_record(
            actor=acting_user(request),
            provider=provider,
            **self.validated(api.ComputeExposureInput),
        )
        return self._detail(pk, status.HTTP_201_CREATED)

    @extend_schema(
        request=api.ComputeCertificationInput, responses={201: api.ComputeProviderDetail}
    )
    @action(detail=True, methods=["post"])
    def certifications(self, request: Request, pk: str) -> Response:
        """Record a certificate of the provider, or of one of its sites."""
        provider = permissions.get_provider_for(request.user, pk)
        permissions.require_directory_editor(request.user)
        fields = self.validated(api.ComputeCertificationInput)
        site_id = fields.pop("site")
        directory.certification_record(
            actor=acting_user(request),
            provider=provider,
            site=queries.site_by_id(site_id) if site_id else None,
            **fields,
        )
        return self._detail(pk, status.HTTP_201_CREATED)


@extend_schema_view(
    create=extend_schema(request=api.ComputeSiteInput, responses={201: api.ComputeSiteDetail})
)
class SiteViewSet(RowViewSet):
    """Data centres of the directory's providers: where they are, from where they are run."""

    scope_area = "compute"

    row_serializer = api.ComputeSiteRow
    filterset_class = SiteFilter
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return permissions.visible_sites(self.request.user)

    def _detail(self, pk: Any, status_code: int = 200) -> Response:
        site = queries.site_detail(self.request.user, pk)
        return Response(api.ComputeSiteDetail(site).data, status=status_code)

    @extend_schema(responses=api.ComputeSiteDetail)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(kwargs["pk"])

    def create(self, request: Request) -> Response:
        permissions.require_directory_editor(request.user)
        fields = self.validated(api.ComputeSiteInput)
        site = directory.site_register(
            actor=acting_user(request),
            provider=queries.provider_by_id(fields["provider"]),
            name=fields["name"],
            jurisdiction=consortium_selectors.jurisdiction_by_code(
                code=fields["jurisdiction"], field="jurisdiction"
            ),
            administered_from=[
                consortium_selectors.jurisdiction_by_code(code=code, field="administered_from")
                for code in fields["administered_from"]
            ],
            air_gapped=fields["air_gapped"],
            federation_name=fields["federation_name"],
            federation_public_key=fields["federation_public_key"],
        )
        return self._detail(site.pk, status.HTTP_201_CREATED)


@extend_schema_view(
    create=extend_schema(
        request=api.ComputeApprovalInput, responses={201: api.ComputeApprovalRow, 409: CONFLICT}
    )
)
class ApprovalViewSet(RowViewSet):
    """Each consortium's approvals of providers and sites (``?consortium=`` for one). The chair
    approves and revokes; a site is usable while it and its provider are approved."""

    scope_area = "compute"

    row_serializer = api.ComputeApprovalRow
    filterset_class = ApprovalFilter
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return permissions.visible_approvals(self.request.user)

    def get_object(self) -> Model:
        return permissions.get_approval_for(self.request.user, self.kwargs["pk"])

    def create(self, request: Request) -> Response:
        fields = self.validated(api.ComputeApprovalInput)
        consortium = consortium_permissions.get_consortium_for(
            request.user, fields.pop("consortium")
        )
        # The right before the provider or site is looked up: a reader gets 403 whatever
        # they sent.
        permissions.require(request.user, ComputeAction.APPROVE_SITES, consortium.pk)
        provider_id, site_id = fields.pop("provider"), fields.pop("site")
        approval = directory.approve(
            actor=acting_user(request),
            consortium=consortium,
            provider=queries.provider_by_id(provider_id) if provider_id else None,
            site=queries.site_by_id(site_id) if site_id else None,
            **fields,
        )
        return self.row_response(approval, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=api.ComputeReasonInput, responses={200: api.ComputeApprovalRow, 409: CONFLICT}
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str) -> Response:
        """Revoke the approval from now, saying why."""
        approval = permissions.get_approval_for(request.user, pk, ComputeAction.APPROVE_SITES)
        directory.approval_revoke(
            actor=acting_user(request),
            approval=approval,
            reason=self.validated(api.ComputeReasonInput)["reason"],
        )
        return self.row_response(approval)


# Pools.


@extend_schema_view(
    create=extend_schema(
        request=api.ComputePoolCreateInput, responses={201: api.ComputePoolDetail}
    ),
    partial_update=extend_schema(
        request=api.ComputePoolSettingsInput, responses=api.ComputePoolDetail
    ),
)
class PoolViewSet(RowViewSet):
    """GPU pools of the consortia the caller sees: capacity over time, the contribution ledger
    and the shares it sets, fair share, statements and usage. The chair sets pools up and
    records contributions; the capacity board changes capacity; the board and technical
    people report usage."""

    scope_area = "compute"
    action_scopes = {"usage_ingest": "usage:write"}

    row_serializer = api.ComputePoolRow
    filterset_class = PoolFilter
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return permissions.visible_pools(self.request.user)

    def get_object(self) -> Model:
        return permissions.get_pool_for(self.request.user, self.kwargs["pk"])

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        # A refused ?format=csv statement still explains itself in JSON.
        if isinstance(getattr(self.request, "accepted_renderer", None), StatementCSVRenderer):
            self.request.accepted_renderer = renderers.JSONRenderer()
            self.request.accepted_media_type = "application/json"
        return response

    def _detail(self, pool: Pool, status_code: int = 200) -> Response:
        payload = queries.pool_detail(pool)
        payload["shares"] = api.ComputeShareOut(payload["shares"], many=True).data
        return Response(api.ComputePoolDetail(payload).data, status=status_code)

    @extend_schema(responses=api.ComputePoolDetail)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(permissions.get_pool_for(request.user, kwargs["pk"]))

    def create(self, request: Request) -> Response:
        fields = self.validated(api.ComputePoolCreateInput)
        consortium = consortium_permissions.get_consortium_for(
            request.user, fields.pop("consortium")
        )
        permissions.require(request.user, ComputeAction.MANAGE_POOLS, consortium.pk)
        chosen = fields.pop("sites")
        sites = queries.sites_by_ids([item["site"] for item in chosen])
        pool = pools.pool_create(
            actor=acting_user(request),
            consortium=consortium,
            sites=sites,
            initial_gpus={item["site"]: item["gpus"] for item in chosen},
            **fields,
        )
        return self._detail(pool, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        pool = permissions.get_pool_for(request.user, pk, ComputeAction.MANAGE_POOLS)
        fields = self.validated(api.ComputePoolSettingsInput, partial=True)
        if not fields:
            raise ValidationError(
                {
                    "non_field_errors": "Send at least one setting to change: "
                    + ", ".join(pools.SETTINGS)
                    + "."
                }
            )
        return self._detail(pools.pool_update(actor=acting_user(request), pool=pool, **fields))

    @extend_schema(request=api.ComputePoolAddSiteInput, responses={201: api.ComputePoolDetail})
    @action(detail=True, methods=["post"])
    def sites(self, request: Request, pk: str) -> Response:
        """Add an approved site to the pool, with its capacity from ``effective_at``."""
        pool = permissions.get_pool_for(request.user, pk, ComputeAction.MANAGE_POOLS)
        fields = self.validated(api.ComputePoolAddSiteInput)
        pools.pool_add_site(
            actor=acting_user(request),
            pool=pool,
            site=queries.site_by_id(fields["site"]),
            gpus=fields["gpus"],
            effective_at=fields["effective_at"] or timezone.now().replace(microsecond=0),
        )
        return self._detail(pool, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "from", OpenApiTypes.DATETIME, description="Default: now (a day means 00:00 UTC)."
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATETIME, description="Default: 30 days later; 400 at most."
            ),
        ],
        responses=api.ComputeCapacityWindowOut,
    )
    @action(detail=True, methods=["get"])
    def capacity(self, request: Request, pk: str) -> Response:
        """Each site's capacity and reserved GPUs over a window, as steps."""
        pool = permissions.get_pool_for(request.user, pk)
        start = _instant_param(request, "from") or timezone.now().replace(microsecond=0)
        if start > datetime.datetime.max.replace(tzinfo=datetime.UTC) - MAX_CAPACITY_WINDOW:
            raise ValidationError({"from": "The window starts before the year 9999."})
        end = _instant_param(request, "to") or start + DEFAULT_CAPACITY_WINDOW
        if end <= start:
            raise ValidationError({"to": "The window ends after it starts."})
        if end - start > MAX_CAPACITY_WINDOW:
            raise ValidationError({"to": "Ask for 400 days at most at a time."})
        return Response(
            api.ComputeCapacityWindowOut(queries.capacity_window(pool, start, end)).data
        )

    @extend_schema(
        request=api.ComputeCapacityInput,
        responses={201: api.ComputeCapacityChangeOut, 409: CONFLICT},
    )
    @capacity.mapping.post
    def capacity_change(self, request: Request, pk: str) -> Response:
        """From ``effective_at`` the site has ``gpus`` GPUs in the pool. Lowering it below what
        is reserved is refused (409), naming the reservations in the way."""
        pool = permissions.get_pool_for(request.user, pk, ComputeAction.CHANGE_CAPACITY)
        fields = self.validated(api.ComputeCapacityInput)
        change = capacity_services.capacity_change(
            actor=acting_user(request),
            pool=pool,
            site=queries.site_by_id(fields.pop("site")),
            **fields,
        )
        return Response(api.ComputeCapacityChangeOut(change).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=api.ComputeContributionRow(many=True))
    @action(detail=True, methods=["get"])
    def contributions(self, request: Request, pk: str) -> Response:
        """The pool's contribution ledger, latest first. Entries are never edited: a mistake
        is corrected by a negative entry naming the one it corrects."""
        pool = permissions.get_pool_for(request.user, pk)
        rows = queries.contribution_ledger(request.user, pool).values(
            *api.ComputeContributionRow.columns()
        )
        page = self.paginate_queryset(rows)
        assert page is not None, "every list is paginated"
        return self.get_paginated_response(api.ComputeContributionRow(page, many=True).data)

    @extend_schema(
        request=api.ComputeContributionInput, responses={201: api.ComputeContributionRow}
    )
    @contributions.mapping.post
    def contribution_record(self, request: Request, pk: str) -> Response:
        """Record money or in-kind GPU-hours a member put in; shares follow the ledger."""
        pool = permissions.get_pool_for(request.user, pk, ComputeAction.RECORD_CONTRIBUTIONS)
        fields = self.validated(api.ComputeContributionInput)
        site_id, corrects_id = fields.pop("site"), fields.pop("corrects")
        contribution = share_services.contribution_record(
            actor=acting_user(request),
            pool=pool,
            organisation=queries.organisation_of_consortium(
                pool.consortium_id, fields.pop("organisation"), "organisation"
            ),
            site=queries.site_by_id(site_id) if site_id else None,
            corrects=queries.contribution_of_pool(pool, corrects_id) if corrects_id else None,
            **fields,
        )
        row = (
            queries.contribution_ledger(request.user, pool)
            .filter(pk=contribution.pk)
            .values(*api.ComputeContributionRow.columns())
            .get()
        )
        return Response(api.ComputeContributionRow(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("on", OpenApiTypes.DATE, description="Default: today.")],
        responses=api.ComputePoolFairShareOut,
    )
    @action(detail=True, methods=["get"], url_path="fair-share")
    def fair_share(self, request: Request, pk: str) -> Response:
        """Each member's fair share of the pool on a day, most under-served first."""
        pool = permissions.get_pool_for(request.user, pk)
        on = _day_param(request, "on") or timezone.localdate()
        members = fairshare.fair_share(pool, on)
        return Response(
            api.ComputePoolFairShareOut({"pool": pool.pk, "on": on, "members": members}).data
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("consortium", int, required=True),
            OpenApiParameter("on", OpenApiTypes.DATE, description="Default: today."),
        ],
        responses=api.ComputeConsortiumFairShareOut,
    )
    @action(detail=False, methods=["get"], url_path="fair-share-across")
    def fair_share_across(self, request: Request) -> Response:
        """Each member's fair share over all of a consortium's pools together."""
        consortium_id = request.query_params.get("consortium", "").strip()
        if not consortium_id.isdigit():
            raise ValidationError({"consortium": "Name the consortium: ?consortium=<id>."})
        consortium = consortium_permissions.get_consortium_for(request.user, consortium_id)
        permissions.require(request.user, ComputeAction.VIEW, consortium.pk)
        on = _day_param(request, "on") or timezone.localdate()
        members = fairshare.fair_share_across_pools(consortium, on)
        return Response(
            api.ComputeConsortiumFairShareOut(
                {"consortium": consortium.pk, "on": on, "members": members}
            ).data
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "organisation", int, description="Default: the caller's own organisation."
            ),
            OpenApiParameter(
                "period",
                str,
                description="2026-03 (a month) or 2026-Q1 (a quarter). Default: this month.",
            ),
            OpenApiParameter("format", str, enum=["json", "csv"]),
        ],
        responses={
            (200, "application/json"): api.ComputeStatementOut,
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[renderers.JSONRenderer, StatementCSVRenderer],
    )
    def statement(self, request: Request, pk: str) -> Response | HttpResponse:
        """A member's statement for a month or a quarter: entitlement, reserved, used, lent,
        borrowed and the balance. For the member's own people, the chair, the capacity board
        and auditors. ``?format=csv`` for a spreadsheet."""
        pool = permissions.get_pool_for(request.user, pk)
        user = acting_user(request)
        organisation_id = request.query_params.get("organisation", "").strip()
        if organisation_id and not organisation_id.isdigit():
            raise ValidationError({"organisation": "Name the organisation by its id."})
        if not organisation_id and user.organisation_id is None:
            raise ValidationError({"organisation": "Name the organisation: ?organisation=<id>."})
        organisation = queries.organisation_of_consortium(
            pool.consortium_id, int(organisation_id or user.organisation_id or 0), "organisation"
        )
        if not permissions.can_read_statement(user, pool.consortium_id, organisation.pk):
            raise AccessDeniedError(
                "A member's statement is for its own people, the chair, the capacity board "
                "and auditors.",
                consortium_id=pool.consortium_id,
                object_type="compute.pool",
                object_id=str(pool.pk),
                action=ComputeAction.VIEW_ALL_STATEMENTS.value,
            )
        period = request.query_params.get("period", "").strip() or timezone.localdate().strftime(
            "%Y-%m"
        )
        try:
            start, end, label = statements.parse_period(period)
        except ValueError as error:
            raise ValidationError({"period": str(error)}) from None
        result = statements.statement(pool, organisation, start, end, label=label)
        if request.accepted_renderer.format == "csv":
            response = HttpResponse(
                statements.statement_csv(result), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = (
                f'attachment; filename="statement-pool{pool.pk}-org{organisation.pk}-{period}.csv"'
            )
            return response
        return Response(api.ComputeStatementOut(result).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("organisation", int),
            OpenApiParameter("site", int),
            OpenApiParameter("day_from", OpenApiTypes.DATE, description="From this day."),
            OpenApiParameter("day_to", OpenApiTypes.DATE, description="To this day, included."),
            OpenApiParameter("cursor", str),
            OpenApiParameter("page_size", int),
        ],
        responses=api.ComputeUsagePageOut,
    )
    @action(detail=True, methods=["get"])
    def usage(self, request: Request, pk: str) -> Response:
        """The usage ledger of the pool: one row per member, site and day, latest first, with
        the GPU-hours of all matching rows."""
        pool = permissions.get_pool_for(request.user, pk)
        filters = UsageFilter(
            request.query_params, queryset=queries.usage_of_pool(request.user, pool)
        )
        if not filters.is_valid():
            raise ValidationError(filters.errors)
        matching = filters.qs
        page = self.paginate_queryset(matching.values(*api.ComputeUsageRow.columns()))
        assert page is not None, "every list is paginated"
        response = self.get_paginated_response(api.ComputeUsageRow(page, many=True).data)
        response.data["total_gpu_hours"] = str(queries.total_gpu_hours(matching))
        return response

    @extend_schema(
        request=api.ComputeUsageInput,
        responses={200: api.ComputeUsageResultOut},
    )
    @usage.mapping.post
    def usage_ingest(self, request: Request, pk: str) -> Response:
        """Report daily usage: rows (or CSV) of organisation, site, day, gpu_hours. A row
        already reported is replaced, so re-sending a report changes nothing. One bad row
        refuses the batch, with every bad row named (400, on ``rows``)."""
        pool = permissions.get_pool_for(request.user, pk, ComputeAction.REPORT_USAGE)
        fields = self.validated(api.ComputeUsageInput)
        rows = fields["rows"] if "rows" in fields else usage_services.usage_from_csv(fields["csv"])
        result = usage_services.usage_ingest(actor=acting_user(request), pool=pool, rows=rows)
        return Response(
            api.ComputeUsageResultOut(
                {
                    "rows": result.rows,
                    "created": result.created,
                    "replaced": result.replaced,
                    "total_gpu_hours": result.total_gpu_hours,
                }
            ).data
        )


# Allocation requests and reservations.


@extend_schema_view(
    create=extend_schema(
        request=api.ComputeRequestCreateInput, responses={201: api.ComputeRequestDetail}
    )
)
class AllocationRequestViewSet(RowViewSet):
    """Requests for GPUs of a pool over a window. A member's people ask for their own
    organisation; the capacity board approves (all or part, which reserves the GPUs at once),
    rejects or asks for changes; a large grant goes to the steering committee's vote."""

    scope_area = "compute"

    row_serializer = api.ComputeRequestRow
    filterset_class = AllocationRequestFilter
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return permissions.visible_requests(self.request.user)

    def get_object(self) -> Model:
        return permissions.get_request_for(self.request.user, self.kwargs["pk"])

    def _detail(self, pk: Any, status_code: int = 200) -> Response:
        request = permissions.get_request_for(self.request.user, pk)
        row = self.rows(self.get_queryset().filter(pk=request.pk)).get()
        extras = queries.request_extras(
            self.request.user, request, api.ComputeReservationRow.columns()
        )
        payload = {
            **row,
            **extras,
            "gpu_hours": gpu_hours(request.gpus, request.starts_at, request.ends_at),
            "reservations": api.ComputeReservationRow(extras["reservations"], many=True).data,
        }
        return Response(api.ComputeRequestDetail(payload).data, status=status_code)

    @extend_schema(responses=api.ComputeRequestDetail)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(kwargs["pk"])

    def _terms(self, pool: Pool, fields: dict[str, Any]) -> dict[str, Any]:
        return {
            **fields,
            "sites": queries.sites_by_ids(fields["sites"]),
            "datasets": queries.datasets_by_ids(self.request.user, fields["datasets"]),
        }

    def create(self, request: Request) -> Response:
        fields = self.validated(api.ComputeRequestCreateInput)
        pool = permissions.get_pool_for(request.user, fields.pop("pool"), ComputeAction.REQUEST)
        allocation = allocations.request_submit(
            actor=acting_user(request), pool=pool, **self._terms(pool, fields)
        )
        return self._detail(allocation.pk, status.HTTP_201_CREATED)

    @extend_schema(
        request=api.ComputeDecisionInput,
        responses={200: api.ComputeRequestDetail, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str) -> Response:
        """The board's decision: approve (perhaps fewer GPUs or a shorter window), reject or
        request changes. Approving reserves the GPUs at once, or refuses (409) naming the
        tightest instant; a grant above the pool's threshold goes to the vote."""
        allocation = permissions.get_request_for(request.user, pk, ComputeAction.DECIDE)
        allocations.request_decide(
            actor=acting_user(request),
            request=allocation,
            **self.validated(api.ComputeDecisionInput),
        )
        return self._detail(pk)

    @extend_schema(
        request=api.ComputeRequestInput, responses={200: api.ComputeRequestDetail, 409: CONFLICT}
    )
    @action(detail=True, methods=["post"])
    def revise(self, request: Request, pk: str) -> Response:
        """Answer the board's request for changes with new terms; back to the board."""
        allocation = permissions.get_request_for(request.user, pk, ComputeAction.REQUEST)
        fields = self.validated(api.ComputeRequestInput)
        allocations.request_revise(
            actor=acting_user(request),
            request=allocation,
            **self._terms(allocation.pool, fields),
        )
        return self._detail(pk)

    @extend_schema(request=None, responses={200: api.ComputeRequestDetail, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        """Withdraw a request still waiting for the board."""
        allocation = permissions.get_request_for(request.user, pk, ComputeAction.REQUEST)
        allocations.request_withdraw(actor=acting_user(request), request=allocation)
        return self._detail(pk)


class ReservationViewSet(RowViewSet):
    """GPUs held for members at a site over a window (``?active_at=`` for those holding GPUs
    at an instant). The board, or the holder's people, release them."""

    scope_area = "compute"

    row_serializer = api.ComputeReservationRow
    filterset_class = ReservationFilter
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return permissions.visible_reservations(self.request.user)

    def get_object(self) -> Model:
        return permissions.get_reservation_for(self.request.user, self.kwargs["pk"])

    @extend_schema(
        request=api.ComputeReasonInput, responses={200: api.ComputeReservationRow, 409: CONFLICT}
    )
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str) -> Response:
        """Give the GPUs back from now, saying why."""
        reservation = permissions.get_reservation_for(request.user, pk)
        released = allocations.reservation_release(
            actor=acting_user(request),
            reservation=reservation,
            reason=self.validated(api.ComputeReasonInput)["reason"],
        )
        return self.row_response(released)


# Loans.


@extend_schema_view(
    create=extend_schema(request=api.ComputeLoanInput, responses={201: api.ComputeLoanRow})
)
class LoanViewSet(RowViewSet):
    """Members lending part of their entitlement to another member for a period. The
    lender's chair or steering representatives lend, and cancel before the loan starts."""

    scope_area = "compute"

    row_serializer = api.ComputeLoanRow
    filterset_class = LoanFilter
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return permissions.visible_loans(self.request.user)

    def get_object(self) -> Model:
        return permissions.get_loan_for(self.request.user, self.kwargs["pk"])

    def create(self, request: Request) -> Response:
        fields = self.validated(api.ComputeLoanInput)
        pool = permissions.get_pool_for(request.user, fields.pop("pool"), ComputeAction.LEND)
        loan = lending.loan_grant(
            actor=acting_user(request),
            pool=pool,
            borrower=queries.organisation_of_consortium(
                pool.consortium_id, fields.pop("borrower"), "borrower"
            ),
            **fields,
        )
        return self.row_response(loan, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: api.ComputeLoanRow, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Take the loan back before it starts."""
        loan = permissions.get_loan_for(request.user, pk, ComputeAction.LEND)
        return self.row_response(lending.loan_cancel(actor=acting_user(request), loan=loan))
