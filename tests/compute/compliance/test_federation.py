"""Exporting an allowed federated job as a framework's participant configuration: only the
approved sites, evaluated at the moment of export, refused (and nothing audited) otherwise."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from agreements.models import Dataset
from alliance.errors import ConflictError
from audit.models import Action, AuditEvent
from compute import directory
from compute.compliance import federation
from compute.compliance.models import Job
from compute.models import Site
from consortia.models import Jurisdiction, User
from tests.compute.compliance.conftest import Compliance
from tests.compute.conftest import at

API = "/api/v1/compliance"
NOW = at("2026-06-02")
Client = Callable[[User | None], APIClient]


def openssh_key() -> str:
    key = ec.generate_private_key(ec.SECP384R1()).public_key()
    return key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()


def pem_key() -> tuple[str, str]:
    """An EC public key in PEM text, and the OpenSSH line it should become."""
    key = ec.generate_private_key(ec.SECP384R1()).public_key()
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    line = key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()
    return pem, line


@pytest.fixture(autouse=True)
def now() -> Iterator[None]:
    """Exports evaluate the job now: now is inside the June 2026 job's window."""
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def keys(compliance: Compliance) -> dict[str, str]:
    """Paris and Frankfurt with participant names and node keys (Paris's key in PEM)."""
    grid = compliance.grid
    paris_pem, paris_line = pem_key()
    frankfurt_line = openssh_key()
    Site.objects.filter(pk=grid.paris.pk).update(
        federation_name="fr-paris", federation_public_key=paris_pem
    )
    Site.objects.filter(pk=grid.frankfurt.pk).update(federation_public_key=frankfurt_line)
    return {"paris": paris_line, "frankfurt": frankfurt_line}


def federated_job(
    c: Compliance,
    sites: list[Site] | None = None,
    datasets: list[Dataset] | None = None,
    **changes: Any,
) -> Job:
    """Federated evaluation of the EU benchmark at Paris and Frankfurt, aggregated at Paris,
    in June 2026: allowed."""
    values: dict[str, Any] = {
        "consortium": c.grid.world.consortium_a,
        "organisation": c.grid.world.org_member,
        "name": "Benchmark evaluation",
        "purpose": "research_and_development",
        "action": "evaluate",
        "movement": "federated",
        "starts_at": at("2026-06-01"),
        "ends_at": at("2026-06-10"),
        "output_jurisdiction_id": "FR",
        "aggregation_site": c.grid.paris,
        "secure_aggregation": True,
        "dp_epsilon": 1.0,
        "proposed_by": c.grid.technician,
    }
    values.update(changes)
    job = Job.objects.create(**values)
    job.datasets.set(datasets if datasets is not None else [c.benchmark])
    job.sites.set(sites if sites is not None else [c.grid.paris, c.grid.frankfurt])
    return job


def exports() -> int:
    return AuditEvent.objects.filter(action=Action.EXPORT, object_type="compute.job").count()


def get(client: APIClient, job: Job, framework: str | None) -> Any:
    query = "" if framework is None else f"?framework={framework}"
    return client.get(f"{API}/jobs/{job.pk}/federation/{query}")


# The three formats.


def test_an_allowed_job_exports_as_a_flare_deploy_map_of_its_sites(
    compliance: Compliance, keys: dict[str, str], api_as: Client
) -> None:
    job = federated_job(compliance)
    response = get(api_as(compliance.grid.technician), job, "flare")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="meta.json"'
    assert json.loads(response.content) == {
        "name": "Benchmark evaluation",
        "resource_spec": {},
        "deploy_map": {"app": ["server", "fr-paris", "frankfurt-1"]},
        "min_clients": 2,
        "mandatory_clients": ["fr-paris", "frankfurt-1"],
    }


def test_an_allowed_job_exports_as_a_flower_allow_list_of_its_nodes(
    compliance: Compliance, keys: dict[str, str], api_as: Client
) -> None:
    job = federated_job(compliance)
    response = get(api_as(compliance.grid.technician), job, "flower")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="client_public_keys.csv"'
    # One OpenSSH key per line, the PEM one converted: what the SuperLink loads.
    assert response.content.decode() == f"{keys['paris']}\n{keys['frankfurt']}\n"


