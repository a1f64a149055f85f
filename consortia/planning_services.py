"""Every change to a consortium's risk register and operationalization plan.

The chair and steering-committee members keep both; other people who see the consortium
read them (403 on a write), people who do not see it get 404. Each write validates first,
so bad input writes nothing, then saves and records its audit event in one transaction.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from alliance.errors import AccessDeniedError, NotVisibleError
from audit.models import Action
from audit.services import audit_record, changes_between, snapshot
from consortia import permissions, planning_data
from consortia.models import Consortium, Membership, Organisation, Role, User
from consortia.permissions import ConsortiumAction
from consortia.planning import SCALE_MAX, SCALE_MIN, Milestone, Risk

PLAN_KEEPERS = frozenset({Role.CHAIR, Role.STEERING_MEMBER})
RISK_FIELDS = (
    "title",
    "description",
    "category",
    "likelihood",
    "impact",
    "owner",
    "mitigations",
    "status",
    "review_on",
)
RISK_UPDATABLE = frozenset({"likelihood", "impact", "status", "mitigations", "owner", "review_on"})
MILESTONE_FIELDS = ("done_on", "notes")


def _today() -> datetime.date:
    return timezone.localdate()


def may_keep_plan(user: Any, consortium_id: int) -> bool:
    """The chair and steering-committee members (of an active member) keep the register
    and the plan."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(permissions.standing(user, consortium_id).roles & PLAN_KEEPERS)


def require_keeper(actor: Any, consortium_id: int, target: models.Model, action: str) -> None:
    """404 unless ``actor`` sees the consortium, 403 unless they keep its register and plan."""
    if ConsortiumAction.VIEW not in permissions.consortium_rights(actor, consortium_id):
        raise NotVisibleError(
            f"No {target._meta.verbose_name} matches the given query.",
            consortium_id=consortium_id,
            object_type=target._meta.label_lower,
            object_id=str(target.pk or ""),
            action=action,
        )
    if not may_keep_plan(actor, consortium_id):
        raise AccessDeniedError(
            "Only the chair and steering-committee members keep the risk register and the plan.",
            consortium_id=consortium_id,
            object_type=target._meta.label_lower,
            object_id=str(target.pk or consortium_id),
            action=action,
        )


def _require_not_dissolved(consortium: Consortium) -> None:
    if consortium.status == Consortium.Status.DISSOLVED:
        raise ValidationError("This consortium is dissolved; its register and plan are closed.")


def _founded_on(consortium: Consortium) -> datetime.date:
    return timezone.localdate(consortium.created_at)


# Seeding -----------------------------------------------------------------------------------


@transaction.atomic
def seed_for(consortium: Consortium) -> int:
    """Give the consortium the risks and milestones of its partnership model; returns how
    many rows were added. Idempotent: what is there already (by key) is left alone, so the
    committee's edits survive a second run."""
    model = consortium.partnership_model
    founded_on = _founded_on(consortium)
    risk_keys = set(consortium.risks.exclude(key="").values_list("key", flat=True))
    risks = [
        Risk(
            consortium=consortium,
            key=template.key,
            title=template.title,
            description=template.description,
            category=template.category,
            likelihood=template.likelihood,
            impact=template.impact,
            mitigations=template.mitigations,
            review_on=planning_data.add_months(founded_on, planning_data.FIRST_REVIEW_MONTHS),
            from_model=True,
        )
        for template in planning_data.planned_risks(model.code)
        if template.key not in risk_keys
    ]
    milestone_keys = set(consortium.milestones.values_list("key", flat=True))
    milestones = [
        Milestone(
            consortium=consortium,
            key=planned.template.key,
            title=planned.template.title,
            description=planned.template.description,
            position=planned.position,
            target_months=planned.target_months,
            due_on=planned.due_on,
        )
        for planned in planning_data.planned_milestones(
            model.code,
            model.time_to_operationalize_min_months,
            model.time_to_operationalize_max_months,
            founded_on,
        )
        if planned.template.key not in milestone_keys
    ]
    # ignore_conflicts: two concurrent seedings of one consortium add each row once.
    Risk.objects.bulk_create(risks, ignore_conflicts=True)
    Milestone.objects.bulk_create(milestones, ignore_conflicts=True)
    return len(risks) + len(milestones)


