"""Every state change of agreements: drafting, review, approval, execution.

Each service checks the policy, validates, writes in one transaction and records its audit
event in the consortium's chain, related to the agreement.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from agreements import content
from agreements import permissions as policy
from agreements.models import (
    Agreement,
    AgreementVersion,
    Approval,
    Clause,
    ClauseKind,
    ClauseTemplate,
    Party,
    PartyRole,
)
from agreements.permissions import AgreementAction
from alliance.errors import AccessDeniedError
from audit.models import Action
from audit.services import audit_record, changes_between, snapshot
from consortia.models import Consortium, Jurisdiction, Membership, Organisation, User

AGREEMENT_FIELDS = (
    "title",
    "kind",
    "governing_law",
    "effective_on",
    "expires_on",
    "status",
    "requires_steering_approval",
)
CLAUSE_FIELDS = ("heading", "body", "kind", "level", "position")
EDITABLE_AGREEMENT_FIELDS = frozenset(
    {"title", "governing_law", "effective_on", "expires_on", "requires_steering_approval"}
)
ACTIVE_VERSION_STATUSES = (
    AgreementVersion.Status.DRAFT,
    AgreementVersion.Status.IN_REVIEW,
    AgreementVersion.Status.APPROVED,
    AgreementVersion.Status.OUT_FOR_SIGNATURE,
)


def _audit(
    actor: Any, action: str, agreement: Agreement, target: models.Model, **details: Any
) -> None:
    audit_record(
        action=action,
        actor=actor,
        consortium_id=agreement.consortium_id,
        target=target,
        related=agreement,
        **details,
    )


def _locked_agreement(agreement: Agreement) -> Agreement:
    return Agreement.objects.select_for_update().select_related("consortium").get(pk=agreement.pk)


def _locked_version(version: AgreementVersion) -> AgreementVersion:
    return (
        AgreementVersion.objects.select_for_update()
        .select_related("agreement__consortium")
        .get(pk=version.pk)
    )


def _require_draft(version: AgreementVersion) -> None:
    if not version.is_editable:
        raise ValidationError(
            f"Version {version.number} is {version.get_status_display().lower()}; only a draft can be edited. "
            "Reopen it or start a new version."
        )


def current_version(agreement: Agreement) -> AgreementVersion | None:
    """The version being worked on, or else the latest one."""
    versions = agreement.versions.order_by("-number")
    return versions.filter(status__in=ACTIVE_VERSION_STATUSES).first() or versions.first()


# Agreements ---------------------------------------------------------------------------------


@transaction.atomic
def agreement_create(
    *,
    actor: User,
    consortium: Consortium,
    kind: str,
    title: str,
    governing_law: Jurisdiction,
    effective_on: datetime.date | None = None,
    expires_on: datetime.date | None = None,
    requires_steering_approval: bool = False,
) -> Agreement:
    """Start an agreement with an empty draft version 1."""
    if not policy.can_draft_in(actor, consortium.pk):
        raise AccessDeniedError(
            "Only the consortium's legal people and its chair draft agreements.",
            consortium_id=consortium.pk,
            object_type="consortia.consortium",
            object_id=str(consortium.pk),
            action=AgreementAction.DRAFT.value,
        )
    if consortium.status == Consortium.Status.DISSOLVED:
        raise ValidationError("A dissolved consortium makes no new agreements.")
    agreement = Agreement(
        consortium=consortium,
        kind=kind,
        title=title.strip(),
        governing_law=governing_law,
        effective_on=effective_on,
        expires_on=expires_on,
        requires_steering_approval=requires_steering_approval,
    )
    agreement.full_clean()
    agreement.save()
    version = AgreementVersion.objects.create(
        agreement=agreement, number=1, created_by_display=actor.username, note="First draft"
    )
    _audit(
        actor,
        Action.CREATE,
        agreement,
        agreement,
        changes=changes_between(None, snapshot(agreement, AGREEMENT_FIELDS)),
    )
    _audit(
        actor, Action.CREATE, agreement, version, changes={"number": {"before": None, "after": 1}}
    )
    return agreement


@transaction.atomic
def agreement_update(*, actor: User, agreement: Agreement, **fields: Any) -> Agreement:
    """Change a draft agreement's title, governing law, dates or approval rule."""
    policy.require(actor, AgreementAction.DRAFT, agreement)
    unknown = set(fields) - EDITABLE_AGREEMENT_FIELDS
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    agreement = _locked_agreement(agreement)
    if agreement.status != Agreement.Status.DRAFT:
        raise ValidationError(
            "Only a draft agreement's details can change; amendments are new versions."
        )
    before = snapshot(agreement, AGREEMENT_FIELDS)
    for name, value in fields.items():
        setattr(agreement, name, value.strip() if isinstance(value, str) else value)
    changes = changes_between(before, snapshot(agreement, AGREEMENT_FIELDS))
    if changes:
        agreement.full_clean()
        agreement.save()
        _audit(actor, Action.UPDATE, agreement, agreement, changes=changes)
    return agreement


