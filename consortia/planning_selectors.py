"""Reading risk registers and plans under the access policy: everyone who sees a consortium
sees its register and plan; nobody else learns they exist."""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.utils import timezone

from alliance.errors import NotVisibleError
from consortia import permissions
from consortia.models import Consortium, Membership, Organisation
from consortia.planning import Milestone, Risk

BY_SCORE = ((F("likelihood") * F("impact")).desc(), "-impact", "title", "pk")


def visible_risks(user: Any) -> QuerySet[Risk]:
    return Risk.objects.filter(
        consortium__in=permissions.visible_consortia(user).values("pk")
    ).select_related("consortium", "owner")


def visible_milestones(user: Any) -> QuerySet[Milestone]:
    return Milestone.objects.filter(
        consortium__in=permissions.visible_consortia(user).values("pk")
    ).select_related("consortium")


def _not_visible(model: type[Risk] | type[Milestone], pk: Any) -> NotVisibleError:
    consortium_id = (
        model.objects.filter(pk=pk).values_list("consortium_id", flat=True).first()
        if str(pk).isdigit()
        else None
    )
    return NotVisibleError(
        f"No {model._meta.verbose_name} matches the given query.",
        consortium_id=consortium_id,
        object_type=model._meta.label_lower,
        object_id=str(pk)[:64],
        action="view",
    )


def get_risk_for(user: Any, pk: Any) -> Risk:
    risk = visible_risks(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if risk is None:
        raise _not_visible(Risk, pk)
    return risk


def get_milestone_for(user: Any, pk: Any) -> Milestone:
    milestone = visible_milestones(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if milestone is None:
        raise _not_visible(Milestone, pk)
    return milestone


def risks_by_score(risks: QuerySet[Risk]) -> QuerySet[Risk]:
    """Highest score first, with the score as a column (``score_value``) for the API's
    cursor to page on."""
    return risks.annotate(score_value=F("likelihood") * F("impact")).order_by(
        "-score_value", "-impact", "pk"
    )


def risk_list(user: Any, consortium_id: int | None = None) -> QuerySet[Risk]:
    """Risks the user sees (of one consortium if given), highest score first."""
    risks = visible_risks(user)
    if consortium_id is not None:
        risks = risks.filter(consortium_id=consortium_id)
    return risks.order_by(*BY_SCORE)


def milestone_list(user: Any, consortium_id: int | None = None) -> QuerySet[Milestone]:
    milestones = visible_milestones(user)
    if consortium_id is not None:
        milestones = milestones.filter(consortium_id=consortium_id)
    return milestones.order_by("consortium_id", "position", "pk")


def owner_choices(consortium: Consortium) -> QuerySet[Organisation]:
    """Organisations that may own a risk: the consortium's active members."""
    return Organisation.objects.filter(
        memberships__consortium=consortium, memberships__status=Membership.Status.ACTIVE
    ).order_by("name")


def organisation_for_owner(pk: Any) -> Organisation | None:
    """The organisation given by id as a risk's owner (None for none); the service checks
    that it is a member. Which consortia it is in stays private."""
    if pk in (None, ""):
        return None
    organisation = Organisation.objects.filter(pk=pk).first() if str(pk).isdigit() else None
    if organisation is None:
        raise ValidationError({"owner": "No organisation has this id."})
    return organisation


class MilestoneState(enum.StrEnum):
    DONE = "done"
    DUE = "due"
    SLIPPING = "slipping"


@dataclass(frozen=True)
class MilestoneProgress:
    milestone: Milestone
    state: MilestoneState
    days_late: int  # past the due date: until today if open, until it was reached if done
    days_left: int  # until the due date, for a milestone still due

    @property
    def label(self) -> str:
        if self.state == MilestoneState.DONE:
            late = f", {self.days_late} days late" if self.days_late else ""
            return f"Done on {self.milestone.done_on:%d %b %Y}{late}"
        if self.state == MilestoneState.SLIPPING:
            return f"Slipping: {self.days_late} days late"
        return f"Due in {self.days_left} days"


@dataclass(frozen=True)
class Plan:
    consortium: Consortium
    milestones: list[MilestoneProgress]
    today: datetime.date

    @property
    def total(self) -> int:
        return len(self.milestones)

    @property
    def done(self) -> int:
        return sum(1 for item in self.milestones if item.state == MilestoneState.DONE)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def slipping(self) -> list[MilestoneProgress]:
        return [item for item in self.milestones if item.state == MilestoneState.SLIPPING]

    @property
    def next_due(self) -> MilestoneProgress | None:
        return next((item for item in self.milestones if item.state != MilestoneState.DONE), None)


def progress_of(milestone: Milestone, today: datetime.date) -> MilestoneProgress:
    if milestone.done_on is not None:
        state = MilestoneState.DONE
    elif milestone.is_slipping(today):
        state = MilestoneState.SLIPPING
    else:
        state = MilestoneState.DUE
    days_left = max(0, (milestone.due_on - today).days) if state == MilestoneState.DUE else 0
    return MilestoneProgress(milestone, state, milestone.days_late(today), days_left)


def plan_for(user: Any, consortium: Consortium, today: datetime.date | None = None) -> Plan:
    """The consortium's plan with each milestone's state and the progress so far."""
    today = today or timezone.localdate()
    return Plan(
        consortium=consortium,
        milestones=[
            progress_of(milestone, today) for milestone in milestone_list(user, consortium.pk)
        ],
        today=today,
    )
