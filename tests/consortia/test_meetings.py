"""Meetings and minutes: recorded by the committee, approved by a motion that freezes them
and puts their hash in the audit chain; from the outside 404/403."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from consortia import meeting_services
from consortia.governance import services as governance
from consortia.meetings import Meeting
from tests.conftest import World


def a_meeting(world: World) -> Meeting:
    return meeting_services.meeting_create(
        actor=world.chair,
        consortium=world.consortium_a,
        title="Steering committee, March",
        held_at=timezone.now() - datetime.timedelta(days=1),
        attendees=[world.chair, world.member],
    )


def test_minutes_approved_by_motion_are_frozen_and_hashed_in_the_chain(world: World) -> None:
    meeting = a_meeting(world)
    assert set(meeting.organisations.all()) == {world.org_chair, world.org_member}
    meeting_services.minutes_update(
        actor=world.member, meeting=meeting, minutes="1. The budget is adopted."
    )
    motion = meeting_services.minutes_propose(
        actor=world.chair, meeting=meeting, closes_at=timezone.now() + datetime.timedelta(days=2)
    )
    with pytest.raises(ValidationError, match="before the committee"):
        meeting_services.minutes_update(actor=world.chair, meeting=meeting, minutes="Changed")
    governance.vote_cast(actor=world.chair, motion=motion, choice="for")
    governance.vote_cast(actor=world.member, motion=motion, choice="for")
    meeting.refresh_from_db()
    assert meeting.minutes_status == Meeting.MinutesStatus.APPROVED
    assert meeting.minutes_sha256 == meeting_services.minutes_hash(meeting)
    event = AuditEvent.objects.get(action="approve", object_type="consortia.meeting")
    assert meeting.minutes_sha256 in event.changes
    with pytest.raises(ValidationError, match="never change"):
        meeting_services.minutes_update(actor=world.chair, meeting=meeting, minutes="Rewritten")


def test_rejected_minutes_can_be_corrected(world: World) -> None:
    meeting = a_meeting(world)
    meeting_services.minutes_update(actor=world.chair, meeting=meeting, minutes="Draft")
    motion = meeting_services.minutes_propose(
        actor=world.chair, meeting=meeting, closes_at=timezone.now() + datetime.timedelta(days=2)
    )
    # Of two organisations, one against already sinks a simple majority: it closes at once.
    governance.vote_cast(actor=world.chair, motion=motion, choice="against")
    motion.refresh_from_db()
    assert motion.status == "failed"
    meeting_services.minutes_update(actor=world.chair, meeting=meeting, minutes="Corrected")
    meeting.refresh_from_db()
    assert (meeting.minutes, meeting.minutes_status) == ("Corrected", "draft")


def test_bad_meetings_are_refused(world: World, unchanged: Any) -> None:
    with unchanged(), pytest.raises(ValidationError) as raised:
        meeting_services.meeting_create(
            actor=world.chair,
            consortium=world.consortium_a,
            title="With a stranger",
            held_at=timezone.now(),
            attendees=[world.outsider],
        )
    assert "attendees" in raised.value.message_dict
    with unchanged(), pytest.raises(ValidationError) as raised:
        meeting_services.meeting_create(
            actor=world.chair, consortium=world.consortium_a, title=" ", held_at=timezone.now()
        )
    assert "title" in raised.value.message_dict


def test_meeting_pages_from_outside(world: World, browser_as: Any, unchanged: Any) -> None:
    meeting = a_meeting(world)
    detail = reverse("consortia:meeting", args=[meeting.pk])
    listing = reverse("consortia:meetings", args=[world.consortium_a.pk])
    minutes = reverse("consortia:meeting-minutes", args=[meeting.pk])
    assert browser_as(world.observer).get(detail).status_code == 200
    assert "Save the minutes" not in browser_as(world.observer).get(detail).content.decode()
    assert browser_as(world.outsider).get(detail).status_code == 404
    assert browser_as(world.outsider).get(listing).status_code == 404
    assert browser_as(None).get(listing).status_code == 302
    with unchanged():
        assert browser_as(world.observer).post(minutes, {"minutes": "x"}).status_code == 403
        assert browser_as(world.outsider).post(minutes, {"minutes": "x"}).status_code == 404
    saved = browser_as(world.member).post(minutes, {"minutes": "Adopted."}, follow=True)
    assert "Minutes saved." in saved.content.decode()


def test_minutes_download_as_pdf_and_the_download_is_recorded(
    world: World, browser_as: Any
) -> None:
    import io

    from pypdf import PdfReader

    meeting = a_meeting(world)
    meeting_services.minutes_update(
        actor=world.chair, meeting=meeting, minutes="The budget for 2027 is adopted."
    )
    url = reverse("consortia:meeting-pdf", args=[meeting.pk])
    response = browser_as(world.observer).get(url)
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "The budget for 2027 is adopted." in text
    assert "Not approved yet" in text
    assert "Consortium A · minutes · page 1 of 1" in text
    assert AuditEvent.objects.filter(action="download", object_type="consortia.meeting").exists()
    assert browser_as(world.outsider).get(url).status_code == 404


def test_meetings_over_the_api(world: World, api_as: Any) -> None:
    meeting = a_meeting(world)
    body = api_as(world.observer).get(f"/api/v1/meetings/{meeting.pk}/").json()
    assert (body["title"], sorted(body["attendees"])) == (meeting.title, ["chair", "member"])
    listed = api_as(world.observer).get(f"/api/v1/meetings/?consortium={world.consortium_a.pk}")
    assert [row["id"] for row in listed.json()["results"]] == [meeting.pk]
    assert api_as(world.outsider).get(f"/api/v1/meetings/{meeting.pk}/").status_code == 404
    assert api_as(world.outsider).get("/api/v1/meetings/").json()["results"] == []
    assert api_as(None).get("/api/v1/meetings/").status_code == 401