def test_an_allowed_job_exports_as_openfl_collaborators(
    compliance: Compliance, keys: dict[str, str], api_as: Client
) -> None:
    job = federated_job(compliance)
    response = get(api_as(compliance.grid.technician), job, "openfl")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/yaml"
    assert response["Content-Disposition"] == 'attachment; filename="cols.yaml"'
    text = response.content.decode()
    assert text.splitlines()[1:] == ["collaborators:", '  - "fr-paris"', '  - "frankfurt-1"']
    # The hand-written YAML reads as intended.
    assert yaml.safe_load(text) == {"collaborators": ["fr-paris", "frankfurt-1"]}


def test_only_the_jobs_sites_take_part(
    compliance: Compliance, keys: dict[str, str], api_as: Client
) -> None:
    """Frankfurt has a name and a key, but this job runs at Paris only: it is not listed."""
    job = federated_job(compliance, sites=[compliance.grid.paris])
    client = api_as(compliance.grid.technician)
    flare = json.loads(get(client, job, "flare").content)
    assert flare["deploy_map"] == {"app": ["server", "fr-paris"]}
    assert get(client, job, "flower").content.decode() == f"{keys['paris']}\n"
    assert "frankfurt" not in get(client, job, "openfl").content.decode()


def test_the_export_is_audited_once(
    compliance: Compliance, keys: dict[str, str], api_as: Client
) -> None:
    job = federated_job(compliance)
    assert get(api_as(compliance.grid.technician), job, "openfl").status_code == 200
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert (event.object_type, event.object_id) == ("compute.job", str(job.pk))
    assert event.consortium_id == job.consortium_id
    changes = json.loads(event.changes)
    assert changes["framework"]["after"] == "openfl"
    assert changes["sites"]["after"] == sorted(
        [compliance.grid.paris.pk, compliance.grid.frankfurt.pk]
    )


# Refusals: nothing exported, nothing audited.


def test_a_denied_job_exports_nothing(
    compliance: Compliance, keys: dict[str, str], api_as: Client
) -> None:
    # Raw copies of the FR images: prohibited by their clause.
    job = federated_job(
        compliance, sites=[compliance.grid.paris], datasets=[compliance.dataset], action="copy_raw"
    )
    for framework in federation.FRAMEWORKS:
        response = get(api_as(compliance.grid.technician), job, framework)
        assert response.status_code == 409, response.content
        body = response.json()
        assert body["code"] == "job_not_allowed"
        assert "ACTION_NOT_PERMITTED" in body["detail"]
    assert exports() == 0


def test_a_job_allowed_once_is_refused_once_its_agreement_lapsed(
    compliance: Compliance, keys: dict[str, str]
) -> None:
    """The export evaluates now, not when the job was last decided."""
    job = federated_job(compliance)
    assert federation.export(job, "openfl").filename == "cols.yaml"
    with time_machine.travel(at("2028-02-01"), tick=False), pytest.raises(ConflictError) as refused:
        federation.export(job, "openfl")
    assert refused.value.code == "job_not_allowed"
    assert "AGREEMENT_EXPIRED" in refused.value.message


def test_a_job_that_is_not_federated_exports_nothing(
    compliance: Compliance, keys: dict[str, str], api_as: Client
) -> None:
    job = federated_job(compliance, movement="model_to_data")
    response = get(api_as(compliance.grid.technician), job, "flare")
    assert response.status_code == 409
    assert response.json()["code"] == "not_federated"
    assert exports() == 0


def test_flower_needs_every_nodes_key(
    compliance: Compliance, keys: dict[str, str], api_as: Client
) -> None:
    Site.objects.filter(pk=compliance.grid.frankfurt.pk).update(federation_public_key="")
    job = federated_job(compliance)
    client = api_as(compliance.grid.technician)
    response = get(client, job, "flower")
    assert response.status_code == 409
    assert response.json()["code"] == "missing_public_key"
    assert "Frankfurt-1" in response.json()["detail"]
    assert "Paris-1" not in response.json()["detail"]
    assert exports() == 0
    # The frameworks that name sites do not need keys.
    assert get(client, job, "flare").status_code == 200


def test_two_sites_under_one_name_are_refused(compliance: Compliance, keys: dict[str, str]) -> None:
    Site.objects.filter(pk=compliance.grid.frankfurt.pk).update(federation_name="fr-paris")
    job = federated_job(compliance)
    with pytest.raises(ConflictError) as refused:
        federation.export(job, "openfl")
    assert refused.value.code == "duplicate_federation_name"