# Risks -------------------------------------------------------------------------------------


def _scale_error(value: Any, name: str) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not SCALE_MIN <= value <= SCALE_MAX:
        return f"{name} is a whole number from {SCALE_MIN} to {SCALE_MAX}."
    return None


def _owner_error(consortium_id: int, owner: Any) -> str | None:
    if owner is None:
        return None
    if not isinstance(owner, Organisation):
        return "Name a member organisation."
    is_member = Membership.objects.filter(
        consortium_id=consortium_id, organisation=owner, status=Membership.Status.ACTIVE
    ).exists()
    return None if is_member else f"{owner} is not an active member of this consortium."


def _risk_errors(consortium_id: int, fields: dict[str, Any]) -> dict[str, str]:
    """Field errors of a risk's new values (only the fields given)."""
    errors: dict[str, str] = {}
    if "title" in fields and not str(fields["title"]).strip():
        errors["title"] = "A risk needs a title."
    if "category" in fields and fields["category"] not in Risk.Category.values:
        errors["category"] = f"Choose one of: {', '.join(Risk.Category.values)}."
    for name in ("likelihood", "impact"):
        if name in fields and (message := _scale_error(fields[name], name.capitalize())):
            errors[name] = message
    if "status" in fields and fields["status"] not in Risk.Status.values:
        errors["status"] = f"Choose one of: {', '.join(Risk.Status.values)}."
    if "review_on" in fields and not isinstance(fields["review_on"], datetime.date):
        errors["review_on"] = "Give the date of the next review."
    if "owner" in fields and (message := _owner_error(consortium_id, fields["owner"])):
        errors["owner"] = message
    return errors


@transaction.atomic
def risk_create(
    *,
    actor: User,
    consortium: Consortium,
    title: str,
    category: str,
    likelihood: int,
    impact: int,
    description: str = "",
    mitigations: str = "",
    owner: Organisation | None = None,
    status: str = Risk.Status.OPEN,
    review_on: datetime.date | None = None,
) -> Risk:
    """Add a risk to the register; its first review defaults to a quarter from today."""
    require_keeper(actor, consortium.pk, consortium, "create_risk")
    _require_not_dissolved(consortium)
    if review_on is None:
        review_on = planning_data.add_months(_today(), planning_data.FIRST_REVIEW_MONTHS)
    fields: dict[str, Any] = {
        "title": title,
        "category": category,
        "likelihood": likelihood,
        "impact": impact,
        "owner": owner,
        "status": status,
        "review_on": review_on,
    }
    errors = _risk_errors(consortium.pk, fields)
    if errors:
        raise ValidationError(errors)
    risk = Risk(
        consortium=consortium,
        title=title.strip(),
        description=description.strip(),
        category=category,
        likelihood=likelihood,
        impact=impact,
        owner=owner,
        mitigations=mitigations.strip(),
        status=status,
        review_on=review_on,
    )
    risk.full_clean()
    risk.save()
    audit_record(
        action=Action.CREATE,
        actor=actor,
        consortium_id=consortium.pk,
        target=risk,
        related=consortium,
        changes=changes_between(None, snapshot(risk, RISK_FIELDS)),
    )
    return risk


@transaction.atomic
def risk_update(*, actor: User, risk: Risk, reason: str = "", **fields: Any) -> Risk:
    """Re-assess a risk: likelihood, impact, status, mitigations, owner, next review."""
    require_keeper(actor, risk.consortium_id, risk, "change_risk")
    unknown = set(fields) - RISK_UPDATABLE
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed here."))
    errors = _risk_errors(risk.consortium_id, fields)
    if errors:
        raise ValidationError(errors)
    risk = Risk.objects.select_for_update().select_related("consortium").get(pk=risk.pk)
    _require_not_dissolved(risk.consortium)
    before = snapshot(risk, RISK_FIELDS)
    for name, value in fields.items():
        setattr(risk, name, value.strip() if isinstance(value, str) else value)
    changes = changes_between(before, snapshot(risk, RISK_FIELDS))
    if not changes:
        return risk
    risk.full_clean()
    risk.save()
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        consortium_id=risk.consortium_id,
        target=risk,
        related=risk.consortium,
        changes=changes,
        reason=reason,
    )
    return risk