# Parties ------------------------------------------------------------------------------------


@transaction.atomic
def party_add(
    *,
    actor: User,
    agreement: Agreement,
    organisation: Organisation,
    role: str,
    signatory: User | None = None,
    signing_order: int = 0,
) -> Party:
    """Bind a member organisation to the agreement in a role, with its signatory."""
    policy.require(actor, AgreementAction.DRAFT, agreement)
    agreement = _locked_agreement(agreement)
    if agreement.status != Agreement.Status.DRAFT:
        raise ValidationError("Parties change only while the agreement is a draft.")
    if role not in PartyRole.values:
        raise ValidationError({"role": f"{role!r} is not a party role."})
    if not Membership.objects.filter(
        consortium_id=agreement.consortium_id,
        organisation=organisation,
        status=Membership.Status.ACTIVE,
    ).exists():
        raise ValidationError(
            {"organisation": f"{organisation} is not an active member of this consortium."}
        )
    if signatory is not None and signatory.organisation_id != organisation.pk:
        raise ValidationError(
            {"signatory": f"{signatory.username} does not belong to {organisation}."}
        )
    if agreement.parties.filter(organisation=organisation, role=role).exists():
        raise ValidationError(
            {"role": f"{organisation} is already a {PartyRole(role).label.lower()} here."}
        )
    party = Party.objects.create(
        agreement=agreement,
        organisation=organisation,
        role=role,
        signatory=signatory,
        signing_order=signing_order,
    )
    _audit(
        actor,
        Action.CREATE,
        agreement,
        party,
        changes={
            "role": {"before": None, "after": role},
            "signatory": {"before": None, "after": signatory.username if signatory else None},
        },
    )
    return party


@transaction.atomic
def party_remove(*, actor: User, party: Party) -> None:
    policy.require(actor, AgreementAction.DRAFT, party)
    agreement = _locked_agreement(party.agreement)
    if agreement.status != Agreement.Status.DRAFT:
        raise ValidationError("Parties change only while the agreement is a draft.")
    _audit(
        actor,
        Action.DELETE,
        agreement,
        party,
        changes={"role": {"before": party.role, "after": None}},
    )
    party.delete()


# Clauses ------------------------------------------------------------------------------------


def _renumber(version: AgreementVersion, ordered: list[Clause]) -> None:
    """Write positions 1..n in the given order. Positions are unique per version, so the rows
    step aside (to positions past any in use) before they take their new places."""
    aside = 1 + max((clause.position for clause in ordered), default=0) + len(ordered)
    for index, clause in enumerate(ordered, start=1):
        clause.position = aside + index
    Clause.objects.bulk_update(ordered, ["position"])
    for index, clause in enumerate(ordered, start=1):
        clause.position = index
    Clause.objects.bulk_update(ordered, ["position"])


def _template_values(agreement: Agreement) -> dict[str, str]:
    parties = sorted(
        {party.organisation.name for party in agreement.parties.select_related("organisation")}
    )
    return {
        "parties": ", ".join(parties) if parties else "the Parties",
        "consortium": agreement.consortium.name,
        "governing_law": agreement.governing_law.name,
        "effective_on": agreement.effective_on.isoformat()
        if agreement.effective_on
        else "the date of the last signature",
        "jurisdiction": agreement.consortium.home_jurisdiction.name,
    }


