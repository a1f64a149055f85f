"""Motions and votes: propose, vote (for one's organisation or as its proxy), recuse, lend a
vote, close. Every write is one transaction with its audit event; closing applies the passed
motion's effect in the same transaction, so an outcome never stands without its effect."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max, Q
from django.utils import timezone

from alliance.errors import AccessDeniedError
from audit.models import Action
from audit.services import audit_record
from consortia import permissions
from consortia.governance import effects, notifications
from consortia.governance.tally import (
    Abstentions,
    Ballot,
    Choice,
    QuorumBasis,
    Rule,
    RuleSpec,
    Tally,
    Voter,
    tally,
)
from consortia.models import (
    Consortium,
    Membership,
    Motion,
    MotionKind,
    MotionVoter,
    Organisation,
    Proxy,
    Role,
    User,
    Vote,
)

REPRESENTATIVES = (Role.CHAIR, Role.STEERING_MEMBER)
# Kinds whose effect exists in this app; the others come with the apps that own their
# subjects (see available_kinds).
BUILT_IN_KINDS = frozenset(
    {
        MotionKind.ADMIT_MEMBER,
        MotionKind.SUSPEND_MEMBER,
        MotionKind.REMOVE_MEMBER,
        MotionKind.APPROVE_AGREEMENT,
        MotionKind.AMEND_CHARTER,
        MotionKind.APPROVE_MINUTES,
        MotionKind.GENERAL,
    }
)
SUBJECT_TYPES = {
    MotionKind.ADMIT_MEMBER: "consortia.membership",
    MotionKind.SUSPEND_MEMBER: "consortia.membership",
    MotionKind.REMOVE_MEMBER: "consortia.membership",
    MotionKind.APPROVE_AGREEMENT: "agreements.agreementversion",
    MotionKind.APPROVE_MINUTES: "consortia.meeting",
}


def _denied(message: str, consortium_id: int, motion: Motion | None, action: str) -> Exception:
    return AccessDeniedError(
        message,
        consortium_id=consortium_id,
        object_type="consortia.motion" if motion else "consortia.consortium",
        object_id=str(motion.pk if motion else consortium_id),
        action=action,
    )


def represents(user: Any, consortium_id: int) -> bool:
    """A person votes for their organisation when it is an active member and they sit on the
    steering committee (or chair it)."""
    return bool(permissions.standing(user, consortium_id).roles & set(REPRESENTATIVES))


def require_representative(actor: Any, motion: Motion) -> None:
    if not represents(actor, motion.consortium_id):
        raise _denied(
            "Only steering-committee members vote, for their organisation.",
            motion.consortium_id,
            motion,
            "vote",
        )


def require_proxy_giver(actor: Any, consortium: Consortium) -> None:
    if not represents(actor, consortium.pk):
        raise _denied(
            "Only steering-committee members lend their organisation's vote.",
            consortium.pk,
            None,
            "give_proxy",
        )


def available_kinds() -> frozenset[str]:
    return BUILT_IN_KINDS | effects.registered_subject_kinds()


def rule_spec(motion: Motion) -> RuleSpec:
    return RuleSpec(
        rule=Rule(motion.rule),
        quorum_basis=QuorumBasis(motion.quorum_basis),
        quorum=motion.quorum,
        abstentions=Abstentions(motion.abstentions),
        weighted_threshold=motion.weighted_threshold,
        member_threshold=motion.member_threshold,
        weight_threshold=motion.weight_threshold,
        blocking_minority=motion.blocking_minority,
    )


def _subject(consortium: Consortium, kind: str, subject_id: Any) -> tuple[str, str, int | None]:
    """(display, id, organisation id) of the motion's subject, checked against the kind."""
    if kind in (MotionKind.ADMIT_MEMBER, MotionKind.SUSPEND_MEMBER, MotionKind.REMOVE_MEMBER):
        wanted = {
            MotionKind.ADMIT_MEMBER: [Membership.Status.INVITED],
            MotionKind.SUSPEND_MEMBER: [Membership.Status.ACTIVE],
            MotionKind.REMOVE_MEMBER: [Membership.Status.ACTIVE, Membership.Status.SUSPENDED],
        }[MotionKind(kind)]
        membership = (
            Membership.objects.filter(pk=subject_id, consortium=consortium, status__in=wanted)
            .select_related("organisation")
            .first()
            if str(subject_id).isdigit()
            else None
        )
        if membership is None:
            raise ValidationError(
                {"subject": f"Name a membership of this consortium that is {' or '.join(wanted)}."}
            )
        return str(membership.organisation), str(membership.pk), membership.organisation_id
    if kind == MotionKind.APPROVE_AGREEMENT:
        from django.apps import apps

        version_model = apps.get_model("agreements", "AgreementVersion")
        version = (
            version_model.objects.filter(
                pk=subject_id,
                agreement__consortium=consortium,
                status="in_review",
                agreement__requires_steering_approval=True,
            )
            .select_related("agreement")
            .first()
            if str(subject_id).isdigit()
            else None
        )
        if version is None:
            raise ValidationError(
                {
                    "subject": "Name a version in review of an agreement of this consortium "
                    "that needs the steering committee's approval."
                }
            )
        return str(version), str(version.pk), None
    if kind == MotionKind.APPROVE_MINUTES:
        from consortia.meetings import Meeting

        meeting = (
            Meeting.objects.filter(pk=subject_id, consortium=consortium)
            .exclude(minutes_status=Meeting.MinutesStatus.APPROVED)
            .exclude(minutes="")
            .first()
            if str(subject_id).isdigit()
            else None
        )
        if meeting is None:
            raise ValidationError(
                {"subject": "Name a meeting of this consortium with minutes not yet approved."}
            )
        return str(meeting), str(meeting.pk), None
    registered = effects.subject_for(kind)
    if registered is not None:
        return registered[1](consortium, subject_id)
    if subject_id not in (None, ""):
        raise ValidationError({"subject": "This kind of motion has no subject."})
    return "", "", None