@pytest.mark.parametrize("framework", [None, "", "pysyft"])
def test_an_unknown_framework_is_bad_input(
    compliance: Compliance, keys: dict[str, str], api_as: Client, framework: str | None
) -> None:
    job = federated_job(compliance)
    response = get(api_as(compliance.grid.technician), job, framework)
    assert response.status_code == 400
    assert "framework" in response.json()["errors"]
    assert exports() == 0


@pytest.mark.parametrize(("persona", "expected"), [("outsider", 404), ("observer", 403)])
def test_only_those_who_check_jobs_export_them(
    compliance: Compliance, keys: dict[str, str], api_as: Client, persona: str, expected: int
) -> None:
    job = federated_job(compliance)
    response = get(api_as(getattr(compliance.grid.world, persona)), job, "flare")
    assert response.status_code == expected
    assert exports() == 0


def test_the_anonymous_are_refused(compliance: Compliance, api_as: Client) -> None:
    job = federated_job(compliance)
    assert get(api_as(None), job, "flare").status_code in (401, 403)
    assert exports() == 0


# Registering a site's federation identity.


def _register(c: Compliance, **federation_fields: Any) -> Site:
    return directory.site_register(
        actor=c.grid.technician,
        provider=c.grid.provider,
        name="Lyon Nord 1",
        jurisdiction=Jurisdiction.objects.get(pk="FR"),
        administered_from=[Jurisdiction.objects.get(pk="FR")],
        **federation_fields,
    )


def test_a_site_registers_its_federation_identity(compliance: Compliance) -> None:
    pem, line = pem_key()
    site = _register(compliance, federation_name="lyon-n1", federation_public_key=pem)
    assert (site.federation_name, site.federation_public_key) == ("lyon-n1", pem.strip())
    assert directory.federation_public_key_openssh(site.federation_public_key) == line
    event = AuditEvent.objects.filter(object_type="compute.site", object_id=str(site.pk)).get()
    assert json.loads(event.changes)["federation_name"]["after"] == "lyon-n1"


def test_a_site_without_a_federation_name_takes_part_under_a_slug_of_its_name(
    compliance: Compliance,
) -> None:
    site = _register(compliance)
    assert (site.federation_name, site.federation_public_key) == ("", "")
    assert federation.participant_name(site) == "lyon-nord-1"


def _rsa_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"federation_name": "Lyon Nord"}, "federation_name", "letters, digits"),
        ({"federation_public_key": "hello"}, "federation_public_key", "An EC public key"),
        (
            {"federation_public_key": "ecdsa-sha2-nistp384 AAAAnot-a-key"},
            "federation_public_key",
            "not a readable public key",
        ),
        (
            {"federation_public_key": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"},
            "federation_public_key",
            "not a readable public key",
        ),
    ],
)
def test_a_bad_federation_identity_is_refused(
    compliance: Compliance, unchanged: Any, fields: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as error, unchanged():
        _register(compliance, **fields)
    assert message in error.value.message_dict[field][0]


def test_a_key_that_is_not_elliptic_curve_is_refused() -> None:
    with pytest.raises(ValueError, match="An EC public key"):
        directory.federation_public_key_openssh(_rsa_key())
    rsa_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(ValueError, match="elliptic-curve"):
        directory.federation_public_key_openssh(rsa_pem)


def test_the_sites_api_takes_and_shows_the_federation_identity(
    compliance: Compliance, api_as: Client
) -> None:
    client = api_as(compliance.grid.technician)
    key = openssh_key()
    created = client.post(
        "/api/v1/sites/",
        {
            "provider": compliance.grid.provider.pk,
            "name": "Lyon-1",
            "jurisdiction": "FR",
            "administered_from": ["FR"],
            "federation_name": "lyon-1",
            "federation_public_key": key,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert (created.json()["federation_name"], created.json()["federation_public_key"]) == (
        "lyon-1",
        key,
    )
    rows = client.get(f"/api/v1/sites/?provider={compliance.grid.provider.pk}").json()["results"]
    assert {row["name"]: row["federation_name"] for row in rows}["Lyon-1"] == "lyon-1"
    refused = client.post(
        "/api/v1/sites/",
        {
            "provider": compliance.grid.provider.pk,
            "name": "Lyon-2",
            "jurisdiction": "FR",
            "administered_from": ["FR"],
            "federation_public_key": _rsa_key(),
        },
        format="json",
    )
    assert refused.status_code == 400
    assert not Site.objects.filter(name="Lyon-2").exists()
