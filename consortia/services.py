"""Every state change in the consortium domain.

Each service checks the actor's right through the access policy, validates, writes in one
transaction and records its audit event in that same transaction. Views, API views, the
admin, management commands and tasks call these; none of them writes the models directly.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from alliance.errors import ConflictError
from audit.models import Action
from audit.services import audit_record, changes_between, snapshot
from consortia import permissions
from consortia.models import (
    Consortium,
    Jurisdiction,
    Membership,
    Organisation,
    PartnershipModel,
    Role,
    RoleAssignment,
    User,
)
from consortia.permissions import ConsortiumAction, OrganisationAction
from consortia.tasks import membership_invitation_notify as membership_invitation_notify_task

ModelT = TypeVar("ModelT", bound=models.Model)

CONSORTIUM_FIELDS = ("name", "partnership_model", "home_jurisdiction", "status", "charter")
MEMBERSHIP_FIELDS = ("status", "voting_weight", "joined_on", "left_on", "is_founding")
ORGANISATION_FIELDS = ("name", "kind", "home_jurisdiction", "registration_id")

# The lifecycle: forming → operational → dissolving → dissolved. Dissolution may begin
# before a consortium ever operated; nothing comes back from dissolved.
CONSORTIUM_TRANSITIONS: dict[str, frozenset[str]] = {
    Consortium.Status.FORMING: frozenset(
        {Consortium.Status.OPERATIONAL, Consortium.Status.DISSOLVING}
    ),
    Consortium.Status.OPERATIONAL: frozenset({Consortium.Status.DISSOLVING}),
    Consortium.Status.DISSOLVING: frozenset(
        {Consortium.Status.DISSOLVED, Consortium.Status.OPERATIONAL}
    ),
    Consortium.Status.DISSOLVED: frozenset(),
}
# Fields that define what a consortium is; fixed once it has left the forming stage.
FOUNDING_FIELDS = frozenset({"partnership_model", "home_jurisdiction"})


def _save_changed(instance: models.Model, changed: Iterable[str]) -> None:
    """Validate and write only what changed: unchanged fields were valid when they were
    written, and checking them again costs a query per unique or foreign key."""
    changed = set(changed)
    unchanged = [
        field.name for field in instance._meta.concrete_fields if field.name not in changed
    ]
    instance.full_clean(exclude=unchanged)
    automatic = [
        field.name for field in instance._meta.concrete_fields if getattr(field, "auto_now", False)
    ]
    instance.save(update_fields=[*changed, *automatic])


def _today() -> datetime.date:
    return timezone.localdate()


def _require_open(consortium: Consortium) -> None:
    if consortium.status == Consortium.Status.DISSOLVED:
        raise ValidationError("This consortium is dissolved; its membership can no longer change.")


def _locked(model: type[ModelT], pk: Any) -> ModelT:
    """Re-read a row under a row lock, so two concurrent transitions cannot both pass."""
    return model._default_manager.select_for_update().get(pk=pk)


# Consortia ---------------------------------------------------------------------------------


@transaction.atomic
def consortium_create(
    *,
    actor: User,
    name: str,
    partnership_model: PartnershipModel,
    home_jurisdiction: Jurisdiction,
    charter: str = "",
) -> Consortium:
    """Found a consortium: the actor's organisation becomes its founding member and the
    actor its chair."""
    if actor.organisation_id is None:
        raise ValidationError(
            "Only a person who belongs to an organisation can found a consortium."
        )
    consortium = Consortium(
        name=name.strip(),
        partnership_model=partnership_model,
        home_jurisdiction=home_jurisdiction,
        charter=charter,
    )
    consortium.full_clean()
    consortium.save()
    membership = Membership(
        consortium=consortium,
        organisation_id=actor.organisation_id,
        status=Membership.Status.ACTIVE,
        is_founding=True,
        joined_on=_today(),
    )
    membership.full_clean()
    membership.save()
    chair = RoleAssignment.objects.create(consortium=consortium, user=actor, role=Role.CHAIR)
    audit_record(
        action=Action.CREATE,
        actor=actor,
        consortium_id=consortium.pk,
        target=consortium,
        changes=changes_between(None, snapshot(consortium, CONSORTIUM_FIELDS)),
    )
    audit_record(
        action=Action.ADMIT,
        actor=actor,
        consortium_id=consortium.pk,
        target=membership,
        related=consortium,
        changes=changes_between(None, snapshot(membership, MEMBERSHIP_FIELDS)),
        reason="Founding member",
    )
    audit_record(
        action=Action.ASSIGN,
        actor=actor,
        consortium_id=consortium.pk,
        target=chair,
        related=consortium,
        changes={"role": {"before": None, "after": Role.CHAIR.value}},
    )
    permissions.forget_rights(actor)
    from consortia.planning_services import seed_for

    seed_for(consortium)
    return consortium


@transaction.atomic
def consortium_update(*, actor: User, consortium: Consortium, **fields: Any) -> Consortium:
    """Change a consortium's name, charter or (while forming) its model and jurisdiction."""
    permissions.require(actor, ConsortiumAction.CHANGE, consortium)
    unknown = set(fields) - {"name", "charter", "partnership_model", "home_jurisdiction"}
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    consortium = _locked(Consortium, consortium.pk)
    before = snapshot(consortium, CONSORTIUM_FIELDS)
    for name, value in fields.items():
        setattr(consortium, name, value.strip() if name == "name" else value)
    after = snapshot(consortium, CONSORTIUM_FIELDS)
    changes = changes_between(before, after)
    if consortium.status != Consortium.Status.FORMING:
        fixed = FOUNDING_FIELDS & set(changes)
        if fixed:
            raise ValidationError(
                dict.fromkeys(fixed, "Fixed once the consortium has left the forming stage.")
            )
    if not changes:
        return consortium
    _save_changed(consortium, changes)
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        consortium_id=consortium.pk,
        target=consortium,
        changes=changes,
    )
    return consortium


