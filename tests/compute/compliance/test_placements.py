"""Recording where copies of data sets are stored: the service and the API, who may, bad input
changing nothing, an audit event per write, and a copy outside its residency turning into a
finding that ending the copy resolves."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from agreements.models import Dataset
from alliance.errors import AccessDeniedError, ConflictError
from audit.models import AuditEvent
from compute import tasks
from compute.compliance import placements, sweeps
from compute.compliance.models import Finding, Placement
from consortia.models import User
from tests.compute.compliance.conftest import Compliance
from tests.compute.conftest import at

API = "/api/v1/compliance/placements"
Client = Callable[[User | None], APIClient]
MAY_1, JUNE_2 = datetime.date(2026, 5, 1), datetime.date(2026, 6, 2)
# Inside the data sharing agreement's term (2026-01-01 to 2028-01-01).
NOW = at("2026-06-02")


def record(c: Compliance, **changes: Any) -> Placement:
    """The FR images copied to Frankfurt (DE) from 1 May 2026."""
    values: dict[str, Any] = {
        "actor": c.grid.technician,
        "consortium": c.grid.world.consortium_a,
        "dataset": c.dataset,
        "site": c.grid.frankfurt,
        "since": MAY_1,
    }
    values.update(changes)
    return placements.placement_record(**values)


def body(c: Compliance, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "consortium": c.grid.world.consortium_a.pk,
        "dataset": c.dataset.pk,
        "site": c.grid.frankfurt.pk,
        "since": "2026-05-01",
        "note": "Copy for the Frankfurt fine-tuning run",
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not ...}


def foreign_dataset(c: Compliance) -> Dataset:
    return Dataset.objects.create(
        consortium=c.grid.world.consortium_b,
        owner=c.grid.world.org_outsider,
        name="Elsewhere",
        sensitivity="internal",
        residency_id="SA",
    )


def events(placement_id: int) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="compute.placement", object_id=str(placement_id))
        .order_by("pk")
        .values_list("action", flat=True)
    )


# The service.


def test_a_placement_is_recorded_and_ended_each_audited_and_swept_on_commit(
    compliance: Compliance,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    c = compliance
    queued: list[int] = []
    monkeypatch.setattr(tasks.compliance_sweep_consortium, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        placement = record(c, note="  Fine-tuning copy  ")
    assert (placement.dataset, placement.site, placement.since, placement.until) == (
        c.dataset,
        c.grid.frankfurt,
        MAY_1,
        None,
    )
    assert (placement.note, placement.recorded_by) == ("Fine-tuning copy", c.grid.technician)
    assert queued == [c.grid.world.consortium_a.pk]

    with django_capture_on_commit_callbacks(execute=True):
        ended = placements.placement_end(actor=c.grid.technician, placement=placement, until=JUNE_2)
    assert Placement.objects.get(pk=placement.pk).until == ended.until == JUNE_2
    assert queued == [c.grid.world.consortium_a.pk] * 2
    assert events(placement.pk) == ["create", "transition"]
    created = AuditEvent.objects.get(object_type="compute.placement", action="create")
    assert created.consortium_id == c.grid.world.consortium_a.pk
    assert created.actor_id == str(c.grid.technician.pk)


def test_a_read_only_role_may_not_record_or_end(compliance: Compliance, unchanged: Any) -> None:
    c = compliance
    placement = record(c)
    with unchanged():
        with pytest.raises(AccessDeniedError):
            record(c, actor=c.grid.world.observer, site=c.grid.paris)
        with pytest.raises(AccessDeniedError):
            placements.placement_end(actor=c.grid.world.observer, placement=placement, until=JUNE_2)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"dataset": "foreign"}, "dataset", "Not a dataset of this consortium."),
        ({"dataset": 999_999}, "dataset", "Unknown dataset: 999999."),
        ({"site": 999_999}, "site", "Unknown site: 999999."),
        ({"until": datetime.date(2026, 4, 30)}, "until", "a day after since"),
        ({"until": MAY_1}, "until", "a day after since"),
        ({"since": at("2026-05-01")}, "since", "A date."),
        ({"note": "x" * 2_001}, "note", "At most"),
    ],
    ids=[
        "foreign-dataset",
        "unknown-dataset",
        "unknown-site",
        "before",
        "same-day",
        "datetime",
        "long-note",
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    compliance: Compliance, unchanged: Any, changes: dict[str, Any], field: str, message: str
) -> None:
    c = compliance
    if changes.get("dataset") == "foreign":
        changes = {**changes, "dataset": foreign_dataset(c)}
    with unchanged(), pytest.raises(ValidationError) as raised:
        record(c, **changes)
    assert field in raised.value.message_dict
    assert any(message in text for text in raised.value.message_dict[field])


def test_one_copy_is_recorded_once(compliance: Compliance, unchanged: Any) -> None:
    """Overlapping rows for the same copy would open every finding twice; a later period
    after the first ended is another copy."""
    c = compliance
    first = record(c, until=datetime.date(2026, 7, 1))
    with unchanged(), pytest.raises(ValidationError) as raised:
        record(c, since=datetime.date(2026, 6, 1))
    assert f"placement {first.pk}" in raised.value.message_dict["since"][0]
    again = record(c, since=datetime.date(2026, 7, 1))
    assert again.pk != first.pk
    assert record(c, site=c.grid.paris).site == c.grid.paris


def test_ending_checks_the_day_and_ends_once(compliance: Compliance, unchanged: Any) -> None:
    c = compliance
    placement = record(c)
    with unchanged(), pytest.raises(ValidationError) as raised:
        placements.placement_end(actor=c.grid.technician, placement=placement, until=MAY_1)
    assert "until" in raised.value.message_dict
    placements.placement_end(actor=c.grid.technician, placement=placement, until=JUNE_2)
    # The caller's copy still says "not ended": the service reads the row again.
    assert placement.until is None
    with unchanged(), pytest.raises(ConflictError) as conflict:
        placements.placement_end(
            actor=c.grid.technician, placement=placement, until=datetime.date(2026, 7, 1)
        )
    assert conflict.value.code == "placement_ended"
    assert "2026-06-02" in conflict.value.message


# The API.


def test_a_placement_is_recorded_listed_and_ended(compliance: Compliance, api_as: Client) -> None:
    c = compliance
    client = api_as(c.grid.technician)
    created = client.post(f"{API}/", body(c), format="json")
    assert created.status_code == 201, created.content
    row = created.json()
    assert row == {
        "id": row["id"],
        "consortium": c.grid.world.consortium_a.pk,
        "dataset": c.dataset.pk,
        "dataset_name": c.dataset.name,
        "site": c.grid.frankfurt.pk,
        "site_name": "Frankfurt-1",
        "since": "2026-05-01",
        "until": None,
        "note": "Copy for the Frankfurt fine-tuning run",
        "recorded_by": c.grid.technician.username,
        "created_at": row["created_at"],
    }
    assert events(row["id"]) == ["create"]

    reader = api_as(c.grid.world.observer)
    listed = reader.get(f"{API}/?consortium={c.grid.world.consortium_a.pk}")
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()["results"]] == [row["id"]]
    assert reader.get(f"{API}/?consortium={c.grid.world.consortium_b.pk}").json()["results"] == []
    assert reader.get(f"{API}/{row['id']}/").json() == row

    ended = client.post(f"{API}/{row['id']}/end/", {"until": "2026-06-02"}, format="json")
    assert ended.status_code == 200, ended.content
    assert ended.json() == {**row, "until": "2026-06-02"}
    assert events(row["id"]) == ["create", "transition"]

    with_end = client.post(
        f"{API}/", body(c, site=c.grid.paris.pk, until="2026-09-01", note=...), format="json"
    )
    assert with_end.status_code == 201, with_end.content
    assert (with_end.json()["until"], with_end.json()["note"]) == ("2026-09-01", "")


def test_another_organisation_sees_no_placement(
    compliance: Compliance, api_as: Client, unchanged: Any
) -> None:
    c = compliance
    placement = record(c)
    client = api_as(c.grid.world.outsider)
    assert client.get(f"{API}/").json()["results"] == []
    assert client.get(f"{API}/{placement.pk}/").status_code == 404
    with unchanged():
        ended = client.post(f"{API}/{placement.pk}/end/", {"until": "2026-06-02"}, format="json")
        assert ended.status_code == 404
        assert client.post(f"{API}/", body(c), format="json").status_code == 404


def test_the_observer_may_read_but_not_write(
    compliance: Compliance, api_as: Client, unchanged: Any
) -> None:
    c = compliance
    placement = record(c)
    client = api_as(c.grid.world.observer)
    assert client.get(f"{API}/{placement.pk}/").status_code == 200
    with unchanged():
        assert (
            client.post(f"{API}/", body(c, site=c.grid.paris.pk), format="json").status_code == 403
        )
        # Whatever it sent: the right is checked before the body's ids and dates.
        bad = body(c, dataset=999_999, until="2020-01-01")
        assert client.post(f"{API}/", bad, format="json").status_code == 403
        for until in ("2026-06-02", "soon"):
            ended = client.post(f"{API}/{placement.pk}/end/", {"until": until}, format="json")
            assert ended.status_code == 403


def test_anonymous_callers_are_told_to_authenticate(compliance: Compliance, api_as: Client) -> None:
    client = api_as(None)
    assert client.get(f"{API}/").status_code == 401
    assert client.post(f"{API}/", body(compliance), format="json").status_code == 401


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"dataset": "foreign"}, "dataset"),
        ({"dataset": 999_999}, "dataset"),
        ({"site": 999_999}, "site"),
        ({"until": "2026-04-30"}, "until"),
        ({"since": "the first of May"}, "since"),
        ({"since": "2026-02-30"}, "since"),
        ({"since": ...}, "since"),
        ({"datasets": [1]}, "datasets"),
        ({"consortium": "A"}, "consortium"),
    ],
    ids=[
        "foreign-dataset",
        "unknown-dataset",
        "unknown-site",
        "until-before-since",
        "malformed-date",
        "no-such-day",
        "no-since",
        "unknown-field",
        "malformed-consortium",
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    compliance: Compliance,
    api_as: Client,
    unchanged: Any,
    changes: dict[str, Any],
    field: str,
) -> None:
    c = compliance
    if changes.get("dataset") == "foreign":
        changes = {"dataset": foreign_dataset(c).pk}
    with unchanged():
        response = api_as(c.grid.technician).post(f"{API}/", body(c, **changes), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert "Elsewhere" not in response.content.decode(), "another consortium's names stay hidden"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"until": "tomorrow"}, "until"),
        ({"until": "2026-04-01"}, "until"),
        ({}, "until"),
        ({"until": "2026-06-02", "since": "2026-05-02"}, "since"),
    ],
    ids=["malformed-date", "before-since", "missing", "unknown-field"],
)
def test_ending_with_bad_input_is_a_400_naming_the_field(
    compliance: Compliance, api_as: Client, unchanged: Any, payload: dict[str, Any], field: str
) -> None:
    c = compliance
    placement = record(c)
    with unchanged():
        response = api_as(c.grid.technician).post(
            f"{API}/{placement.pk}/end/", payload, format="json"
        )
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_ending_an_ended_placement_is_a_conflict(
    compliance: Compliance, api_as: Client, unchanged: Any
) -> None:
    c = compliance
    placement = record(c, until=JUNE_2)
    with unchanged():
        response = api_as(c.grid.technician).post(
            f"{API}/{placement.pk}/end/", {"until": "2026-07-01"}, format="json"
        )
    assert response.status_code == 409
    assert response.json()["code"] == "placement_ended"


def test_a_copy_outside_its_residency_is_a_finding_until_it_is_removed(
    compliance: Compliance, api_as: Client
) -> None:
    """The images must stay in FR and may only be worked on federated; a copy at Frankfurt
    (DE) breaks residency. Removing the copy resolves the finding."""
    c = compliance
    assert c.dataset.residency_id == "FR"
    client = api_as(c.grid.technician)
    created = client.post(f"{API}/", body(c), format="json")
    assert created.status_code == 201, created.content
    placement_id = created.json()["id"]

    result = sweeps.sweep_consortium(c.grid.world.consortium_a.pk, NOW)
    assert result.placements == 1
    finding = Finding.objects.get(placement_id=placement_id, code="DATA_RESIDENCY_VIOLATION")
    assert finding.status == Finding.Status.OPEN
    assert finding.owner_id == c.dataset.owner_id

    ended = client.post(f"{API}/{placement_id}/end/", {"until": "2026-06-02"}, format="json")
    assert ended.status_code == 200, ended.content
    result = sweeps.sweep_consortium(c.grid.world.consortium_a.pk, NOW)
    assert result.placements == 0
    finding.refresh_from_db()
    assert finding.status == Finding.Status.RESOLVED
    assert not Finding.objects.filter(placement_id=placement_id).exclude(
        status=Finding.Status.RESOLVED
    )


def test_a_copy_inside_its_residency_breaks_no_residency_rule(compliance: Compliance) -> None:
    c = compliance
    placement = record(c, site=c.grid.paris)
    assert sweeps.sweep_consortium(c.grid.world.consortium_a.pk, NOW).placements == 1
    assert not Finding.objects.filter(placement=placement, code="DATA_RESIDENCY_VIOLATION")
