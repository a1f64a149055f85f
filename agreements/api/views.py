"""REST endpoints for agreements: the same selectors, services and policy as the pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpResponse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from agreements import asset_services, content, documents, sealing, selectors, services, signing
from agreements import permissions as policy
from agreements.api import serializers as api
from agreements.filters import AgreementFilter
from agreements.models import AgreementVersion, ClauseTemplate
from agreements.odrl import export as odrl_export
from agreements.permissions import AgreementAction
from agreements.redline import summary
from alliance.api.filters import InConsortiumFilter
from alliance.api.views import InputViewSet, RowViewSet
from alliance.auth import acting_user
from alliance.errors import ConflictError
from consortia import permissions as consortium_permissions
from consortia import selectors as consortium_selectors


def version_payload(version: AgreementVersion) -> dict[str, Any]:
    clauses = [
        {
            "id": item.clause.pk,
            "key": item.clause.key,
            "number": item.number,
            "position": item.clause.position,
            "level": item.clause.level,
            "kind": item.clause.kind,
            "heading": item.clause.heading,
            "body": item.clause.body,
            "html": content.render(item.clause.body),
        }
        for item in content.numbered(selectors.version_clauses(version))
    ]
    payload = api.VersionDetail(version).data
    return {
        **payload,
        "clauses": clauses,
        "approvals_missing": services.approvals_missing(version),
        "signing": signing_payload(version),
    }


def signing_payload(version: AgreementVersion) -> dict[str, Any]:
    state = signing.ceremony(version, None)
    out_for_signature = version.status == AgreementVersion.Status.OUT_FOR_SIGNATURE
    return api.SigningOut(
        {
            "signatures": state.signatures,
            "waiting_for": [party.pk for party in state.waiting] if out_for_signature else [],
            "document": selectors.signed_document(version),
        }
    ).data


@extend_schema_view(
    create=extend_schema(request=api.AgreementCreateInput, responses={201: api.AgreementDetail}),
    partial_update=extend_schema(request=api.AgreementUpdateInput, responses=api.AgreementDetail),
    retrieve=extend_schema(responses=api.AgreementDetail),
)
class AgreementViewSet(RowViewSet):
    """Agreements of the consortia the caller sees. Reading them is audited."""

    scope_area = "agreements"

    row_serializer = api.AgreementRow
    filterset_class = AgreementFilter
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.agreement_list(actor=self.request.user)

    def get_object(self) -> Model:
        return policy.get_agreement_for(self.request.user, self.kwargs["pk"])

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        filters = {key: value for key, value in request.query_params.items() if key != "cursor"}
        selectors.record_listing(
            actor=request.user, agreements=response.data["results"], filters=filters
        )
        return response

    def _detail(self, pk: Any, status_code: int = 200) -> Response:
        agreement = selectors.agreement_detail(actor=self.request.user, pk=pk)
        return Response(api.AgreementDetail(agreement).data, status=status_code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(kwargs["pk"])

    def create(self, request: Request) -> Response:
        fields = self.validated(api.AgreementCreateInput)
        consortium = consortium_permissions.get_consortium_for(
            request.user, fields.pop("consortium")
        )
        fields["governing_law"] = consortium_selectors.jurisdiction_by_code(
            code=fields["governing_law"]
        )
        agreement = services.agreement_create(
            actor=acting_user(request), consortium=consortium, **fields
        )
        return self._detail(agreement.pk, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        agreement = policy.get_agreement_for(request.user, pk, AgreementAction.DRAFT)
        fields = self.validated(api.AgreementUpdateInput, partial=True)
        if "governing_law" in fields:
            fields["governing_law"] = consortium_selectors.jurisdiction_by_code(
                code=fields["governing_law"]
            )
        services.agreement_update(actor=acting_user(request), agreement=agreement, **fields)
        return self._detail(pk)

    @extend_schema(request=api.PartyInput, responses={201: api.AgreementDetail})
    @action(detail=True, methods=["post"])
    def parties(self, request: Request, pk: str) -> Response:
        """Add a party: a member organisation in a role, with its signatory."""
        agreement = policy.get_agreement_for(request.user, pk, AgreementAction.DRAFT)
        fields = self.validated(api.PartyInput)
        organisation = consortium_selectors.member_organisation(
            consortium_id=agreement.consortium_id, pk=fields["organisation"]
        )
        signatory = (
            consortium_selectors.person_of(organisation=organisation, username=fields["signatory"])
            if fields.get("signatory")
            else None
        )
        services.party_add(
            actor=acting_user(request),
            agreement=agreement,
            organisation=organisation,
            role=fields["role"],
            signatory=signatory,
            signing_order=fields["signing_order"],
        )
        return self._detail(pk, status.HTTP_201_CREATED)

    @extend_schema(request=api.NoteInput, responses={201: api.VersionDetail})
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request: Request, pk: str) -> Response:
        """Start a new negotiation round (or an amendment) as a draft copy of the latest version."""
        agreement = policy.get_agreement_for(request.user, pk, AgreementAction.DRAFT)
        version = services.version_new(
            actor=acting_user(request),
            agreement=agreement,
            note=self.validated(api.NoteInput)["note"],
        )
        return Response(version_payload(version), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=api.AgreementDetail)
    @action(detail=True, methods=["post"], url_path="send-for-signature")
    def send_for_signature(self, request: Request, pk: str) -> Response:
        agreement = policy.get_agreement_for(request.user, pk, AgreementAction.MANAGE)
        services.agreement_send_for_signature(actor=acting_user(request), agreement=agreement)
        return self._detail(pk)

    @extend_schema(request=api.ChangeReasonInput, responses=api.AgreementDetail)
    @action(detail=True, methods=["post"])
    def terminate(self, request: Request, pk: str) -> Response:
        agreement = policy.get_agreement_for(request.user, pk, AgreementAction.MANAGE)
        services.agreement_terminate(
            actor=acting_user(request),
            agreement=agreement,
            reason=self.validated(api.ChangeReasonInput)["reason"],
        )
        return self._detail(pk)


class PartyViewSet(InputViewSet):
    """Remove a party from a draft agreement (add one through the agreement)."""

    scope_area = "agreements"

    lookup_value_converter = "int"

    http_method_names = ["delete", "options"]
    serializer_class = api.PartyOut

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        party = policy.get_party_for(request.user, pk, AgreementAction.DRAFT)
        services.party_remove(actor=acting_user(request), party=party)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VersionViewSet(InputViewSet):
    """A version's clauses (numbered, rendered), approvals, and its way through review."""

    scope_area = "agreements"

    lookup_value_converter = "int"

    serializer_class = api.VersionDetail
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(responses=api.VersionWithSigning)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(version_payload(selectors.version_detail(actor=request.user, pk=pk)))

    def current_state(self) -> Any:
        return _version_state(self.request, self.kwargs["pk"])

    def _then(self, version: AgreementVersion) -> Response:
        version.refresh_from_db()
        return Response(version_payload(version))

    @extend_schema(request=None, responses=api.VersionWithSigning)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        """Freeze the draft for review; its content hash is fixed."""
        version = policy.get_version_for(request.user, pk, AgreementAction.DRAFT)
        return self._then(services.version_submit(actor=acting_user(request), version=version))

    @extend_schema(request=api.ChangeReasonInput, responses=api.VersionWithSigning)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str) -> Response:
        """Back to draft for edits; every approval of this version is cleared."""
        version = policy.get_version_for(request.user, pk, AgreementAction.DRAFT)
        reason = self.validated(api.ChangeReasonInput)["reason"]
        return self._then(
            services.version_reopen(actor=acting_user(request), version=version, reason=reason)
        )

    @extend_schema(request=api.ApprovalInput, responses=api.VersionWithSigning)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        """Approve for your own party organisation, or (``steering``) for the steering committee."""
        version = policy.get_version_for(request.user, pk)
        fields = self.validated(api.ApprovalInput)
        services.approval_give(
            actor=acting_user(request),
            version=version,
            steering=fields["steering"],
            comment=fields["comment"],
        )
        return self._then(version)

    @extend_schema(request=None, responses=api.VersionWithSigning)
    @action(detail=True, methods=["post"], url_path="retry-seal")
    def retry_seal(self, request: Request, pk: str) -> Response:
        """Queue the rendering and sealing of the executed PDF again after it failed."""
        version = policy.get_version_for(request.user, pk, AgreementAction.MANAGE)
        sealing.retry(actor=acting_user(request), version=version)
        return self._then(version)

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str) -> HttpResponse:
        """The version as PDF: the sealed executed file, or a DRAFT-watermarked rendering."""
        version = selectors.version_detail(actor=request.user, pk=pk)
        name, data = documents.version_pdf(actor=request.user, version=version)
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @extend_schema(
        responses={
            (200, "application/ld+json"): dict,
            409: OpenApiResponse(description="The version is not executed (version_not_executed)."),
        }
    )
    @action(detail=True, methods=["get"])
    def odrl(self, request: Request, pk: str) -> Response:
        """The executed version's usage terms as an ODRL 2.2 JSON-LD Agreement."""
        version = selectors.version_detail(actor=request.user, pk=pk)
        try:
            document = odrl_export.export(version)
        except odrl_export.NotExecutedError as error:
            raise ConflictError(str(error), code="version_not_executed") from None
        return Response(document, content_type="application/ld+json")

    @extend_schema(
        parameters=[
            OpenApiParameter("against", int, required=True, description="The older version's id.")
        ]
    )
    @action(detail=True, methods=["get"])
    def redline(self, request: Request, pk: str) -> Response:
        """Clauses added, removed, moved and changed (word by word) since another version."""
        against = request.query_params.get("against", "")
        before, after, changes = selectors.version_redline(
            actor=request.user, before_pk=against, after_pk=pk
        )
        return Response(
            {
                "from": before.number,
                "to": after.number,
                "summary": summary(changes),
                "clauses": [change.as_dict() for change in changes],
            }
        )


