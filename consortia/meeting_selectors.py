"""Reading meetings under the access policy: everyone who sees a consortium sees them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from alliance.errors import NotVisibleError
from consortia import permissions
from consortia.meetings import Meeting
from consortia.models import Consortium, Motion, User


def visible_meetings(user: Any) -> QuerySet[Meeting]:
    return Meeting.objects.filter(
        consortium__in=permissions.visible_consortia(user).values("pk")
    ).select_related("consortium")


def get_meeting_for(user: Any, pk: Any) -> Meeting:
    meeting = visible_meetings(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if meeting is None:
        raise NotVisibleError(
            "No meeting matches the given query.",
            consortium_id=Meeting.objects.filter(pk=pk)
            .values_list("consortium_id", flat=True)
            .first()
            if str(pk).isdigit()
            else None,
            object_type="consortia.meeting",
            object_id=str(pk)[:64],
            action="view",
        )
    return meeting


def possible_attendees(consortium: Consortium) -> QuerySet[User]:
    return User.objects.filter(
        organisation__memberships__consortium=consortium,
        organisation__memberships__status="active",
        is_active=True,
    ).order_by("last_name", "username")


def agenda_candidates(consortium: Consortium) -> QuerySet[Motion]:
    return Motion.objects.filter(consortium=consortium).order_by("-number")


def approval_motions(meeting: Meeting) -> QuerySet[Motion]:
    return Motion.objects.filter(
        consortium_id=meeting.consortium_id, kind="approve_minutes", subject_id=str(meeting.pk)
    ).order_by("-number")