def _subject_type(kind: str) -> str:
    registered = effects.subject_for(kind)
    return registered[0] if registered else SUBJECT_TYPES.get(MotionKind(kind), "")


@transaction.atomic
def motion_propose(
    *,
    actor: User,
    consortium: Consortium,
    kind: str,
    title: str,
    text: str = "",
    subject_id: Any = None,
    closes_at: datetime.datetime,
    rule: str = Rule.SIMPLE_MAJORITY,
    quorum_basis: str = QuorumBasis.MEMBERS,
    quorum: Decimal = Decimal("0.5"),
    abstentions: str = Abstentions.EXCLUDED,
    blocking_minority: Decimal | None = None,
    results_hidden: bool = False,
    referral: bool = False,
) -> Motion:
    """Open a motion now. Voters and weights are snapshotted; the organisation the motion is
    about is recused; founding members hold a veto over charter amendments.

    ``referral``: another body's service (the capacity board's) has checked that ``actor`` may
    put this decision to the committee, though they do not sit on it."""
    if not referral and not represents(actor, consortium.pk):
        raise _denied(
            "Only the chair and steering-committee members propose motions.",
            consortium.pk,
            None,
            "propose_motion",
        )
    errors: dict[str, str] = {}
    if kind not in available_kinds():
        errors["kind"] = f"Choose one of: {', '.join(sorted(available_kinds()))}."
    if rule not in Rule.__members__.values():
        errors["rule"] = f"Choose one of: {', '.join(Rule)}."
    if quorum_basis not in QuorumBasis.__members__.values():
        errors["quorum_basis"] = "Quorum is counted by members or by weight."
    if abstentions not in Abstentions.__members__.values():
        errors["abstentions"] = "Abstentions are excluded or counted against."
    if not Decimal(0) <= quorum <= Decimal(1):
        errors["quorum"] = "Quorum is a share between 0 and 1."
    if blocking_minority is not None and not Decimal(0) < blocking_minority < Decimal(1):
        errors["blocking_minority"] = "A blocking minority is a share between 0 and 1."
    now = timezone.now()
    if closes_at <= now:
        errors["closes_at"] = "A motion closes in the future."
    if not title.strip():
        errors["title"] = "A motion needs a title."
    if errors:
        raise ValidationError(errors)
    display, subject, subject_organisation = _subject(consortium, kind, subject_id)
    consortium = Consortium.objects.select_for_update().get(pk=consortium.pk)
    number = (consortium.motions.aggregate(last=Max("number"))["last"] or 0) + 1
    motion = Motion.objects.create(
        consortium=consortium,
        number=number,
        kind=kind,
        title=title.strip(),
        text=text.strip(),
        subject_type=_subject_type(kind),
        subject_id=subject,
        subject_display=display,
        subject_organisation_id=subject_organisation,
        proposed_by=actor,
        opens_at=now,
        closes_at=closes_at,
        rule=rule,
        quorum_basis=quorum_basis,
        quorum=quorum,
        abstentions=abstentions,
        blocking_minority=blocking_minority,
        results_hidden=results_hidden,
    )
    members = Membership.objects.filter(
        consortium=consortium, status=Membership.Status.ACTIVE
    ).select_related("organisation")
    vetoes = effects.veto_holders(kind, consortium, subject)
    MotionVoter.objects.bulk_create(
        MotionVoter(
            motion=motion,
            organisation_id=membership.organisation_id,
            weight=membership.voting_weight,
            veto_right=(kind == MotionKind.AMEND_CHARTER and membership.is_founding)
            or membership.organisation_id in vetoes,
            recused=membership.organisation_id == subject_organisation,
            recusal_reason="The motion is about this organisation"
            if membership.organisation_id == subject_organisation
            else "",
        )
        for membership in members
    )
    notifications.opened(motion)
    audit_record(
        action=Action.CREATE,
        actor=actor,
        consortium_id=consortium.pk,
        target=motion,
        changes={
            "kind": {"before": None, "after": kind},
            "rule": {"before": None, "after": rule},
            "closes_at": {"before": None, "after": closes_at.isoformat()},
        },
    )
    return motion