@transaction.atomic
def clause_add(
    *,
    actor: User,
    version: AgreementVersion,
    heading: str = "",
    body: str = "",
    kind: str = ClauseKind.GENERAL,
    level: int = 0,
    position: int | None = None,
    template: ClauseTemplate | None = None,
) -> Clause:
    """Add a clause to a draft, blank or from the library (placeholders filled in), at the end
    or at ``position``."""
    policy.require(actor, AgreementAction.DRAFT, version)
    version = _locked_version(version)
    _require_draft(version)
    if template is not None:
        values = _template_values(version.agreement)
        heading = heading or template.title
        body = content.fill_template(template.body, values)
        kind = template.kind
    clause = Clause(
        version=version,
        heading=heading.strip(),
        body=body.strip(),
        kind=kind,
        level=level,
        position=0,
    )
    clause.full_clean(exclude=["position"])
    ordered = list(version.clauses.order_by("position"))
    index = len(ordered) if position is None else max(0, min(position - 1, len(ordered)))
    clause.position = len(ordered) + 1
    clause.save()
    ordered.insert(index, clause)
    _renumber(version, ordered)
    _audit(
        actor,
        Action.CREATE,
        version.agreement,
        clause,
        changes=changes_between(None, snapshot(clause, CLAUSE_FIELDS)),
        reason=f"from library: {template.slug}" if template else "",
    )
    return clause


@transaction.atomic
def clause_update(*, actor: User, clause: Clause, **fields: Any) -> Clause:
    policy.require(actor, AgreementAction.DRAFT, clause)
    version = _locked_version(clause.version)
    _require_draft(version)
    unknown = set(fields) - {"heading", "body", "kind", "level"}
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    clause = Clause.objects.get(pk=clause.pk)
    before = snapshot(clause, CLAUSE_FIELDS)
    for name, value in fields.items():
        setattr(clause, name, value.strip() if isinstance(value, str) else value)
    changes = changes_between(before, snapshot(clause, CLAUSE_FIELDS))
    if changes:
        clause.full_clean()
        clause.save()
        _audit(actor, Action.UPDATE, version.agreement, clause, changes=changes)
    return clause


@transaction.atomic
def clause_move(*, actor: User, clause: Clause, position: int) -> Clause:
    """Move a clause to ``position`` (1-based) in its draft version."""
    policy.require(actor, AgreementAction.DRAFT, clause)
    version = _locked_version(clause.version)
    _require_draft(version)
    ordered = list(version.clauses.order_by("position"))
    if not 1 <= position <= len(ordered):
        raise ValidationError({"position": f"Choose a position from 1 to {len(ordered)}."})
    moving = next(item for item in ordered if item.pk == clause.pk)
    previous = moving.position
    ordered.remove(moving)
    ordered.insert(position - 1, moving)
    _renumber(version, ordered)
    _audit(
        actor,
        Action.UPDATE,
        version.agreement,
        moving,
        changes={"position": {"before": previous, "after": position}},
    )
    return moving


@transaction.atomic
def clause_delete(*, actor: User, clause: Clause) -> None:
    policy.require(actor, AgreementAction.DRAFT, clause)
    version = _locked_version(clause.version)
    _require_draft(version)
    _audit(
        actor,
        Action.DELETE,
        version.agreement,
        clause,
        changes=changes_between(snapshot(clause, CLAUSE_FIELDS), None),
    )
    clause.delete()
    _renumber(version, list(version.clauses.order_by("position")))


# Review, approval, signature, execution ------------------------------------------------------


def _content_of(version: AgreementVersion) -> list[dict[str, Any]]:
    return [
        {
            "key": str(key),
            "level": level,
            "kind": kind,
            "heading": heading,
            "body": body,
            "terms": terms,
        }
        for key, level, kind, heading, body, terms in version.clauses.order_by(
            "position"
        ).values_list("key", "level", "kind", "heading", "body", "terms")
    ]


def _set_status(
    agreement: Agreement, version: AgreementVersion, status: str, **version_fields: Any
) -> None:
    previous = agreement.status
    if agreement.status not in (Agreement.Status.EXECUTED,) or status == Agreement.Status.EXECUTED:
        agreement.status = status
        agreement.save(update_fields=["status", "updated_at"])
    version.status = status
    for name, value in version_fields.items():
        setattr(version, name, value)
    version.save(update_fields=["status", *version_fields])
    del previous