@transaction.atomic
def consortium_transition(*, actor: User, consortium: Consortium, status: str) -> Consortium:
    """Move a consortium along its lifecycle."""
    permissions.require(actor, ConsortiumAction.CHANGE, consortium)
    consortium = _locked(Consortium, consortium.pk)
    if status not in CONSORTIUM_TRANSITIONS.get(consortium.status, frozenset()):
        allowed = ", ".join(sorted(CONSORTIUM_TRANSITIONS.get(consortium.status, ()))) or "none"
        raise ValidationError(
            {
                "status": f"A consortium that is {consortium.status} cannot become {status}; allowed: {allowed}."
            }
        )
    if status == Consortium.Status.OPERATIONAL and not consortium.memberships.active().exists():
        raise ValidationError({"status": "A consortium needs an active member to operate."})
    previous = consortium.status
    consortium.status = status
    consortium.save(update_fields=["status", "updated_at"])
    audit_record(
        action=Action.TRANSITION,
        actor=actor,
        consortium_id=consortium.pk,
        target=consortium,
        changes={"status": {"before": previous, "after": status}},
    )
    return consortium


@transaction.atomic
def consortium_delete(*, actor: User, consortium: Consortium) -> None:
    """Delete a consortium that never had a member. Anything else is history: dissolve it."""
    permissions.require(actor, ConsortiumAction.DELETE, consortium)
    consortium = _locked(Consortium, consortium.pk)
    if consortium.memberships.exists():
        raise ConflictError(
            "This consortium has member organisations, and its history refers to them; "
            "dissolve it instead of deleting it.",
            code="consortium_has_members",
        )
    audit_record(
        action=Action.DELETE,
        actor=actor,
        consortium_id=consortium.pk,
        target=consortium,
        changes=changes_between(snapshot(consortium, CONSORTIUM_FIELDS), None),
    )
    consortium.delete()


# Memberships -------------------------------------------------------------------------------