def _version_state(request: Request, pk: Any) -> Any:
    """A version's payload as its reader sees it now, the version row locked; None when the
    caller cannot see it."""
    version = selectors.version_locked(actor=request.user, pk=pk)
    return None if version is None else version_payload(version)


@extend_schema_view(
    create=extend_schema(request=api.ClauseInput, responses={201: api.VersionDetail}),
    partial_update=extend_schema(request=api.ClauseUpdateInput, responses=api.VersionWithSigning),
)
class ClauseViewSet(InputViewSet):
    """Edit the clauses of a draft version: add (blank or from the library), change, move, delete."""

    scope_area = "agreements"

    lookup_value_converter = "int"

    serializer_class = api.ClauseOut
    http_method_names = ["post", "put", "patch", "delete", "options"]

    def current_state(self) -> Any:
        # A clause is edited as part of its version: If-Match carries the version's ETag
        # (from GET /agreement-versions/<id>/, or the last edit's answer), so an editor who
        # missed a colleague's change to any clause of the draft is told before overwriting.
        try:
            clause = policy.get_clause_for(self.request.user, self.kwargs["pk"])
        except (Http404, PermissionDenied):  # NotVisibleError and AccessDeniedError too
            return None
        return _version_state(self.request, clause.version_id)

    def get_object(self) -> Model:
        # OPTIONS on the terms (a PUT) asks for the object to describe the form: through the
        # policy, like every action here (the generic lookup needs a queryset, and crashed).
        return policy.get_clause_for(self.request.user, self.kwargs["pk"])

    def create(self, request: Request) -> Response:
        fields = self.validated(api.ClauseInput)
        version = policy.get_version_for(request.user, fields.pop("version"), AgreementAction.DRAFT)
        slug = fields.pop("template", None)
        template = (
            selectors.clause_library(actor=request.user).filter(slug=slug).first() if slug else None
        )
        if slug and template is None:
            raise Http404("No library clause has this slug.")
        services.clause_add(
            actor=acting_user(request), version=version, template=template, **fields
        )
        return Response(version_payload(version), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        clause = policy.get_clause_for(request.user, pk, AgreementAction.DRAFT)
        services.clause_update(
            actor=acting_user(request),
            clause=clause,
            **self.validated(api.ClauseUpdateInput, partial=True),
        )
        return Response(version_payload(clause.version))

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        clause = policy.get_clause_for(request.user, pk, AgreementAction.DRAFT)
        services.clause_delete(actor=acting_user(request), clause=clause)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=api.TermsInput, responses=api.VersionWithSigning)
    @action(detail=True, methods=["put"])
    def terms(self, request: Request, pk: str) -> Response:
        """Set (or, with null, remove) the structured usage terms of a data usage clause."""
        clause = policy.get_clause_for(request.user, pk, AgreementAction.DRAFT)
        asset_services.clause_set_terms(
            actor=acting_user(request), clause=clause, terms=self.validated(api.TermsInput)["terms"]
        )
        return Response(version_payload(clause.version))

    @extend_schema(request=api.MoveInput, responses=api.VersionWithSigning)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str) -> Response:
        clause = policy.get_clause_for(request.user, pk, AgreementAction.DRAFT)
        services.clause_move(
            actor=acting_user(request),
            clause=clause,
            position=self.validated(api.MoveInput)["position"],
        )
        return Response(version_payload(clause.version))


class ClauseTemplateViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    """The clause library: reusable clauses with ``${placeholders}``."""

    scope_area = "agreements"
    serializer_class = api.ClauseTemplateOut
    lookup_field = "slug"
    lookup_value_converter = "slug"
    pagination_class = None

    def get_queryset(self) -> QuerySet[ClauseTemplate]:
        return selectors.clause_library(actor=self.request.user)


@extend_schema_view(create=extend_schema(request=api.DatasetInput, responses={201: api.DatasetRow}))
class DatasetViewSet(RowViewSet):
    """Data sets of the consortia the caller sees, with the usage terms in force on each.
    Reading one is audited."""

    scope_area = "agreements"

    row_serializer = api.DatasetRow
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[Any]:
        queryset = selectors.dataset_list(actor=self.request.user)
        consortium = self.request.query_params.get("consortium", "")
        return queryset.filter(consortium_id=int(consortium)) if consortium.isdigit() else queryset

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        dataset, clauses = selectors.dataset_detail(actor=request.user, pk=kwargs["pk"])
        row = self.rows(self.get_queryset().filter(pk=dataset.pk)).get()
        in_force = [
            {
                "agreement": clause.version.agreement_id,
                "version": clause.version.number,
                "clause": clause.pk,
                "terms": clause.terms,
            }
            for clause in clauses
        ]
        return Response({**api.DatasetRow(row).data, "terms_in_force": in_force})

    def create(self, request: Request) -> Response:
        fields = self.validated(api.DatasetInput)
        consortium = consortium_permissions.get_consortium_for(
            request.user, fields.pop("consortium")
        )
        fields["owner"] = consortium_selectors.member_organisation(
            consortium_id=consortium.pk, pk=fields["owner"]
        )
        fields["residency"] = consortium_selectors.jurisdiction_by_code(
            code=fields["residency"], field="residency"
        )
        dataset = asset_services.dataset_create(
            actor=acting_user(request), consortium=consortium, **fields
        )
        return self.row_response(dataset, status=status.HTTP_201_CREATED)


