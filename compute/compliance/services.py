"""Proposing jobs and recording the engine's decisions about them.

``evaluate`` reads (gather the facts, decide); ``job_propose`` and ``decide_and_record``
write, each in one transaction with its audit event. Bad input raises a ValidationError that
names the field, and writes nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from agreements.models import Dataset, IPAsset
from agreements.terms import ACTIONS, PURPOSES
from alliance.errors import AccessDeniedError
from audit.models import Action
from audit.services import (
    Precondition,
    PreconditionNotMetError,
    audit_record,
    audit_record_inserting,
)
from compute import permissions
from compute.compliance import decide as decide_module
from compute.compliance import facts as facts_module
from compute.compliance import generation, rules_cache, sources
from compute.compliance.facts import JobSpec
from compute.compliance.models import Decision, Job, Movement
from compute.compliance.reasons import Decision as Verdict
from compute.compliance.sources import FactSource, RuleBook
from compute.models import Site
from consortia.models import Consortium, Jurisdiction, Membership, User

SPEC_FIELDS = frozenset(
    {
        "name",
        "datasets",
        "model",
        "sites",
        "purpose",
        "action",
        "movement",
        "output_jurisdiction",
        "output_site",
        "starts_at",
        "ends_at",
        "aggregation_site",
        "secure_aggregation",
        "dp_epsilon",
    }
)


def evaluate(job_or_spec: Job | JobSpec, at: datetime.datetime) -> Verdict:
    """The decision for a stored job or a what-if at ``at``: gather the facts, then decide."""
    spec = JobSpec.from_job(job_or_spec) if isinstance(job_or_spec, Job) else job_or_spec
    return decide_module.decide(sources.gather(spec, at))


def _require_job_rights(actor: User, consortium: Consortium) -> None:
    rights = permissions.rights(actor, consortium.pk)
    if not rights & {permissions.ComputeAction.REQUEST, permissions.ComputeAction.REPORT_USAGE}:
        raise AccessDeniedError(
            "You may not propose or check jobs here.",
            consortium_id=consortium.pk,
            object_type="consortia.consortium",
            object_id=str(consortium.pk),
            action="propose_job",
        )


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, Iterable) and not isinstance(value, str | bytes) else []


def _ids(value: Any) -> list[Any]:
    return [getattr(item, "pk", item) for item in _items(value)]


def _existing_sites(ids: set[int], rules: RuleBook | None) -> set[int]:
    if rules is not None:
        return {pk for pk in ids if rules.sites.get(pk) is not None}
    return set(Site.objects.filter(pk__in=ids).values_list("pk", flat=True))


def _jurisdiction_exists(code: str, rules: RuleBook | None) -> bool:
    if rules is not None:
        return code in rules.jurisdictions
    return Jurisdiction.objects.filter(pk=code).exists()


def _clean(
    consortium: Consortium, spec: Mapping[str, Any], rules: RuleBook | None = None
) -> dict[str, Any]:
    """The job's fields, checked against the consortium; a ValidationError names every bad
    field. Sites and jurisdictions are looked up in ``rules`` when a decision has them, since
    the book of rules holds every one of them."""
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if unknown := sorted(set(spec) - SPEC_FIELDS):
        error("spec", f"Unknown fields: {', '.join(unknown)}.")

    dataset_ids = _ids(spec.get("datasets"))
    # The API hands over the data sets it already read (those the caller sees): not read twice.
    given = {item.pk: item for item in _items(spec.get("datasets")) if isinstance(item, Dataset)}
    to_read = [i for i in dataset_ids if isinstance(i, int) and i not in given]
    datasets = [*given.values(), *(Dataset.objects.filter(pk__in=to_read) if to_read else [])]
    if not dataset_ids:
        error("datasets", "Name at least one dataset.")
    found = {dataset.pk: dataset for dataset in datasets}
    if missing := [str(i) for i in dataset_ids if i not in found]:
        error("datasets", f"Unknown datasets: {', '.join(missing)}.")
    if foreign := [d.name for d in datasets if d.consortium_id != consortium.pk]:
        error("datasets", f"Not datasets of this consortium: {', '.join(foreign)}.")

    site_ids = _ids(spec.get("sites"))
    named_sites = {
        "output_site": getattr(spec.get("output_site"), "pk", spec.get("output_site")),
        "aggregation_site": getattr(
            spec.get("aggregation_site"), "pk", spec.get("aggregation_site")
        ),
    }
    wanted = {i for i in [*site_ids, *named_sites.values()] if isinstance(i, int)}
    sites = _existing_sites(wanted, rules)
    if not site_ids:
        error("sites", "Name at least one site.")
    if missing := [str(i) for i in site_ids if i not in sites]:
        error("sites", f"Unknown sites: {', '.join(missing)}.")
    for field, pk in named_sites.items():
        if pk is not None and pk not in sites:
            error(field, f"Unknown site: {pk}.")

    model_id = getattr(spec.get("model"), "pk", spec.get("model"))
    model = IPAsset.objects.filter(pk=model_id).first() if isinstance(model_id, int) else None
    if model_id is not None and model is None:
        error("model", f"Unknown model: {model_id}.")
    elif model is not None and model.consortium_id != consortium.pk:
        error("model", "Not a model of this consortium.")

    purpose, action, movement = spec.get("purpose"), spec.get("action"), spec.get("movement")
    if purpose not in PURPOSES:
        error("purpose", f"Unknown purpose; choose from {', '.join(PURPOSES)}.")
    if action not in ACTIONS:
        error("action", f"Unknown action; choose from {', '.join(ACTIONS)}.")
    if movement not in Movement.values:
        error("movement", f"Choose one of {', '.join(Movement.values)}.")

    output = spec.get("output_jurisdiction")
    output_code = getattr(output, "pk", output)
    if output_code is not None:
        output_code = str(output_code).upper()
        if not _jurisdiction_exists(output_code, rules):
            error("output_jurisdiction", f"Unknown jurisdiction: {output_code}.")
    if output_code is None and named_sites["output_site"] is None:
        error("output_jurisdiction", "Say where the outputs go: a jurisdiction or a site.")

    starts_at, ends_at = spec.get("starts_at"), spec.get("ends_at")
    for field, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(value, datetime.datetime) or timezone.is_naive(value):
            error(field, "An aware date and time.")
    if (
        isinstance(starts_at, datetime.datetime)
        and isinstance(ends_at, datetime.datetime)
        and "starts_at" not in errors
        and "ends_at" not in errors
        and ends_at <= starts_at
    ):
        error("ends_at", "The job ends after it starts.")

    epsilon = spec.get("dp_epsilon")
    if epsilon is not None and (
        not isinstance(epsilon, int | float) or isinstance(epsilon, bool) or epsilon <= 0
    ):
        error("dp_epsilon", "A positive number, or empty.")
    if errors:
        raise ValidationError(errors)
    return {
        "name": str(spec.get("name", "")).strip(),
        "datasets": [found[i] for i in dataset_ids],
        "site_ids": site_ids,
        "model": model,
        "purpose": purpose,
        "action": action,
        "movement": movement,
        "output_jurisdiction_id": output_code,
        "output_site_id": named_sites["output_site"] or None,
        "aggregation_site_id": named_sites["aggregation_site"] or None,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "secure_aggregation": bool(spec.get("secure_aggregation", False)),
        "dp_epsilon": float(epsilon) if epsilon is not None else None,
    }


def _organisation_id(actor: User, consortium: Consortium) -> int:
    """The requesting organisation: the actor's, which must be an active member."""
    organisation_id = actor.organisation_id
    if (
        organisation_id is None
        or not Membership.objects.filter(
            consortium=consortium, organisation_id=organisation_id, status="active"
        ).exists()
    ):
        raise ValidationError({"organisation": "Your organisation is not an active member."})
    return organisation_id