def _audit_membership(
    actor: User | None,
    action: str,
    membership: Membership,
    before: dict[str, Any],
    reason: str = "",
) -> None:
    audit_record(
        action=action,
        actor=actor,
        consortium_id=membership.consortium_id,
        target=membership,
        related=membership.consortium,
        changes=changes_between(before, snapshot(membership, MEMBERSHIP_FIELDS)),
        reason=reason,
    )


@transaction.atomic
def membership_invite(
    *,
    actor: User,
    consortium: Consortium,
    organisation: Organisation,
    voting_weight: Decimal = Decimal(1),
) -> Membership:
    """Invite an organisation; its administrators are notified once the invitation commits."""
    permissions.require(actor, ConsortiumAction.MANAGE_MEMBERSHIP, consortium)
    consortium = _locked(Consortium, consortium.pk)
    _require_open(consortium)
    existing = Membership.objects.filter(consortium=consortium, organisation=organisation).first()
    if existing is not None and existing.status != Membership.Status.REMOVED:
        raise ValidationError(
            {
                "organisation": f"{organisation} is already {existing.get_status_display().lower()} in this consortium."
            }
        )
    if existing is not None:
        # A removed organisation may be invited again; its row (and its history) is reused.
        membership = _locked(Membership, existing.pk)
        before = snapshot(membership, MEMBERSHIP_FIELDS)
        membership.status = Membership.Status.INVITED
        membership.voting_weight = voting_weight
        membership.joined_on = membership.left_on = None
        membership.invitation_notified_at = None
    else:
        membership = Membership(
            consortium=consortium,
            organisation=organisation,
            status=Membership.Status.INVITED,
            voting_weight=voting_weight,
        )
        before = {}
    membership.full_clean(validate_unique=existing is None)
    membership.save()
    _audit_membership(actor, Action.INVITE, membership, before)
    # robust: a broker outage must not fail a request whose change has committed; the
    # invitation sweep sends any notice that was never claimed.
    membership_id = membership.pk

    def notify_invitation() -> None:
        membership_invitation_notify_task.delay(membership_id)

    transaction.on_commit(notify_invitation, robust=True)
    return membership


def _membership_transition(
    *,
    actor: User | None,
    membership: Membership,
    allowed_from: tuple[str, ...],
    to: str,
    action: str,
    reason: str = "",
    **dates: datetime.date | None,
) -> Membership:
    """``actor`` None: a passed motion decided it (consortia.governance), not a person."""
    if actor is not None:
        permissions.require(actor, ConsortiumAction.MANAGE_MEMBERSHIP, membership)
    membership = _locked(Membership, membership.pk)
    _require_open(membership.consortium)
    if membership.status not in allowed_from:
        raise ValidationError(
            {"status": f"A membership that is {membership.status} cannot become {to}."}
        )
    before = snapshot(membership, MEMBERSHIP_FIELDS)
    membership.status = to
    for name, value in dates.items():
        setattr(membership, name, value)
    membership.full_clean(validate_unique=False)
    membership.save()
    _audit_membership(actor, action, membership, before, reason)
    if actor is not None:
        permissions.forget_rights(actor)
    return membership


@transaction.atomic
def membership_admit(
    *, actor: User | None, membership: Membership, joined_on: datetime.date | None = None
) -> Membership:
    """Admit an invited organisation as an active member (``actor`` None: by motion)."""
    return _membership_transition(
        actor=actor,
        membership=membership,
        allowed_from=(Membership.Status.INVITED,),
        to=Membership.Status.ACTIVE,
        action=Action.ADMIT,
        joined_on=joined_on or _today(),
    )