def _locked_open(motion: Motion) -> Motion:
    motion = Motion.objects.select_for_update().get(pk=motion.pk)
    if motion.status != Motion.Status.OPEN or motion.closes_at <= timezone.now():
        raise ValidationError("Voting on this motion has closed.")
    return motion


# What may not change once voting has opened (a motion opens when it is proposed): members
# vote on the question, the rule and the deadline as they stood when their vote was cast.
LOCKED_SETTINGS = {
    "kind": "The kind of motion cannot change once voting has opened.",
    "title": "The title cannot change once voting has opened: members vote on what it said.",
    "text": "The text cannot change once voting has opened: members vote on what it said.",
    "closes_at": "The closing time cannot change once voting has opened.",
    "rule": "The voting rule cannot change once voting has opened.",
    "quorum_basis": "The quorum basis cannot change once voting has opened.",
    "quorum": "The quorum cannot change once voting has opened.",
    "abstentions": "How abstentions count cannot change once voting has opened.",
    "weighted_threshold": "The weighted threshold cannot change once voting has opened.",
    "member_threshold": "The member threshold cannot change once voting has opened.",
    "weight_threshold": "The weight threshold cannot change once voting has opened.",
    "blocking_minority": "The blocking minority cannot change once voting has opened.",
}
NOT_A_SETTING = "This is not a setting of a motion that can change."


def may_update_motion(user: Any, motion: Motion) -> bool:
    """The proposer and the consortium's chair may tighten an open motion's settings."""
    if not getattr(user, "is_authenticated", False):
        return False
    return motion.proposed_by_id == user.pk or Role.CHAIR in (
        permissions.standing(user, motion.consortium_id).roles
    )


def require_motion_editor(actor: Any, motion: Motion) -> None:
    if not may_update_motion(actor, motion):
        raise _denied(
            "Only the proposer and the chair change a motion's settings.",
            motion.consortium_id,
            motion,
            "change_motion",
        )


def _same_value(motion: Motion, field: str, value: Any) -> bool:
    """Whether ``value`` is what the motion already holds (sending it back is no change)."""
    model_field = Motion._meta.get_field(field)
    assert isinstance(model_field, models.Field), "only the motion's own columns compare"
    try:
        return bool(model_field.to_python(value) == getattr(motion, field))
    except (ValidationError, TypeError, ValueError):
        return False