@transaction.atomic
def version_submit(*, actor: User, version: AgreementVersion) -> AgreementVersion:
    """Freeze a draft for review: its content hash is fixed and the parties approve it."""
    policy.require(actor, AgreementAction.DRAFT, version)
    version = _locked_version(version)
    agreement = _locked_agreement(version.agreement)
    _require_draft(version)
    clauses = _content_of(version)
    if not clauses:
        raise ValidationError("A version needs at least one clause before review.")
    if not agreement.parties.exists():
        raise ValidationError("An agreement needs its parties before review.")
    _set_status(
        agreement,
        version,
        AgreementVersion.Status.IN_REVIEW,
        content_hash=content.content_hash(clauses),
        frozen_at=timezone.now(),
    )
    _audit(
        actor,
        Action.TRANSITION,
        agreement,
        version,
        changes={
            "status": {"before": "draft", "after": "in_review"},
            "content_hash": {"before": None, "after": version.content_hash},
        },
    )
    return version


@transaction.atomic
def version_reopen(*, actor: User, version: AgreementVersion, reason: str) -> AgreementVersion:
    """Return a version under review (or approved) to draft for edits; approvals are cleared."""
    policy.require(actor, AgreementAction.DRAFT, version)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the version goes back to draft."})
    version = _locked_version(version)
    agreement = _locked_agreement(version.agreement)
    if version.status not in (AgreementVersion.Status.IN_REVIEW, AgreementVersion.Status.APPROVED):
        raise ValidationError(
            f"A version that is {version.get_status_display().lower()} cannot go back to draft."
        )
    cleared = clear_approvals(actor, version, reason)
    previous = version.status
    _set_status(agreement, version, AgreementVersion.Status.DRAFT, frozen_at=None)
    _audit(
        actor,
        Action.TRANSITION,
        agreement,
        version,
        changes={"status": {"before": previous, "after": "draft"}, "approvals_cleared": cleared},
        reason=reason,
    )
    return version


def clear_approvals(actor: User, version: AgreementVersion, reason: str) -> int:
    count = 0
    for approval in version.approvals.select_related("organisation"):
        _audit(
            actor, Action.REVOKE, version.agreement, approval, reason=f"Approval cleared: {reason}"
        )
        count += 1
    version.approvals.all().delete()
    return count


def approvals_missing(version: AgreementVersion) -> list[str]:
    """Who still has to approve: party organisations, and the steering committee if required."""
    agreement = Agreement.objects.get(pk=version.agreement_id)
    approved = set(
        version.approvals.filter(is_steering=False).values_list("organisation_id", flat=True)
    )
    parties = agreement.parties.values_list("organisation_id", "organisation__name").distinct()
    missing = {name for organisation_id, name in parties if organisation_id not in approved}
    if (
        agreement.requires_steering_approval
        and not version.approvals.filter(is_steering=True).exists()
    ):
        missing.add("the steering committee")
    return sorted(missing)


@transaction.atomic
def approval_give(
    *, actor: User, version: AgreementVersion, steering: bool = False, comment: str = ""
) -> Approval:
    """Approve a version under review: for the actor's own party organisation (legal people),
    or for the steering committee (the chair or a steering member)."""
    version = _locked_version(version)
    agreement = _locked_agreement(version.agreement)
    if steering:
        policy.require(actor, AgreementAction.APPROVE_FOR_STEERING, agreement)
        if not agreement.requires_steering_approval:
            raise ValidationError("This agreement does not need the steering committee's approval.")
    elif not policy.can_approve_for(actor, agreement, actor.organisation_id or 0):
        raise AccessDeniedError(
            "Only the legal people of a party organisation approve for it.",
            consortium_id=agreement.consortium_id,
            object_type="agreements.agreementversion",
            object_id=str(version.pk),
            action=AgreementAction.APPROVE.value,
        )
    if version.status != AgreementVersion.Status.IN_REVIEW:
        raise ValidationError(
            f"Only a version in review can be approved; this one is {version.get_status_display().lower()}."
        )
    organisation_id = None if steering else actor.organisation_id
    given = (
        version.approvals.filter(is_steering=True)
        if steering
        else version.approvals.filter(organisation_id=actor.organisation_id or 0)
    )
    if given.exists():
        raise ValidationError("This approval has already been given.")
    approval = Approval.objects.create(
        version=version,
        organisation_id=organisation_id,
        is_steering=steering,
        approved_by=actor,
        comment=comment.strip(),
    )
    _audit(
        actor,
        Action.APPROVE,
        agreement,
        approval,
        changes={"version": {"before": None, "after": version.number}},
        reason=comment,
    )
    _approve_when_complete(actor, agreement, version)
    return approval


