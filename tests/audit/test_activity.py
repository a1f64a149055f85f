"""The activity feed, the events API and exports, from the outside."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from audit.canonical import canonical_json, event_hash
from audit.models import AuditEvent, AuditExport
from consortia import services
from tests.conftest import World


@pytest.fixture
def history(world: World) -> World:
    services.consortium_update(actor=world.chair, consortium=world.consortium_a, charter="Amended")
    services.membership_update(
        actor=world.chair, membership=world.membership_member, voting_weight=Decimal(2)
    )
    return world


@pytest.mark.parametrize(
    ("persona", "status", "full"),
    [
        ("chair", 200, True),
        ("auditor", 200, True),
        ("member", 200, False),
        ("observer", 200, False),
        ("outsider", 404, None),
        ("anonymous", 302, None),
    ],
)
def test_activity_page_from_outside(
    history: World, browser_as: Any, persona: str, status: int, full: bool | None
) -> None:
    response = browser_as(history.persona(persona)).get(
        reverse("audit:activity", args=[history.consortium_a.pk])
    )
    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        assert "Amended" in page
        assert ("whole audit chain" in page) is full
        assert (f'action="/consortia/{history.consortium_a.pk}/activity/exports/"' in page) is full


def test_reading_the_feed_is_recorded_and_private_to_auditors(
    history: World, browser_as: Any
) -> None:
    browser_as(history.observer).get(
        reverse("audit:activity", args=[history.consortium_a.pk]) + "?action=update"
    )
    read = AuditEvent.objects.filter(action="list", actor_display="observer").get()
    assert read.changes_data == {"filters": {"action": "update"}, "count": 2}
    member_view = browser_as(history.member).get(
        reverse("audit:activity", args=[history.consortium_a.pk])
    )
    assert "observer" not in member_view.content.decode(), "reads are shown to auditors only"
    auditor_view = browser_as(history.auditor).get(
        reverse("audit:activity", args=[history.consortium_a.pk])
    )
    assert "observer" in auditor_view.content.decode()


def test_feed_pages_with_htmx(history: World, browser_as: Any) -> None:
    for index in range(60):
        services.consortium_update(
            actor=history.chair, consortium=history.consortium_a, charter=f"Draft {index}"
        )
    client = browser_as(history.chair)
    first = client.get(reverse("audit:activity", args=[history.consortium_a.pk])).content.decode()
    assert "Older events" in first
    oldest_shown = min(int(part.split('"')[0]) for part in first.split("before=")[1:])
    more = client.get(
        reverse("audit:activity", args=[history.consortium_a.pk]) + f"?before={oldest_shown}",
        HTTP_HX_REQUEST="true",
    )
    assert b"<html" not in more.content
    assert b"<tr>" in more.content


def test_filtering_with_htmx_carries_the_filter_to_the_export_form(
    history: World, browser_as: Any
) -> None:
    url = reverse("audit:activity", args=[history.consortium_a.pk])
    filtered = browser_as(history.auditor).get(url + "?action=update", HTTP_HX_REQUEST="true")
    html = filtered.content.decode()
    assert b"<html" not in filtered.content
    assert html.count('id="results"') == 1
    scope = html[html.index('<div id="export-scope"') :]
    assert scope.startswith('<div id="export-scope" class="inline" hx-swap-oob="true">')
    assert '<input type="hidden" name="action" value="update">' in scope
    assert "Export filtered events" in scope
    # A reader who may not export gets no export form, in or out of band.
    member = browser_as(history.member).get(url + "?action=update", HTTP_HX_REQUEST="true")
    assert b"export-scope" not in member.content


def test_history_panel_on_the_consortium_page(history: World, browser_as: Any) -> None:
    page = (
        browser_as(history.observer)
        .get(reverse("consortia:detail", args=[history.consortium_a.pk]))
        .content.decode()
    )
    assert "Recent activity" in page
    assert "chair — update Member Org in Consortium A" in page


@pytest.mark.parametrize(("persona", "sees_reads"), [("auditor", True), ("observer", False)])
def test_events_api_scoping(history: World, api_as: Any, persona: str, sees_reads: bool) -> None:
    api_as(history.outsider).get(
        f"/api/v1/consortia/{history.consortium_a.pk}/"
    )  # a denial in A's chain
    rows = (
        api_as(history.persona(persona))
        .get(f"/api/v1/audit/events/?consortium={history.consortium_a.pk}&page_size=100")
        .json()["results"]
    )
    actions = {row["action"] for row in rows}
    assert "update" in actions
    assert ("denied" in actions) is sees_reads
    assert all(row["consortium_id"] == history.consortium_a.pk for row in rows)
    outsider_rows = (
        api_as(history.outsider)
        .get(f"/api/v1/audit/events/?consortium={history.consortium_a.pk}")
        .json()["results"]
    )
    assert outsider_rows == []
    # Regression (found by the contract run): an offset beyond PostgreSQL's 15:59 failed in
    # the query; it is the same instant in UTC.
    since = api_as(history.persona(persona)).get(
        "/api/v1/audit/events/",
        {"consortium": history.consortium_a.pk, "since": "2000-01-01T18:00:00+18:00"},
    )
    assert since.status_code == 200, since.content
    assert {row["id"] for row in rows} <= {row["id"] for row in since.json()["results"]}
    for row in rows:  # a client re-hashes an event from the API's fields
        stored = {
            **row,
            "changes": canonical_json(row["changes"]),
            "occurred_at": _parse(row["occurred_at"]),
        }
        assert event_hash(row["prev_hash"], stored) == row["hash"]


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("auditor", 202),
        ("chair", 202),
        ("observer", 403),
        ("member", 403),
        ("outsider", 404),
        ("anonymous", 401),
    ],
)
def test_export_api_from_outside(history: World, api_as: Any, persona: str, status: int) -> None:
    response = api_as(history.persona(persona)).post(
        "/api/v1/audit/exports/",
        {"consortium": history.consortium_a.pk, "format": "jsonl"},
        format="json",
    )
    assert response.status_code == status, response.content
    assert AuditExport.objects.count() == (1 if status == 202 else 0)


def test_jsonl_export_embeds_filter_and_checkpoint_and_verifies(
    history: World, api_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = api_as(history.auditor)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            "/api/v1/audit/exports/",
            {"consortium": history.consortium_a.pk, "format": "jsonl", "filters": {}},
            format="json",
        ).json()
    export = client.get(f"/api/v1/audit/exports/{created['id']}/").json()
    assert export["status"] == "done"
    assert export["rows_written"] == export["rows_total"] > 0
    response = client.get(f"/api/v1/audit/exports/{created['id']}/download/")
    lines = b"".join(response.streaming_content).decode().splitlines()
    header = json.loads(lines[0])["alliance_audit_export"]
    events = [json.loads(line) for line in lines[1:]]
    assert header["checkpoint"]["size"] == events[-1]["sequence"] == len(events)
    assert header["checkpoint"]["head_hash"] == events[-1]["hash"]
    previous = "0" * 64
    for event in events:
        assert event["prev_hash"] == previous
        assert (
            event_hash(previous, {**event, "occurred_at": _parse(event["occurred_at"])})
            == event["hash"]
        )
        previous = event["hash"]
    assert AuditEvent.objects.filter(action="download", actor_display="auditor").count() == 1
    assert AuditEvent.objects.filter(action="export", actor_display="auditor").count() == 1


def _parse(text: str) -> Any:
    import datetime

    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.UTC)


def test_filtered_csv_export_in_the_browser(
    history: World, browser_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = browser_as(history.chair)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("audit:export-create", args=[history.consortium_a.pk]),
            {"format": "csv", "action": "update"},
        )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Done" in page
    assert "action = update" in page
    export = AuditExport.objects.get()
    content = b"".join(
        client.get(reverse("audit:export-download", args=[export.pk])).streaming_content
    ).decode()
    meta = [line for line in content.splitlines() if line.startswith("#")]
    assert '# filters: {"action": "update"}' in meta
    rows = list(
        csv.DictReader(
            io.StringIO(
                "\n".join(line for line in content.splitlines() if not line.startswith("#"))
            )
        )
    )
    assert {row["action"] for row in rows} == {"update"}
    assert len(rows) == 2


def test_bad_export_request_changes_nothing(history: World, api_as: Any) -> None:
    response = api_as(history.auditor).post(
        "/api/v1/audit/exports/",
        {"consortium": history.consortium_a.pk, "format": "pdf", "filters": {"since": "yesterday"}},
        format="json",
    )
    assert response.status_code == 400
    assert "format" in response.json()["errors"]
    response = api_as(history.auditor).post(
        "/api/v1/audit/exports/",
        {"consortium": history.consortium_a.pk, "format": "csv", "filters": {"since": "yesterday"}},
        format="json",
    )
    assert response.status_code == 400
    assert "since" in response.json()["errors"]
    assert not AuditExport.objects.exists()