@transaction.atomic
def motion_update(*, actor: User, motion: Motion, **changes: Any) -> Motion:
    """Change an open motion's settings. Voting opens when a motion is proposed, so a
    setting may only become stricter: the one change allowed is hiding the tally until the
    close. Anything else (the rule, quorum, thresholds, deadline, wording, showing a hidden
    tally again, or a field motions do not have) is refused, field by field, and nothing is
    written."""
    require_motion_editor(actor, motion)
    motion = _locked_open(motion)
    errors: dict[str, str] = {}
    for field, value in changes.items():
        if field == "results_hidden":
            if not isinstance(value, bool):
                errors[field] = "Say true or false."
            elif motion.results_hidden and not value:
                errors[field] = (
                    "Hidden results stay hidden until the close: once voting has opened, a "
                    "setting may only become stricter."
                )
        elif field in LOCKED_SETTINGS:
            if not _same_value(motion, field, value):
                errors[field] = LOCKED_SETTINGS[field]
        else:
            errors[field] = NOT_A_SETTING
    if errors:
        raise ValidationError(errors)
    if changes.get("results_hidden") is True and not motion.results_hidden:
        motion.results_hidden = True
        motion.save(update_fields=["results_hidden"])
        audit_record(
            action=Action.UPDATE,
            actor=actor,
            consortium_id=motion.consortium_id,
            target=motion,
            changes={"results_hidden": {"before": False, "after": True}},
        )
    return motion


def _proxy_for(motion: Motion, grantor_id: int, grantee_id: int) -> Proxy | None:
    now = timezone.now()
    return (
        Proxy.objects.filter(
            consortium_id=motion.consortium_id,
            grantor_id=grantor_id,
            grantee_id=grantee_id,
            revoked_at__isnull=True,
            valid_from__lte=now,
        )
        .filter(Q(motion=motion) | Q(motion__isnull=True))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .first()
    )


@transaction.atomic
def vote_cast(
    *,
    actor: User,
    motion: Motion,
    choice: str,
    reason: str = "",
    veto: bool = False,
    for_organisation: Organisation | None = None,
) -> Vote:
    """Vote for the actor's organisation, or for one that gave it its proxy. A new vote
    replaces the standing one until the close; the motion closes at once if the outcome can
    no longer change."""
    require_representative(actor, motion)
    motion = _locked_open(motion)
    own = actor.organisation_id or 0
    organisation_id = for_organisation.pk if for_organisation is not None else own
    if organisation_id != own and _proxy_for(motion, organisation_id, own) is None:
        raise _denied(
            "Your organisation does not hold this organisation's proxy for this motion.",
            motion.consortium_id,
            motion,
            "vote",
        )
    voter = MotionVoter.objects.filter(motion=motion, organisation_id=organisation_id).first()
    if voter is None:
        raise ValidationError("This organisation is not a voter on this motion.")
    if voter.recused:
        raise ValidationError(f"This organisation is recused: {voter.recusal_reason}")
    if choice not in Vote.Choice.values:
        raise ValidationError({"choice": "Vote for, against or abstain."})
    if veto and not voter.veto_right:
        raise ValidationError({"veto": "This organisation holds no veto on this motion."})
    if veto and (choice != Vote.Choice.AGAINST or not reason.strip()):
        raise ValidationError({"reason": "A veto is a vote against, with its reason."})
    previous = motion.votes.filter(organisation_id=organisation_id, superseded=False).first()
    if previous is not None:
        previous.superseded = True
        previous.save(update_fields=["superseded"])
    vote = Vote.objects.create(
        motion=motion,
        organisation_id=organisation_id,
        cast_by=actor,
        cast_by_organisation_id=own,
        choice=choice,
        veto=veto,
        reason=reason.strip(),
    )
    audit_record(
        action=Action.VOTE,
        actor=actor,
        consortium_id=motion.consortium_id,
        target=motion,
        changes={
            "choice": {"before": previous.choice if previous else None, "after": choice},
            "for_organisation": {"before": None, "after": organisation_id},
            "veto": {"before": None, "after": veto},
        },
        reason=reason,
    )
    _close_if_decided(motion, actor)
    return vote


