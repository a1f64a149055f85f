"""Meetings and their minutes. Minutes are drafted by the committee, put to it as a motion,
and once that motion passes they are frozen: their SHA-256 goes into the audit chain, so a
copy can be checked against the chain years later."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alliance.errors import AccessDeniedError
from audit.models import Action
from audit.services import audit_record
from consortia.governance import effects
from consortia.governance import services as governance
from consortia.meetings import Meeting
from consortia.models import Consortium, Membership, Motion, MotionKind, User


def _require_committee(actor: Any, consortium_id: int, action: str) -> None:
    if not governance.represents(actor, consortium_id):
        raise AccessDeniedError(
            "Only the chair and steering-committee members keep meetings and minutes.",
            consortium_id=consortium_id,
            object_type="consortia.consortium",
            object_id=str(consortium_id),
            action=action,
        )


def minutes_hash(meeting: Meeting) -> str:
    """SHA-256 over the minutes and what identifies the meeting, canonical JSON (sorted keys,
    no spaces, UTF-8), so that anyone holding the text can recompute it."""
    canonical = json.dumps(
        {
            "consortium": meeting.consortium_id,
            "meeting": meeting.pk,
            "title": meeting.title,
            "held_at": meeting.held_at.astimezone(datetime.UTC).isoformat(),
            "minutes": meeting.minutes,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def meeting_create(
    *,
    actor: User,
    consortium: Consortium,
    title: str,
    held_at: datetime.datetime,
    location: str = "",
    attendees: Sequence[User] = (),
    agenda: Sequence[Motion] = (),
) -> Meeting:
    _require_committee(actor, consortium.pk, "create_meeting")
    if not title.strip():
        raise ValidationError({"title": "A meeting needs a title."})
    strangers = [
        person.username
        for person in attendees
        if not Membership.objects.filter(
            consortium=consortium, organisation_id=person.organisation_id or 0, status="active"
        ).exists()
    ]
    if strangers:
        raise ValidationError(
            {"attendees": f"Not people of member organisations: {', '.join(strangers)}."}
        )
    if any(motion.consortium_id != consortium.pk for motion in agenda):
        raise ValidationError({"agenda": "Every agenda item must be a motion of this consortium."})
    meeting = Meeting.objects.create(
        consortium=consortium,
        title=title.strip(),
        held_at=held_at,
        location=location.strip(),
        created_by=actor,
    )
    meeting.attendees.set(attendees)
    meeting.organisations.set(
        {person.organisation_id for person in attendees if person.organisation_id is not None}
    )
    meeting.agenda.set(agenda)
    audit_record(action=Action.CREATE, actor=actor, consortium_id=consortium.pk, target=meeting)
    return meeting


def _open_approval(meeting: Meeting) -> Motion | None:
    return Motion.objects.filter(
        consortium_id=meeting.consortium_id,
        kind=MotionKind.APPROVE_MINUTES,
        subject_id=str(meeting.pk),
        status=Motion.Status.OPEN,
    ).first()


@transaction.atomic
def minutes_update(*, actor: User, meeting: Meeting, minutes: str) -> Meeting:
    _require_committee(actor, meeting.consortium_id, "edit_minutes")
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.minutes_status == Meeting.MinutesStatus.APPROVED:
        raise ValidationError("Approved minutes never change.")
    if _open_approval(meeting) is not None:
        raise ValidationError("The minutes are before the committee; wait for its vote.")
    before = meeting.minutes
    meeting.minutes = minutes.strip()
    meeting.minutes_status = Meeting.MinutesStatus.DRAFT
    meeting.save(update_fields=["minutes", "minutes_status"])
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        consortium_id=meeting.consortium_id,
        target=meeting,
        changes={"minutes_length": {"before": len(before), "after": len(meeting.minutes)}},
    )
    return meeting


@transaction.atomic
def minutes_propose(*, actor: User, meeting: Meeting, closes_at: datetime.datetime) -> Motion:
    """Put the minutes to the committee: a simple-majority motion whose passing approves them."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not meeting.minutes:
        raise ValidationError({"minutes": "Write the minutes first."})
    if meeting.minutes_status == Meeting.MinutesStatus.APPROVED:
        raise ValidationError("These minutes are approved already.")
    if _open_approval(meeting) is not None:
        raise ValidationError("The minutes are before the committee already.")
    motion = governance.motion_propose(
        actor=actor,
        consortium=meeting.consortium,
        kind=MotionKind.APPROVE_MINUTES,
        title=f"Approve the minutes of {meeting}",
        text=meeting.minutes,
        subject_id=meeting.pk,
        closes_at=closes_at,
    )
    meeting.minutes_status = Meeting.MinutesStatus.PROPOSED
    meeting.save(update_fields=["minutes_status"])
    return motion


def _approve_minutes(motion: Motion) -> None:
    """The passed motion's effect: freeze the minutes and put their hash in the chain."""
    meeting = Meeting.objects.select_for_update().get(
        pk=motion.subject_id, consortium_id=motion.consortium_id
    )
    if meeting.minutes != motion.text:
        raise ValidationError("The minutes changed after they were put to the committee.")
    meeting.minutes_sha256 = minutes_hash(meeting)
    meeting.minutes_status = Meeting.MinutesStatus.APPROVED
    meeting.approved_at = timezone.now()
    meeting.save(update_fields=["minutes_sha256", "minutes_status", "approved_at"])
    audit_record(
        action=Action.APPROVE,
        actor=None,
        consortium_id=meeting.consortium_id,
        target=meeting,
        changes={"minutes_sha256": {"before": None, "after": meeting.minutes_sha256}},
        reason=f"Motion {motion.number} passed",
    )


effects.register(MotionKind.APPROVE_MINUTES, _approve_minutes)


def minutes_pdf(*, actor: Any, meeting: Meeting) -> bytes:
    """The meeting and its minutes as a PDF (a draft says so); the download is recorded."""
    from consortia.minutes_pdf import render_minutes

    pdf = render_minutes(meeting)
    audit_record(
        action=Action.DOWNLOAD,
        actor=actor,
        consortium_id=meeting.consortium_id,
        target=meeting,
        changes={"sha256": {"before": None, "after": hashlib.sha256(pdf).hexdigest()}},
    )
    return pdf