def _approve_when_complete(
    actor: User | None, agreement: Agreement, version: AgreementVersion
) -> None:
    if not approvals_missing(version):
        _set_status(agreement, version, AgreementVersion.Status.APPROVED)
        _audit(
            actor,
            Action.TRANSITION,
            agreement,
            version,
            changes={"status": {"before": "in_review", "after": "approved"}},
            reason="Every approval given",
        )


def steering_approval_by_motion(motion: Any) -> Approval:
    """A passed motion approves the version for the steering committee (called by
    consortia.governance inside the closing transaction)."""
    version = _locked_version(AgreementVersion.objects.get(pk=motion.subject_id))
    agreement = _locked_agreement(version.agreement)
    if agreement.consortium_id != motion.consortium_id:
        raise ValidationError("The motion's version belongs to another consortium.")
    if version.status != AgreementVersion.Status.IN_REVIEW:
        raise ValidationError(
            f"Version {version.number} is {version.get_status_display().lower()}, no longer in review."
        )
    if version.approvals.filter(is_steering=True).exists():
        raise ValidationError("The steering committee has already approved this version.")
    approval = Approval.objects.create(
        version=version,
        is_steering=True,
        approved_by=motion.proposed_by,
        comment=f"Motion {motion.number} passed",
    )
    _audit(None, Action.APPROVE, agreement, approval, reason=f"Motion {motion.number} passed")
    _approve_when_complete(None, agreement, version)
    return approval


@transaction.atomic
def agreement_send_for_signature(*, actor: User, agreement: Agreement) -> Agreement:
    """Send an approved version out for signature; every party needs a signatory."""
    policy.require(actor, AgreementAction.MANAGE, agreement)
    agreement = _locked_agreement(agreement)
    version = agreement.versions.filter(status=AgreementVersion.Status.APPROVED).first()
    if version is None:
        raise ValidationError("There is no approved version to send for signature.")
    unsigned = [
        str(party)
        for party in agreement.parties.filter(signatory__isnull=True).select_related("organisation")
    ]
    if unsigned:
        raise ValidationError(f"These parties have no signatory yet: {', '.join(unsigned)}.")
    _set_status(agreement, _locked_version(version), AgreementVersion.Status.OUT_FOR_SIGNATURE)
    _audit(
        actor,
        Action.TRANSITION,
        agreement,
        version,
        changes={"status": {"before": "approved", "after": "out_for_signature"}},
    )
    from agreements import notifications

    notifications.sent_for_signature(version)
    return agreement


@transaction.atomic
def agreement_record_execution(
    *, actor: User | None, agreement: Agreement, executed_at: datetime.datetime | None = None
) -> AgreementVersion:
    """Mark the version out for signature as executed (the signing ceremony calls this when
    the last party has signed). A previously executed version is superseded by it."""
    if actor is not None:
        policy.require(actor, AgreementAction.MANAGE, agreement)
    agreement = _locked_agreement(agreement)
    version = agreement.versions.filter(status=AgreementVersion.Status.OUT_FOR_SIGNATURE).first()
    if version is None:
        raise ValidationError("There is no version out for signature.")
    for older in agreement.versions.filter(status=AgreementVersion.Status.EXECUTED):
        older.status = AgreementVersion.Status.SUPERSEDED
        older.save(update_fields=["status"])
        _audit(
            actor,
            Action.TRANSITION,
            agreement,
            older,
            changes={"status": {"before": "executed", "after": "superseded"}},
        )
    version = _locked_version(version)
    _set_status(
        agreement,
        version,
        AgreementVersion.Status.EXECUTED,
        executed_at=executed_at or timezone.now(),
    )
    _audit(
        actor,
        Action.SIGN,
        agreement,
        version,
        changes={
            "status": {"before": "out_for_signature", "after": "executed"},
            "content_hash": {"before": None, "after": version.content_hash},
        },
    )
    return version