def _close_if_decided(motion: Motion, actor: User) -> None:
    """Close as soon as no remaining ballot can change the outcome (the tally's early
    decision is only sound because every vote and recusal ends here). The vote or recusal
    stands even if the effect fails: the motion then stays open with the error shown."""
    if not current_tally(motion).final:
        return
    try:
        with transaction.atomic():
            _close(motion, actor=actor)
    except (ValidationError, AccessDeniedError) as error:
        Motion.objects.filter(pk=motion.pk).update(effect_error=str(error)[:2000])


@transaction.atomic
def recuse(*, actor: User, motion: Motion, reason: str) -> MotionVoter:
    """Declare a conflict of interest for one's organisation: it leaves the count entirely."""
    if not represents(actor, motion.consortium_id):
        raise _denied(
            "Only steering-committee members recuse their organisation.",
            motion.consortium_id,
            motion,
            "recuse",
        )
    motion = _locked_open(motion)
    if not reason.strip():
        raise ValidationError({"reason": "Say what the conflict of interest is."})
    voter = MotionVoter.objects.filter(
        motion=motion, organisation_id=actor.organisation_id or 0
    ).first()
    if voter is None or voter.recused:
        raise ValidationError("Your organisation is not a voter on this motion, or is recused.")
    voter.recused, voter.recusal_reason = True, reason.strip()[:500]
    voter.save(update_fields=["recused", "recusal_reason"])
    motion.votes.filter(organisation_id=voter.organisation_id, superseded=False).update(
        superseded=True
    )
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        consortium_id=motion.consortium_id,
        target=motion,
        changes={"recused": {"before": None, "after": voter.organisation_id}},
        reason=reason,
    )
    _close_if_decided(motion, actor)
    return voter