def _asset_payload(asset: Any) -> dict[str, Any]:
    asset.derived_from_ids = sorted(parent.pk for parent in asset.derived_from.all())
    restrictions = [
        {
            "source_asset": item.source.pk,
            "agreement": item.clause.version.agreement_id,
            "version": item.clause.version.number,
            "clause": item.clause.heading,
            "terms": item.clause.terms,
        }
        for item in asset_services.inherited_restrictions(asset)
    ]
    return {**api.IPAssetOut(asset).data, "inherited_restrictions": restrictions}


class IPAssetViewSet(InputViewSet):
    """The IP register: assets, owners with shares (each set totals 100%), lineage, and the
    restrictions a derived asset inherits from the data it comes from."""

    scope_area = "agreements"

    serializer_class = api.IPAssetDetail
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_converter = "int"
    filterset_class = InConsortiumFilter
    cursor_ordering = ("consortium_id", "name", "id")

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.ip_asset_list(actor=self.request.user)

    @extend_schema(responses=api.IPAssetOut(many=True))
    def list(self, request: Request) -> Response:
        assets = self.page_of(self.get_queryset())
        for asset in assets:
            asset.derived_from_ids = sorted(parent.pk for parent in asset.derived_from.all())
        return self.get_paginated_response(api.IPAssetOut(assets, many=True).data)

    @extend_schema(responses=api.IPAssetDetail)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(_asset_payload(selectors.ip_asset_detail(actor=request.user, pk=pk)))

    @extend_schema(request=api.IPAssetInput, responses={201: api.IPAssetDetail})
    def create(self, request: Request) -> Response:
        fields = self.validated(api.IPAssetInput)
        consortium = consortium_permissions.get_consortium_for(
            request.user, fields.pop("consortium")
        )
        shares = _shares(consortium.pk, fields.pop("shares"))
        agreement_id, dataset_id = (
            fields.pop("governing_agreement", None),
            fields.pop("dataset", None),
        )
        asset = asset_services.ip_asset_create(
            actor=acting_user(request),
            consortium=consortium,
            shares=shares,
            governing_agreement=policy.get_agreement_for(request.user, agreement_id)
            if agreement_id
            else None,
            dataset=policy.get_dataset_for(request.user, dataset_id) if dataset_id else None,
            derived_from=[
                policy.get_ip_asset_for(request.user, parent)
                for parent in fields.pop("derived_from")
            ],
            **fields,
        )
        return Response(
            _asset_payload(selectors.ip_asset_detail(actor=request.user, pk=asset.pk)),
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=api.SharesInput, responses=api.IPAssetDetail)
    @action(detail=True, methods=["post"])
    def owners(self, request: Request, pk: str) -> Response:
        """Replace the owners; shares and revenue shares must each total exactly 100%."""
        asset = policy.get_ip_asset_for(request.user, pk)
        shares = _shares(asset.consortium_id, self.validated(api.SharesInput)["shares"])
        asset_services.ip_asset_set_owners(actor=acting_user(request), asset=asset, shares=shares)
        return Response(_asset_payload(selectors.ip_asset_detail(actor=request.user, pk=pk)))


def _shares(consortium_id: int, rows: list[dict[str, Any]]) -> list[asset_services.Share]:
    return [
        asset_services.Share(
            consortium_selectors.member_organisation(
                consortium_id=consortium_id, pk=row["organisation"]
            ),
            row["share"],
            row["revenue_share"],
        )
        for row in rows
    ]