@transaction.atomic
def membership_suspend(*, actor: User | None, membership: Membership, reason: str) -> Membership:
    """Suspend an active member: its people keep read access, its roles stop counting
    (``actor`` None: by motion)."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the membership is suspended."})
    _require_not_last_active(membership)
    return _membership_transition(
        actor=actor,
        membership=membership,
        allowed_from=(Membership.Status.ACTIVE,),
        to=Membership.Status.SUSPENDED,
        action=Action.SUSPEND,
        reason=reason,
    )


@transaction.atomic
def membership_reinstate(*, actor: User, membership: Membership) -> Membership:
    """Lift a suspension."""
    return _membership_transition(
        actor=actor,
        membership=membership,
        allowed_from=(Membership.Status.SUSPENDED,),
        to=Membership.Status.ACTIVE,
        action=Action.REINSTATE,
    )


@transaction.atomic
def membership_remove(*, actor: User | None, membership: Membership, reason: str) -> Membership:
    """Remove an organisation (or withdraw its invitation). Its people's roles are revoked.
    ``actor`` None: by motion."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the organisation is removed."})
    _require_not_last_active(membership)
    if RoleAssignment.objects.filter(
        consortium_id=membership.consortium_id,
        user__organisation_id=membership.organisation_id,
        role=Role.CHAIR,
    ).exists():
        raise ValidationError("The chair belongs to this organisation; hand the chair over first.")
    membership = _membership_transition(
        actor=actor,
        membership=membership,
        allowed_from=(
            Membership.Status.INVITED,
            Membership.Status.ACTIVE,
            Membership.Status.SUSPENDED,
        ),
        to=Membership.Status.REMOVED,
        action=Action.REMOVE,
        reason=reason,
        left_on=_today(),
    )
    for assignment in RoleAssignment.objects.filter(
        consortium_id=membership.consortium_id, user__organisation_id=membership.organisation_id
    ).select_related("user"):
        _role_revoke_unchecked(actor=actor, assignment=assignment, reason="Organisation removed")
    return membership


def _require_not_last_active(membership: Membership) -> None:
    if membership.status != Membership.Status.ACTIVE:
        return
    others = Membership.objects.filter(
        consortium_id=membership.consortium_id, status=Membership.Status.ACTIVE
    ).exclude(pk=membership.pk)
    if not others.exists():
        raise ValidationError(
            "This is the consortium's last active member; dissolve the consortium instead."
        )


@transaction.atomic
def membership_update(*, actor: User, membership: Membership, voting_weight: Decimal) -> Membership:
    """Change a member's voting weight."""
    permissions.require(actor, ConsortiumAction.MANAGE_MEMBERSHIP, membership)
    membership = _locked(Membership, membership.pk)
    _require_open(membership.consortium)
    before = snapshot(membership, MEMBERSHIP_FIELDS)
    membership.voting_weight = voting_weight
    membership.full_clean(validate_unique=False)
    membership.save(update_fields=["voting_weight"])
    _audit_membership(actor, Action.UPDATE, membership, before)
    return membership


def membership_claim_invitation_notice(*, membership_id: int) -> bool:
    """Claim the invitation notice for sending; False if it was sent already or withdrawn.

    A single conditional UPDATE, so two deliveries of the same task cannot both claim it.
    """
    claimed = Membership.objects.filter(
        pk=membership_id, status=Membership.Status.INVITED, invitation_notified_at__isnull=True
    ).update(invitation_notified_at=timezone.now())
    return bool(claimed)


def membership_release_invitation_notice(*, membership_id: int) -> None:
    """Give the claim back after a failed send, so that the retry sends it."""
    Membership.objects.filter(pk=membership_id).update(invitation_notified_at=None)


@transaction.atomic
def membership_record_invitation_sent(*, membership_id: int, recipients: int) -> None:
    membership = Membership.objects.select_related("consortium", "organisation").get(
        pk=membership_id
    )
    audit_record(
        action=Action.NOTIFY,
        actor=None,
        consortium_id=membership.consortium_id,
        target=membership,
        related=membership.consortium,
        reason=f"Invitation emailed to {recipients} administrator(s) of {membership.organisation}",
    )


# Roles -------------------------------------------------------------------------------------