@transaction.atomic
def proxy_give(
    *,
    actor: User,
    consortium: Consortium,
    grantee: Organisation,
    motion: Motion | None = None,
    valid_until: datetime.datetime | None = None,
) -> Proxy:
    """Lend the actor's organisation's vote to another member, for one motion or a period.
    Proxies do not chain: the grantee must not have lent its own vote away, and nobody may
    hold a proxy from the grantor's grantor."""
    require_proxy_giver(actor, consortium)
    grantor_id = actor.organisation_id or 0
    if grantee.pk == grantor_id:
        raise ValidationError({"grantee": "An organisation cannot hold its own proxy."})
    if not Membership.objects.filter(
        consortium=consortium, organisation=grantee, status=Membership.Status.ACTIVE
    ).exists():
        raise ValidationError({"grantee": "The proxy holder must be an active member."})
    if motion is not None and motion.consortium_id != consortium.pk:
        raise ValidationError({"motion": "That motion belongs to another consortium."})
    now = timezone.now()
    if valid_until is not None and valid_until <= now:
        raise ValidationError({"valid_until": "A proxy ends in the future."})
    live = Proxy.objects.filter(
        consortium=consortium, revoked_at__isnull=True, valid_from__lte=now
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
    if live.filter(grantor=grantee).exists():
        raise ValidationError(
            {"grantee": "That organisation has lent its own vote away; proxies do not chain."}
        )
    if live.filter(grantee_id=grantor_id).exists():
        raise ValidationError(
            {"grantee": "Your organisation holds another's proxy; proxies do not chain."}
        )
    proxy = Proxy.objects.create(
        consortium=consortium,
        grantor_id=grantor_id,
        grantee=grantee,
        motion=motion,
        valid_from=now,
        valid_until=valid_until,
        granted_by=actor,
    )
    audit_record(
        action=Action.GRANT,
        actor=actor,
        consortium_id=consortium.pk,
        target=proxy,
        changes={
            "grantee": {"before": None, "after": grantee.pk},
            "motion": {"before": None, "after": motion.pk if motion else None},
        },
    )
    return proxy


@transaction.atomic
def proxy_revoke(*, actor: User, proxy: Proxy) -> Proxy:
    if actor.organisation_id != proxy.grantor_id or not represents(actor, proxy.consortium_id):
        raise _denied(
            "Only the lending organisation's representatives revoke its proxy.",
            proxy.consortium_id,
            None,
            "revoke_proxy",
        )
    proxy = Proxy.objects.select_for_update().get(pk=proxy.pk)
    if proxy.revoked_at is not None:
        raise ValidationError("This proxy is already revoked.")
    proxy.revoked_at = timezone.now()
    proxy.save(update_fields=["revoked_at"])
    audit_record(action=Action.REVOKE, actor=actor, consortium_id=proxy.consortium_id, target=proxy)
    return proxy


def current_tally(motion: Motion, *, closed: bool | None = None) -> Tally:
    """The tally as of now; a motion past its closing time counts as closed (the beat task
    finalises it)."""
    return tally_of(
        motion,
        motion.voters.select_related("organisation"),
        motion.votes.filter(superseded=False),
        closed=closed,
    )


def tally_of(
    motion: Motion,
    voters: Iterable[MotionVoter],
    standing_votes: Iterable[Vote],
    *,
    closed: bool | None = None,
) -> Tally:
    """The tally from voters (with their organisation) and standing ballots already read,
    so a page that shows several motions reads them all at once."""
    counted = [
        Voter(
            organisation_id=voter.organisation_id,
            name=voter.organisation.name,
            weight=voter.weight,
            recused=voter.recused,
            recusal_reason=voter.recusal_reason,
            veto_right=voter.veto_right,
        )
        for voter in voters
    ]
    ballots = [
        Ballot(organisation_id=vote.organisation_id, choice=Choice(vote.choice), veto=vote.veto)
        for vote in standing_votes
    ]
    if closed is None:
        closed = motion.status != Motion.Status.OPEN or motion.closes_at <= timezone.now()
    return tally(rule_spec(motion), counted, ballots, closed=closed)


def _close(motion: Motion, *, actor: User | None) -> Motion:
    result = current_tally(motion, closed=motion.closes_at <= timezone.now())
    if not result.final:
        result = current_tally(motion, closed=True)
    motion.status = Motion.Status.PASSED if result.outcome == "passed" else Motion.Status.FAILED
    motion.outcome_reason = result.reason
    motion.tally_steps = list(result.steps)
    motion.closed_at = timezone.now()
    motion.save(update_fields=["status", "outcome_reason", "tally_steps", "closed_at"])
    audit_record(
        action=Action.TRANSITION,
        actor=actor,
        consortium_id=motion.consortium_id,
        target=motion,
        changes={
            "status": {"before": "open", "after": motion.status},
            "reason": {"before": None, "after": result.reason},
        },
    )
    effect = effects.effect_for(motion.kind)
    if motion.status == Motion.Status.PASSED and effect is not None:
        effect(motion)
    failure = effects.failure_for(motion.kind)
    if motion.status == Motion.Status.FAILED and failure is not None:
        failure(motion)
    notifications.closed(motion)
    return motion


def motion_close_due(*, motion_id: int) -> bool:
    """Close a motion whose time has passed. Idempotent; if the effect fails, the outcome is
    rolled back with it and the error is kept on the motion for people to see."""
    try:
        with transaction.atomic():
            motion = Motion.objects.select_for_update().get(pk=motion_id)
            if motion.status != Motion.Status.OPEN or motion.closes_at > timezone.now():
                return False
            _close(motion, actor=None)
    except (ValidationError, AccessDeniedError) as error:
        Motion.objects.filter(pk=motion_id).update(effect_error=str(error)[:2000])
        return False
    return True


def motions_close_due() -> int:
    return sum(
        motion_close_due(motion_id=pk)
        for pk in Motion.objects.filter(
            status=Motion.Status.OPEN, closes_at__lte=timezone.now()
        ).values_list("pk", flat=True)
    )


REMIND_BEFORE = datetime.timedelta(hours=24)


def motions_remind_closing() -> int:
    """Once per motion, a day before it closes: remind the organisations that have not voted.
    Each reminder is claimed by a conditional UPDATE, so overlapping runs send it once."""
    now = timezone.now()
    sent = 0
    for motion in Motion.objects.filter(
        status=Motion.Status.OPEN,
        reminder_sent_at__isnull=True,
        closes_at__gt=now,
        closes_at__lte=now + REMIND_BEFORE,
    ).select_related("consortium"):
        with transaction.atomic():
            if Motion.objects.filter(pk=motion.pk, reminder_sent_at__isnull=True).update(
                reminder_sent_at=now
            ):
                notifications.closing_soon(motion)
                sent += 1
    return sent