@transaction.atomic
def job_propose(*, actor: User, consortium: Consortium, **spec: Any) -> Job:
    """Record a proposed job of ``actor``'s organisation. Members with the right to request
    capacity or report usage may propose."""
    _require_job_rights(actor, consortium)
    cleaned = _clean(consortium, spec)
    datasets, site_ids = cleaned.pop("datasets"), cleaned.pop("site_ids")
    job = Job(
        consortium=consortium,
        organisation_id=_organisation_id(actor, consortium),
        proposed_by=actor,
        **cleaned,
    )
    job.full_clean()
    job.save()
    job.datasets.set(datasets)
    job.sites.set(site_ids)
    audit_record(
        action=Action.CREATE,
        actor=actor,
        consortium_id=consortium.pk,
        target=job,
        changes={
            "datasets": {"before": None, "after": sorted(d.pk for d in datasets)},
            "sites": {"before": None, "after": sorted(site_ids)},
            "purpose": {"before": None, "after": job.purpose},
            "action": {"before": None, "after": job.action},
            "movement": {"before": None, "after": job.movement},
        },
    )
    return job


def _spec_of(
    actor: User, consortium: Consortium, spec_or_job: Any, source: FactSource | None = None
) -> JobSpec:
    """The engine's view of a stored job, a spec or request fields (cleaned first); the rows
    cleaning loaded go into ``source``."""
    if isinstance(spec_or_job, Job):
        if spec_or_job.consortium_id != consortium.pk:
            raise ValidationError({"job": "Not a job of this consortium."})
        return JobSpec.from_job(spec_or_job)
    if isinstance(spec_or_job, JobSpec):
        if spec_or_job.consortium_id != consortium.pk:
            raise ValidationError({"job": "Not a job of this consortium."})
        return spec_or_job
    cleaned = _clean(consortium, spec_or_job, source.rules if source is not None else None)
    if source is not None:
        source.prime(datasets=cleaned["datasets"])
    return JobSpec(
        consortium_id=consortium.pk,
        organisation_id=actor.organisation_id,
        dataset_ids=tuple(sorted(d.pk for d in cleaned["datasets"])),
        site_ids=tuple(sorted(cleaned["site_ids"])),
        purpose=cleaned["purpose"],
        action=cleaned["action"],
        movement=cleaned["movement"],
        starts_at=cleaned["starts_at"],
        ends_at=cleaned["ends_at"],
        model_id=cleaned["model"].pk if cleaned["model"] else None,
        output_jurisdiction=cleaned["output_jurisdiction_id"],
        output_site_id=cleaned["output_site_id"],
        aggregation_site_id=cleaned["aggregation_site_id"],
        secure_aggregation=cleaned["secure_aggregation"],
        dp_epsilon=cleaned["dp_epsilon"],
    )


