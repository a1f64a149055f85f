"""An allowed federated job as the participant configuration of the common frameworks.

The engine's decision becomes the framework's own list of who may take part, so the framework
itself cannot reach a site the decision did not allow:

* ``flare``: an NVIDIA FLARE job ``meta.json`` whose ``deploy_map`` sends the app to the
  server (the aggregation site) and to the job's sites by name, each of them mandatory;
* ``flower``: the CSV a Flower SuperLink reads with ``--auth-list-public-keys``, one line per
  node with its EC public key in OpenSSH form (PEM keys are converted);
* ``openfl``: an OpenFL ``cols.yaml`` listing the collaborators.

A site's participant name is its ``federation_name``, or a slug of its name when blank.

The job is evaluated again at the moment of export, on the facts of now: an agreement that
lapsed or a site whose approval was revoked since the last decision refuses the export
(409, ``job_not_allowed``, naming the reason codes), as does a job that is not federated
(``not_federated``). Nothing is exported, and nothing audited, on a refusal.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from alliance.errors import ConflictError
from audit.models import Action
from audit.services import audit_record
from compute import compliance_selectors as selectors
from compute.compliance import services
from compute.compliance.models import Job, Movement
from compute.compliance.reasons import Outcome
from compute.directory import federation_public_key_openssh
from compute.models import Site
from consortia.models import User

FRAMEWORKS = ("flare", "flower", "openfl")
ALLOWED = frozenset({Outcome.ALLOW, Outcome.ALLOW_WITH_OBLIGATIONS})
# The name FLARE gives the server in a deploy_map.
FLARE_SERVER = "server"


class FederationFile(NamedTuple):
    """One framework's participant configuration, ready to hand over as a file."""

    content_type: str
    filename: str
    text: str


def participant_name(site: Site) -> str:
    """The name ``site`` takes part under: its federation name, or a slug of its name."""
    return site.federation_name or slugify(site.name)


def _participants(job: Job, at: datetime.datetime) -> tuple[Site, list[Site]]:
    """The aggregation site and the job's sites, once the engine allows the job at ``at``."""
    if job.movement != Movement.FEDERATED:
        raise ConflictError(
            f"Only a federated job has participants to export; this job's movement is "
            f"{job.movement}.",
            code="not_federated",
        )
    verdict = services.evaluate(job, at)
    if verdict.outcome not in ALLOWED:
        codes = ", ".join(sorted(verdict.codes)) or "none"
        raise ConflictError(
            f"The engine does not allow this job now ({verdict.outcome}; reasons: {codes}); "
            "there is nothing to export.",
            code="job_not_allowed",
        )
    # An allowed federated job has its aggregation site (the engine checks it), and every
    # site of the job passed every rule: one that broke any would have denied the job.
    server = job.aggregation_site
    assert server is not None, "the engine allows no federated job without an aggregation site"
    sites = list(job.sites.order_by("pk"))
    return server, sites


def _refuse_duplicate_names(sites: list[Site], *, reserved: frozenset[str]) -> None:
    counts = Counter(participant_name(site) for site in sites)
    clashes = sorted(name for name, count in counts.items() if count > 1 or name in reserved)
    if clashes:
        raise ConflictError(
            f"Participant names must be distinct: {', '.join(clashes)}. Give the sites "
            "distinct federation names.",
            code="duplicate_federation_name",
        )


def _flare(job: Job, sites: list[Site]) -> FederationFile:
    _refuse_duplicate_names(sites, reserved=frozenset({FLARE_SERVER}))
    names = [participant_name(site) for site in sites]
    meta = {
        "name": job.name or f"job-{job.pk}",
        "resource_spec": {},
        "deploy_map": {"app": [FLARE_SERVER, *names]},
        "min_clients": len(names),
        "mandatory_clients": names,
    }
    return FederationFile("application/json", "meta.json", json.dumps(meta, indent=2) + "\n")


def _flower(sites: list[Site]) -> FederationFile:
    missing = [site.name for site in sites if not site.federation_public_key.strip()]
    if missing:
        raise ConflictError(
            f"A Flower allow-list needs every node's public key; none is registered for "
            f"{', '.join(missing)}.",
            code="missing_public_key",
        )
    lines: list[str] = []
    for site in sites:
        try:
            lines.append(federation_public_key_openssh(site.federation_public_key))
        except ValueError as error:
            raise ConflictError(
                f"The public key registered for {site.name} is not usable: {error}",
                code="invalid_public_key",
            ) from None
    return FederationFile(
        "text/csv; charset=utf-8", "client_public_keys.csv", "".join(f"{ln}\n" for ln in lines)
    )


def _openfl(job: Job, server: Site, sites: list[Site]) -> FederationFile:
    _refuse_duplicate_names(sites, reserved=frozenset())
    # Names are slugs; quoted so that YAML reads "no" or "123" as names, not values.
    lines = [
        f"# Collaborators of job {job.pk}, aggregated at {participant_name(server)}.",
        "collaborators:",
        *(f'  - "{participant_name(site)}"' for site in sites),
    ]
    return FederationFile("application/yaml", "cols.yaml", "\n".join(lines) + "\n")


def export(job: Job, framework: str, *, at: datetime.datetime | None = None) -> FederationFile:
    """``job``'s participant configuration for ``framework`` (flare, flower or openfl),
    evaluated at ``at`` (now by default). Raises ConflictError when the job is not federated
    or not allowed, or when a site lacks what the framework needs."""
    if framework not in FRAMEWORKS:
        raise ValidationError({"framework": f"Choose one of {', '.join(FRAMEWORKS)}."})
    server, sites = _participants(job, at or timezone.now())
    if framework == "flare":
        return _flare(job, sites)
    if framework == "flower":
        return _flower(sites)
    return _openfl(job, server, sites)


@transaction.atomic
def job_federation_export(*, actor: User, job: Job, framework: str) -> FederationFile:
    """Export ``job``'s participants for ``framework`` now, and audit the export. Those who
    may propose and check jobs may export them."""
    selectors.require_check_jobs(actor, job.consortium_id)
    exported = export(job, framework)
    audit_record(
        action=Action.EXPORT,
        actor=actor,
        consortium_id=job.consortium_id,
        target=job,
        changes={
            "framework": {"before": None, "after": framework},
            "filename": {"before": None, "after": exported.filename},
            "server": {"before": None, "after": job.aggregation_site_id},
            "sites": {"before": None, "after": sorted(job.sites.values_list("pk", flat=True))},
        },
    )
    return exported