# Milestones --------------------------------------------------------------------------------


def _locked_milestone(milestone: Milestone) -> Milestone:
    return Milestone.objects.select_for_update().select_related("consortium").get(pk=milestone.pk)


@transaction.atomic
def milestone_complete(
    *, actor: User, milestone: Milestone, done_on: datetime.date | None = None, notes: str = ""
) -> Milestone:
    """Mark a milestone reached (today unless said otherwise), with its evidence."""
    require_keeper(actor, milestone.consortium_id, milestone, "complete_milestone")
    milestone = _locked_milestone(milestone)
    _require_not_dissolved(milestone.consortium)
    today = _today()
    done_on = today if done_on is None else done_on
    errors: dict[str, str] = {}
    if done_on > today:
        errors["done_on"] = "A milestone cannot be reached in the future."
    elif done_on < _founded_on(milestone.consortium):
        errors["done_on"] = "A milestone cannot be reached before the consortium was founded."
    elif milestone.done_on is not None:
        errors["done_on"] = (
            f"This milestone was reached on {milestone.done_on:%d %B %Y}; reopen it first."
        )
    if errors:
        raise ValidationError(errors)
    before = snapshot(milestone, MILESTONE_FIELDS)
    milestone.done_on = done_on
    milestone.notes = notes.strip()
    milestone.full_clean()
    milestone.save()
    audit_record(
        action=Action.TRANSITION,
        actor=actor,
        consortium_id=milestone.consortium_id,
        target=milestone,
        related=milestone.consortium,
        changes=changes_between(before, snapshot(milestone, MILESTONE_FIELDS)),
        reason="Milestone reached",
    )
    return milestone


@transaction.atomic
def milestone_reached(*, consortium_id: int, key: str, notes: str) -> Milestone | None:
    """Mark a milestone of the plan reached by the event that reaches it (the first approved
    site, the first allocation), recorded by the app where it happened. A milestone already
    reached, or not in this consortium's plan, is left as it is."""
    milestone = (
        Milestone.objects.select_for_update()
        .filter(consortium_id=consortium_id, key=key, done_on__isnull=True)
        .first()
    )
    if milestone is None:
        return None
    before = snapshot(milestone, MILESTONE_FIELDS)
    milestone.done_on = _today()
    milestone.notes = notes.strip()
    milestone.save()
    audit_record(
        action=Action.TRANSITION,
        actor=None,
        consortium_id=consortium_id,
        target=milestone,
        changes=changes_between(before, snapshot(milestone, MILESTONE_FIELDS)),
        reason="Milestone reached",
    )
    return milestone


@transaction.atomic
def milestone_reopen(*, actor: User, milestone: Milestone, reason: str = "") -> Milestone:
    """Take back a milestone marked reached by mistake or undone since. Its notes stay."""
    require_keeper(actor, milestone.consortium_id, milestone, "reopen_milestone")
    milestone = _locked_milestone(milestone)
    _require_not_dissolved(milestone.consortium)
    if milestone.done_on is None:
        raise ValidationError({"done_on": "This milestone is not reached; nothing to reopen."})
    before = snapshot(milestone, MILESTONE_FIELDS)
    milestone.done_on = None
    milestone.save()
    audit_record(
        action=Action.TRANSITION,
        actor=actor,
        consortium_id=milestone.consortium_id,
        target=milestone,
        related=milestone.consortium,
        changes=changes_between(before, snapshot(milestone, MILESTONE_FIELDS)),
        reason=reason.strip() or "Milestone reopened",
    )
    return milestone