@transaction.atomic
def role_assign(*, actor: User, consortium: Consortium, user: User, role: str) -> RoleAssignment:
    """Give a person of an active member organisation a role in the consortium."""
    permissions.require(actor, ConsortiumAction.MANAGE_ROLES, consortium)
    consortium = _locked(Consortium, consortium.pk)
    _require_open(consortium)
    if role not in Role.values:
        raise ValidationError(
            {"role": f"{role!r} is not a role; choose one of {', '.join(Role.values)}."}
        )
    if not permissions.assignable_users(consortium).filter(pk=user.pk).exists():
        raise ValidationError(
            {
                "user": f"{user.username} does not belong to an active member organisation of this consortium."
            }
        )
    if RoleAssignment.objects.filter(consortium=consortium, user=user, role=role).exists():
        raise ValidationError({"role": f"{user.username} already holds this role."})
    if (
        role == Role.CHAIR
        and RoleAssignment.objects.filter(consortium=consortium, role=Role.CHAIR).exists()
    ):
        raise ValidationError(
            {"role": "This consortium already has a chair; hand the chair over instead."}
        )
    assignment = RoleAssignment(consortium=consortium, user=user, role=role)
    assignment.full_clean()
    assignment.save()
    audit_record(
        action=Action.ASSIGN,
        actor=actor,
        consortium_id=consortium.pk,
        target=assignment,
        related=consortium,
        changes={
            "role": {"before": None, "after": role},
            "user": {"before": None, "after": user.username},
        },
    )
    permissions.forget_rights(user)
    return assignment


def _role_revoke_unchecked(
    *, actor: User | None, assignment: RoleAssignment, reason: str = ""
) -> None:
    audit_record(
        action=Action.REVOKE,
        actor=actor,
        consortium_id=assignment.consortium_id,
        target=assignment,
        related=assignment.consortium,
        changes={
            "role": {"before": assignment.role, "after": None},
            "user": {"before": assignment.user.username, "after": None},
        },
        reason=reason,
    )
    assignment.delete()
    # Rights are cached per user object; both may be the same person under two objects.
    permissions.forget_rights(assignment.user)
    if actor is not None:
        permissions.forget_rights(actor)


@transaction.atomic
def role_revoke(*, actor: User, assignment: RoleAssignment, reason: str = "") -> None:
    """Take a role away. A consortium keeps its chair unless the chair hands over first."""
    permissions.require(actor, ConsortiumAction.MANAGE_ROLES, assignment)
    assignment = (
        RoleAssignment.objects.select_for_update()
        .select_related("user", "consortium")
        .get(pk=assignment.pk)
    )
    if assignment.role == Role.CHAIR:
        raise ValidationError(
            {"role": "A consortium always has a chair; hand the chair over instead."}
        )
    _role_revoke_unchecked(actor=actor, assignment=assignment, reason=reason)


@transaction.atomic
def chair_hand_over(*, actor: User, consortium: Consortium, to_user: User) -> RoleAssignment:
    """Pass the chair to another person of an active member organisation, in one step."""
    permissions.require(actor, ConsortiumAction.MANAGE_ROLES, consortium)
    consortium = _locked(Consortium, consortium.pk)
    _require_open(consortium)
    if not permissions.assignable_users(consortium).filter(pk=to_user.pk).exists():
        raise ValidationError(
            {
                "user": f"{to_user.username} does not belong to an active member organisation of this consortium."
            }
        )
    current = (
        RoleAssignment.objects.select_for_update()
        .select_related("user", "consortium")
        .filter(consortium=consortium, role=Role.CHAIR)
        .first()
    )
    if current is not None and current.user_id == to_user.pk:
        raise ValidationError({"user": f"{to_user.username} already chairs this consortium."})
    if current is not None:
        _role_revoke_unchecked(
            actor=actor, assignment=current, reason=f"Chair handed over to {to_user.username}"
        )
    assignment = RoleAssignment.objects.create(consortium=consortium, user=to_user, role=Role.CHAIR)
    audit_record(
        action=Action.ASSIGN,
        actor=actor,
        consortium_id=consortium.pk,
        target=assignment,
        related=consortium,
        changes={
            "role": {"before": None, "after": Role.CHAIR.value},
            "user": {"before": None, "after": to_user.username},
        },
    )
    permissions.forget_rights(to_user)
    return assignment


# Organisations -----------------------------------------------------------------------------