@transaction.atomic
def version_new(*, actor: User, agreement: Agreement, note: str = "") -> AgreementVersion:
    """Open a new negotiation round (or an amendment of an executed agreement): a draft copy
    of the latest version, clause keys kept so redlines follow each clause. A version still
    in review is withdrawn by the new round; its text stays as it was."""
    policy.require(actor, AgreementAction.DRAFT, agreement)
    agreement = _locked_agreement(agreement)
    latest = agreement.versions.order_by("-number").first()
    assert latest is not None, "every agreement has a version"
    if latest.status in (AgreementVersion.Status.DRAFT, AgreementVersion.Status.OUT_FOR_SIGNATURE):
        raise ValidationError(
            f"Version {latest.number} is {latest.get_status_display().lower()}; finish it first."
        )
    if latest.status in (AgreementVersion.Status.IN_REVIEW, AgreementVersion.Status.APPROVED):
        latest = _locked_version(latest)
        clear_approvals(actor, latest, "a new round replaces this version")
        latest.status = AgreementVersion.Status.WITHDRAWN
        latest.save(update_fields=["status"])
        _audit(
            actor,
            Action.TRANSITION,
            agreement,
            latest,
            changes={"status": {"before": "in_review", "after": "withdrawn"}},
        )
    version = AgreementVersion.objects.create(
        agreement=agreement,
        number=latest.number + 1,
        based_on=latest,
        note=note.strip(),
        created_by_display=actor.username,
    )
    Clause.objects.bulk_create(
        [
            Clause(
                version=version,
                key=clause.key,
                position=clause.position,
                level=clause.level,
                kind=clause.kind,
                heading=clause.heading,
                body=clause.body,
                terms=clause.terms,
            )
            for clause in latest.clauses.order_by("position")
        ]
    )
    if agreement.status != Agreement.Status.EXECUTED:
        agreement.status = Agreement.Status.DRAFT
        agreement.save(update_fields=["status", "updated_at"])
    _audit(
        actor,
        Action.CREATE,
        agreement,
        version,
        changes={
            "number": {"before": None, "after": version.number},
            "based_on": {"before": None, "after": latest.number},
        },
        reason=note,
    )
    return version


@transaction.atomic
def agreement_terminate(*, actor: User, agreement: Agreement, reason: str) -> Agreement:
    policy.require(actor, AgreementAction.MANAGE, agreement)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the agreement is terminated."})
    agreement = _locked_agreement(agreement)
    if agreement.status != Agreement.Status.EXECUTED:
        raise ValidationError("Only an executed agreement can be terminated.")
    agreement.status = Agreement.Status.TERMINATED
    agreement.save(update_fields=["status", "updated_at"])
    _audit(
        actor,
        Action.TRANSITION,
        agreement,
        agreement,
        changes={"status": {"before": "executed", "after": "terminated"}},
        reason=reason,
    )
    return agreement


@transaction.atomic
def agreement_expire(*, agreement: Agreement) -> bool:
    """Move an executed agreement past its expiry date to expired (the system does this)."""
    agreement = _locked_agreement(agreement)
    if agreement.status != Agreement.Status.EXECUTED or agreement.expires_on is None:
        return False
    if agreement.expires_on > timezone.localdate():
        return False
    agreement.status = Agreement.Status.EXPIRED
    agreement.save(update_fields=["status", "updated_at"])
    _audit(
        None,
        Action.TRANSITION,
        agreement,
        agreement,
        changes={"status": {"before": "executed", "after": "expired"}},
        reason=f"Expired on {agreement.expires_on}",
    )
    return True


@transaction.atomic
def agreement_claim_expiry_notice(*, agreement: Agreement) -> bool:
    """Claim today's expiry notice for an agreement, once: False if already sent."""
    claimed = (
        Agreement.objects.filter(pk=agreement.pk)
        .exclude(expiry_notified_on__isnull=False)
        .update(expiry_notified_on=timezone.localdate())
    )
    if claimed:
        _audit(
            None,
            Action.NOTIFY,
            agreement,
            agreement,
            reason=f"Expires on {agreement.expires_on}; legal people notified",
        )
    return bool(claimed)
