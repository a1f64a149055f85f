"""The compliance gate for pipelines: ask whether a job may run, and read the decision log.

``POST /compliance/decisions/`` decides a job (its fields, or ``"job": <id>`` of a proposed
one) and stores the decision; ``?explain=true`` also lists every rule checked. A deny is an
answer like any other (201, ``outcome: "deny"``), never an error. ``POST .../batch/`` decides
up to 100 jobs in one go, all stored, results in order; one bad job refuses the whole batch
(400 naming its index and field) and stores nothing.

Members whose role requests capacity or reports usage decide and propose; every reader of a
consortium reads its log; outside the consortium every object answers 404, and a read-only
role gets 403 on any write, whatever it sent. Ids in a body that the caller cannot see
(another consortium's dataset or model) are bad input: 400 on the field.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from alliance.api.exceptions import validation_error_detail
from alliance.api.serializers import RowSerializer
from alliance.api.views import RowViewSet
from alliance.auth import acting_user
from alliance.compiled import read_together
from compute import compliance_selectors as selectors
from compute import permissions
from compute.api import compliance_serializers as api
from compute.api import queries
from compute.compliance import federation, services
from compute.compliance.models import Decision, Job
from consortia import permissions as consortium_permissions
from consortia.models import Consortium, User

EXPLAIN = OpenApiParameter(
    "explain",
    OpenApiTypes.BOOL,
    description="true: the answer (and the stored decision) lists every rule checked.",
)
FRAMEWORK = OpenApiParameter(
    "framework",
    str,
    required=True,
    enum=list(federation.FRAMEWORKS),
    description="flare: a FLARE job meta.json; flower: a SuperLink allow-list of node public "
    "keys (CSV); openfl: an OpenFL cols.yaml.",
)
REFUSED = OpenApiResponse(
    description="Refused by the current state (code not_federated, job_not_allowed, "
    "missing_public_key, ...); the body says why."
)
TRUE, FALSE = frozenset({"true", "1", "yes"}), frozenset({"", "false", "0", "no"})


def _explain(request: Request) -> bool:
    value = request.query_params.get("explain", "").strip().lower()
    if value not in TRUE | FALSE:
        raise ValidationError({"explain": "Write explain=true or explain=false."})
    return value in TRUE


def _spec(user: User, consortium: Consortium, fields: dict[str, Any]) -> dict[str, Any]:
    """The job's fields for the services, with the ids the caller cannot see refused here
    (400 on the field, the same answer as an id that does not exist)."""
    organisation = fields.pop("organisation", None)
    if organisation is not None and organisation != user.organisation_id:
        raise ValidationError(
            {"organisation": "A job is asked for by your own organisation: leave this empty."}
        )
    spec = {name: fields[name] for name in api.SPEC_FIELDS if name in fields}
    spec["datasets"] = queries.datasets_by_ids(user, spec.get("datasets") or [])
    if spec.get("model") is not None:
        spec["model"] = selectors.visible_model_by_id(user, spec["model"])
    return spec


def _consortium_and_spec(user: User, fields: dict[str, Any]) -> tuple[Consortium, dict[str, Any]]:
    """The consortium a body names, if the user may check jobs there, and the job's fields.

    The right comes before anything in the body is looked up: a reader gets 403 whatever it
    sent. The data sets are read in the same round trip as the standing all the same (a
    pipeline calls this on every run) and only looked at once the right is granted."""
    pk = fields.pop("consortium")
    with read_together(
        consortium_permissions.standing_read(user, pk),
        queries.datasets_read(fields.get("datasets") or []),
    ):
        consortium = consortium_permissions.get_bare_consortium_for(user, pk)
        selectors.require_check_jobs(user, consortium.pk)
        return consortium, _spec(user, consortium, fields)


def decide_one(user: User, fields: dict[str, Any], *, explain: bool) -> Decision:
    """Decide one job of a request body (its fields or a proposed job's id) and store it."""
    fields = dict(fields)
    job_id, at = fields.pop("job", None), fields.pop("at", None)
    if job_id is not None:
        job = selectors.visible_job_by_id(user, job_id)
        selectors.require_check_jobs(user, job.consortium_id)
        return services.decide_and_record(
            actor=user, consortium=job.consortium, spec_or_job=job, at=at, explain=explain
        )
    consortium, spec = _consortium_and_spec(user, fields)
    return services.decide_and_record(
        actor=user, consortium=consortium, spec_or_job=spec, at=at, explain=explain
    )


def _by_index(errors: Any) -> Any:
    """A list serializer's errors ([{}, {...}]) as {index: errors} for the jobs that have any."""
    if isinstance(errors, list):
        return {str(index): error for index, error in enumerate(errors) if error}
    return errors


@extend_schema_view(
    list=extend_schema(summary="The decision log of the consortia the caller sees."),
    retrieve=extend_schema(
        summary="One decision, with the facts it saw and the digest of its rules.",
        responses=api.ComplianceDecisionDetail,
    ),
)
class ComplianceDecisionViewSet(RowViewSet):
    """Decisions of the compliance engine, newest first. Decisions are never changed."""

    scope_area = "compliance"
    # Asking for a decision is its own scope: a pipeline's gate needs no other write.
    action_scopes = {"create": "compliance:decide", "batch": "compliance:decide"}

    row_serializer = api.ComplianceDecisionRow
    filterset_class = selectors.DecisionFilter
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return permissions.visible_decisions(self.request.user)

    def get_object(self) -> Model:
        return permissions.get_decision_for(self.request.user, self.kwargs["pk"])

    def _result(self, decision: Decision, serializer: type[RowSerializer]) -> dict[str, Any]:
        row = self.get_queryset().filter(pk=decision.pk).values(*serializer.columns()).get()
        return dict(serializer(row).data)

    @staticmethod
    def _written(decision: Decision, serializer: type[RowSerializer]) -> dict[str, Any]:
        """A decision just stored, as the serializer shows it, without reading it back: the
        gate answers pipelines on their critical path."""

        def value(column: str) -> Any:
            found: Any = decision
            for part in column.split("__"):
                found = getattr(found, part) if found is not None else None
            return found

        return dict(serializer({column: value(column) for column in serializer.columns()}).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        decision = permissions.get_decision_for(request.user, kwargs["pk"])
        return Response(self._result(decision, api.ComplianceDecisionDetail))

    @extend_schema(
        summary="Decide a job and store the decision.",
        parameters=[EXPLAIN],
        request=api.ComplianceDecisionInput,
        responses={201: api.ComplianceDecisionResult},
    )
    def create(self, request: Request) -> Response:
        explain = _explain(request)
        fields = self.validated(api.ComplianceDecisionInput)
        decision = decide_one(acting_user(request), fields, explain=explain)
        return Response(
            self._written(decision, api.ComplianceDecisionResult), status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Decide up to 100 jobs; one result per job, in order, each stored.",
        parameters=[EXPLAIN],
        request=api.ComplianceBatchInput,
        responses={201: api.ComplianceBatchOut},
    )
    @action(detail=False, methods=["post"])
    def batch(self, request: Request) -> Response:
        explain = _explain(request)
        serializer = api.ComplianceBatchInput(data=request.data)
        if not serializer.is_valid():
            errors = dict(serializer.errors)
            if "jobs" in errors:
                errors["jobs"] = _by_index(errors["jobs"])
            raise serializers.ValidationError(errors)
        user = acting_user(request)
        decisions: list[Decision] = []
        # All or nothing: a bad job anywhere in the batch stores none of them.
        with transaction.atomic():
            for index, fields in enumerate(serializer.validated_data["jobs"]):
                try:
                    decisions.append(decide_one(user, fields, explain=explain))
                except ValidationError as error:
                    raise serializers.ValidationError(
                        {"jobs": {str(index): validation_error_detail(error)}}
                    ) from None
        results = [self._written(decision, api.ComplianceDecisionResult) for decision in decisions]
        return Response({"results": results}, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Proposed jobs of the consortia the caller sees."),
    retrieve=extend_schema(summary="One job.", responses=api.ComplianceJobDetail),
    create=extend_schema(
        summary="Propose a job of the caller's organisation.",
        request=api.ComplianceJobInput,
        responses={201: api.ComplianceJobDetail},
    ),
)
class ComplianceJobViewSet(RowViewSet):
    """Jobs proposed for a consortium's data: what, where, why, when, where outputs go."""

    scope_area = "compliance"
    action_scopes = {"decide": "compliance:decide"}

    row_serializer = api.ComplianceJobRow
    filterset_class = selectors.JobFilter
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return permissions.visible_jobs(self.request.user)

    def get_object(self) -> Model:
        return permissions.get_job_for(self.request.user, self.kwargs["pk"])

    def _detail(self, job: Job, status_code: int = 200) -> Response:
        row = self.rows(self.get_queryset().filter(pk=job.pk)).get()
        payload = {**row, **selectors.job_extras(job)}
        return Response(api.ComplianceJobDetail(payload).data, status=status_code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(permissions.get_job_for(request.user, kwargs["pk"]))

    def create(self, request: Request) -> Response:
        fields = self.validated(api.ComplianceJobInput)
        user = acting_user(request)
        consortium, spec = _consortium_and_spec(user, fields)
        job = services.job_propose(actor=user, consortium=consortium, **spec)
        return self._detail(job, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Decide the job now (or at ``at``) and store the decision.",
        parameters=[EXPLAIN],
        request=api.ComplianceDecideInput,
        responses={201: api.ComplianceDecisionResult},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str) -> Response:
        explain = _explain(request)
        user = acting_user(request)
        job = permissions.get_job_for(user, pk)
        selectors.require_check_jobs(user, job.consortium_id)
        fields = self.validated(api.ComplianceDecideInput)
        decision = services.decide_and_record(
            actor=user, consortium=job.consortium, spec_or_job=job, at=fields["at"], explain=explain
        )
        row = (
            permissions.visible_decisions(user)
            .filter(pk=decision.pk)
            .values(*api.ComplianceDecisionResult.columns())
            .get()
        )
        return Response(api.ComplianceDecisionResult(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The job's allowed participants as a FLARE, Flower or OpenFL file.",
        parameters=[FRAMEWORK],
        responses={
            (200, "application/json"): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/yaml"): OpenApiTypes.BINARY,
            409: REFUSED,
        },
    )
    @action(detail=True, methods=["get"])
    def federation(self, request: Request, pk: str) -> HttpResponse:
        """The job, evaluated now, as the participant configuration of a federated-learning
        framework: only the sites the decision allows (and the aggregation site as the
        server), so the framework cannot reach any other. 409 when the job is not federated
        or not allowed now; for those who may check jobs; audited."""
        user = acting_user(request)
        job = permissions.get_job_for(user, pk)
        selectors.require_check_jobs(user, job.consortium_id)
        framework = request.query_params.get("framework", "").strip().lower()
        if framework not in federation.FRAMEWORKS:
            raise ValidationError(
                {"framework": f"Choose one of {', '.join(federation.FRAMEWORKS)}."}
            )
        exported = federation.job_federation_export(actor=user, job=job, framework=framework)
        response = HttpResponse(exported.text, content_type=exported.content_type)
        response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
        return response