def decide_and_record(
    *,
    actor: User,
    consortium: Consortium,
    spec_or_job: Job | JobSpec | Mapping[str, Any],
    at: datetime.datetime | None = None,
    explain: bool = False,
) -> Decision:
    """Evaluate a job (or a what-if spec) at ``at`` (now by default), store the decision with
    the facts it saw and the digest of its rules, and audit it. Decisions are never updated.

    The rules come from the book this process last used for the consortium, its generation
    checked in the same round trip as the decision's insert; when the rules have moved on
    since (or the book refused the input), the decision is made again from the book of the
    current generation (``rules_cache``). The gate is thus one round trip shorter than
    reading the generation first."""
    _require_job_rights(actor, consortium)
    kept = rules_cache.kept_book(consortium.pk)
    if kept is not None:
        kept_generation, book = kept
        try:
            return _decide_and_record(
                actor,
                consortium,
                spec_or_job,
                FactSource(consortium.pk, rules=book),
                at=at,
                explain=explain,
                precondition=generation.unchanged_since(kept_generation),
            )
        except (PreconditionNotMetError, ValidationError):
            pass
    return _decide_and_record(
        actor,
        consortium,
        spec_or_job,
        rules_cache.fact_source(consortium.pk),
        at=at,
        explain=explain,
    )


def _decide_and_record(
    actor: User,
    consortium: Consortium,
    spec_or_job: Job | JobSpec | Mapping[str, Any],
    source: FactSource,
    *,
    at: datetime.datetime | None,
    explain: bool,
    precondition: Precondition | None = None,
) -> Decision:
    spec = _spec_of(actor, consortium, spec_or_job, source)
    at = at or timezone.now()
    facts = source.facts(spec, at)
    verdict = decide_module.decide(facts, explain=explain)
    decision = Decision(
        job_id=spec.job_id,
        consortium=consortium,
        outcome=str(verdict.outcome),
        reasons=[reason.as_json() for reason in verdict.reasons],
        obligations=[obligation.as_json() for obligation in verdict.obligations],
        explain=[check.as_json() for check in verdict.explain] if explain else [],
        input_snapshot=facts_module.as_json(facts),
        rules_digest=verdict.rules_digest,
        evaluated_for=at,
        decided_at=timezone.now(),
        decided_by=actor,
    )
    # Decisions are the gate's critical path: an insert compiled once, not the ORM's save(),
    # sent with the audit chain's lock (and the check that the rules are still current).
    audit_record_inserting(
        decision,
        precondition=precondition,
        action=Action.CREATE,
        actor=actor,
        consortium_id=consortium.pk,
        target=decision,
        changes={
            "outcome": {"before": None, "after": decision.outcome},
            "codes": {"before": None, "after": sorted(verdict.codes)},
            "rules_digest": {"before": None, "after": decision.rules_digest},
            "job": {"before": None, "after": spec.job_id},
        },
    )
    return decision