@transaction.atomic
def organisation_create(
    *,
    actor: User | None,
    name: str,
    kind: str,
    home_jurisdiction: Jurisdiction,
    registration_id: str,
) -> Organisation:
    """Register a legal entity (operators only; ``actor=None`` for the system, e.g. seeding)."""
    if actor is not None:
        permissions.require(actor, OrganisationAction.ADD, None)
    organisation = Organisation(
        name=name.strip(),
        kind=kind,
        home_jurisdiction=home_jurisdiction,
        registration_id=registration_id.strip(),
    )
    organisation.full_clean()
    if home_jurisdiction.kind != Jurisdiction.Kind.COUNTRY:
        raise ValidationError(
            {"home_jurisdiction": "An organisation's home is a country, not a bloc."}
        )
    organisation.save()
    audit_record(
        action=Action.CREATE,
        actor=actor,
        target=organisation,
        changes=changes_between(None, snapshot(organisation, ORGANISATION_FIELDS)),
    )
    return organisation


@transaction.atomic
def organisation_update(*, actor: User, organisation: Organisation, **fields: Any) -> Organisation:
    """Correct an organisation's record (its administrators or operators)."""
    permissions.require(actor, OrganisationAction.CHANGE, organisation)
    unknown = set(fields) - set(ORGANISATION_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    organisation = _locked(Organisation, organisation.pk)
    before = snapshot(organisation, ORGANISATION_FIELDS)
    for name, value in fields.items():
        setattr(organisation, name, value.strip() if isinstance(value, str) else value)
    if organisation.home_jurisdiction.kind != Jurisdiction.Kind.COUNTRY:
        raise ValidationError(
            {"home_jurisdiction": "An organisation's home is a country, not a bloc."}
        )
    changes = changes_between(before, snapshot(organisation, ORGANISATION_FIELDS))
    if not changes:
        return organisation
    _save_changed(organisation, changes)
    audit_record(action=Action.UPDATE, actor=actor, target=organisation, changes=changes)
    return organisation


@transaction.atomic
def organisation_delete(*, actor: User, organisation: Organisation) -> None:
    """Delete an organisation that nothing refers to yet."""
    permissions.require(actor, OrganisationAction.DELETE, organisation)
    organisation = _locked(Organisation, organisation.pk)
    if organisation.memberships.exists():
        raise ConflictError(
            f"{organisation} has consortium memberships, and their history refers to it; it cannot be deleted.",
            code="organisation_has_memberships",
        )
    if organisation.users.exists():
        raise ConflictError(
            f"{organisation} still has user accounts; deactivate or move them first.",
            code="organisation_has_users",
        )
    audit_record(
        action=Action.DELETE,
        actor=actor,
        target=organisation,
        changes=changes_between(snapshot(organisation, ORGANISATION_FIELDS), None),
    )
    organisation.delete()


# Personal API tokens -----------------------------------------------------------------------


def api_token_list(*, actor: User) -> list[Any]:
    from knox.models import AuthToken

    return list(
        AuthToken.objects.filter(user=actor)
        .order_by("-created")
        .values("token_key", "created", "expiry")
    )


@transaction.atomic
def api_token_create(*, actor: User) -> str:
    """Create a bearer token for scripts. Only its digest is stored; the caller shows it once."""
    from knox.models import AuthToken

    instance, token = AuthToken.objects.create(user=actor)
    audit_record(
        action=Action.CREATE,
        actor=actor,
        object_type="knox.authtoken",
        object_id=instance.token_key,
        object_display=f"API token {instance.token_key}… of {actor.username}",
        changes={"expiry": {"before": None, "after": instance.expiry}},
    )
    return str(token)


@transaction.atomic
def api_token_revoke(*, actor: User, token_key: str) -> bool:
    from knox.models import AuthToken

    deleted, _ = AuthToken.objects.filter(user=actor, token_key=token_key).delete()
    if deleted:
        audit_record(
            action=Action.DELETE,
            actor=actor,
            object_type="knox.authtoken",
            object_id=token_key,
            object_display=f"API token {token_key}… of {actor.username}",
        )
    return bool(deleted)
