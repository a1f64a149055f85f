"""The access policy for the consortium domain: the one place that decides who sees and does what.

Visibility follows membership: a user sees a consortium when their organisation is (or is
invited to be) a member, or when they hold an explicit django-guardian grant on it (directly
or through a group). All three are merged into one ``id IN (... UNION ...)`` sub-query that
starts from the user, so a list costs the same however many consortia exist (guardian's ``get_objects_for_user`` tests every row of
the table instead; see ../shared/reference/perf-calibration.md).

What a user may do inside a visible consortium follows their roles, which count only while
their organisation is an active member, plus explicit grants. Browser views, API views and
services all ask the functions below; nothing else filters these models for access.

Outside the consortium the answer is 404 (the object is not revealed); inside without the
right it is 403.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, models
from django.db.models.expressions import RawSQL

from alliance.compiled import CompiledQuery, Read, column_names, instances
from alliance.errors import AccessDeniedError, NotVisibleError
from consortia.models import (
    Consortium,
    ConsortiumGroupObjectPermission,
    ConsortiumUserObjectPermission,
    Membership,
    Organisation,
    Role,
    RoleAssignment,
    User,
)
from consortia.querysets import ConsortiumQuerySet


class ConsortiumAction(enum.StrEnum):
    """Things one can do to a consortium and what hangs off it. Values are guardian codenames."""

    VIEW = "view_consortium"
    CHANGE = "change_consortium"
    DELETE = "delete_consortium"
    MANAGE_MEMBERSHIP = "manage_membership"
    MANAGE_ROLES = "manage_roles"
    VIEW_AUDIT = "view_audit_log"


class OrganisationAction(enum.StrEnum):
    VIEW = "view_organisation"
    ADD = "add_organisation"
    CHANGE = "change_organisation"
    DELETE = "delete_organisation"


# Membership statuses that let an organisation's people see the consortium.
VISIBLE_MEMBERSHIP_STATUSES = ("invited", "active", "suspended")

# Roles grant actions only while the holder's organisation is an active member.
ROLE_ACTIONS: Mapping[Role, frozenset[ConsortiumAction]] = {
    Role.CHAIR: frozenset(ConsortiumAction),
    Role.STEERING_MEMBER: frozenset({ConsortiumAction.VIEW}),
    Role.LEGAL: frozenset({ConsortiumAction.VIEW}),
    Role.TECHNICAL: frozenset({ConsortiumAction.VIEW}),
    Role.CAPACITY_BOARD: frozenset({ConsortiumAction.VIEW}),
    Role.AUDITOR: frozenset({ConsortiumAction.VIEW, ConsortiumAction.VIEW_AUDIT}),
    Role.OBSERVER: frozenset({ConsortiumAction.VIEW}),
}

_STANDING_CACHE = "_alliance_consortium_standing"

ModelT = TypeVar("ModelT", bound=models.Model)


def _is_authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


@functools.cache
def _visible_ids_sql() -> str:
    # Hand-written because the ORM spends about 2 ms compiling this three-way UNION on every
    # request (more than PostgreSQL spends running it; measured by `make bench`), and the
    # text never changes: only the parameters do.
    membership = Membership._meta.db_table
    user_grants = ConsortiumUserObjectPermission._meta.db_table
    group_grants = ConsortiumGroupObjectPermission._meta.db_table
    user_groups = User.groups.through._meta.db_table
    statuses = ", ".join(["%s"] * len(VISIBLE_MEMBERSHIP_STATUSES))
    # Only table names (from the models) enter the text; every value is a parameter.
    return (
        f"SELECT consortium_id FROM {membership} WHERE organisation_id = %s AND status IN ({statuses}) "  # noqa: S608
        f"UNION SELECT content_object_id FROM {user_grants} WHERE user_id = %s "
        f"UNION SELECT g.content_object_id FROM {group_grants} g "
        f"JOIN {user_groups} ug ON ug.group_id = g.group_id WHERE ug.user_id = %s"
    )


class ConsortiumLimit(Protocol):
    """The consortia a partner client was limited to by its organisation."""

    def sql(self) -> tuple[str, tuple[Any, ...]]:
        """A sub-query selecting their ids, with its parameters."""

    def __contains__(self, consortium_id: object) -> bool: ...


def consortium_limit(user: Any) -> ConsortiumLimit | None:
    """A partner client's limit (None for people): the client sees and does only what its
    account could, and only in those consortia."""
    return getattr(user, "consortium_limit", None)


def visible_consortium_ids(user: Any) -> RawSQL:
    """Ids of the consortia ``user`` may see, as a sub-query that starts from the user.

    A user without an organisation matches no membership (SQL NULL equals nothing)."""
    params = (user.organisation_id, *VISIBLE_MEMBERSHIP_STATUSES, user.pk, user.pk)
    limit = consortium_limit(user)
    if limit is None:
        return RawSQL(_visible_ids_sql(), params)  # noqa: S611 - parameters only
    limited, limit_params = limit.sql()
    return RawSQL(  # noqa: S611 - parameters only
        f"SELECT consortium_id FROM ({_visible_ids_sql()}) AS visible "  # noqa: S608
        f"WHERE consortium_id IN ({limited})",
        (*params, *limit_params),
    )


def _role_holder_ids(user: Any, roles: Iterable[Role]) -> Any:
    return (
        RoleAssignment.objects.filter(
            user_id=user.pk,
            role__in=list(roles),
            consortium__memberships__organisation_id=user.organisation_id,
            consortium__memberships__status=Membership.Status.ACTIVE,
        )
        .order_by()
        .values("consortium_id")
    )


def consortium_ids_with_roles(user: Any, roles: Iterable[Role]) -> Any:
    """Ids of the consortia where ``user`` holds one of ``roles`` while their organisation is
    an active member (the only time roles count), as a sub-query: what ``standing`` answers
    for one consortium, for all of them in one query."""
    by_role = _role_holder_ids(user, roles)
    limit = consortium_limit(user)
    if limit is not None:
        by_role = by_role.filter(consortium_id__in=RawSQL(*limit.sql()))  # noqa: S611
    return by_role


def consortium_ids_where(user: Any, action: ConsortiumAction) -> Any:
    """Ids of the consortia where ``user`` may take ``action``, as a sub-query: by a role
    that grants it (while their organisation is an active member) or by an explicit grant."""
    if action == ConsortiumAction.VIEW:
        return visible_consortium_ids(user)
    roles = [role for role, actions in ROLE_ACTIONS.items() if action in actions]
    by_role = _role_holder_ids(user, roles)
    granted = (
        ConsortiumUserObjectPermission.objects.filter(
            user_id=user.pk, permission__codename=action.value
        )
        .order_by()
        .values("content_object_id")
    )
    granted_to_group = (
        ConsortiumGroupObjectPermission.objects.filter(
            group__user=user.pk, permission__codename=action.value
        )
        .order_by()
        .values("content_object_id")
    )
    limit = consortium_limit(user)
    if limit is not None:
        limited = RawSQL(*limit.sql())  # noqa: S611 - see ConsortiumLimit.sql
        by_role = by_role.filter(consortium_id__in=limited)
        granted = granted.filter(content_object_id__in=limited)
        granted_to_group = granted_to_group.filter(content_object_id__in=limited)
    return by_role.union(granted, granted_to_group)


def visible_consortia(user: Any) -> ConsortiumQuerySet:
    if not _is_authenticated(user):
        return Consortium.objects.none()
    if user.is_superuser:
        return Consortium.objects.all()
    return Consortium.objects.filter(pk__in=visible_consortium_ids(user))


def _scoped_to_visible(user: Any, queryset: models.QuerySet[ModelT]) -> models.QuerySet[ModelT]:
    if not _is_authenticated(user):
        return queryset.none()
    if user.is_superuser:
        return queryset
    return queryset.filter(consortium_id__in=visible_consortium_ids(user))


def visible_memberships(user: Any) -> models.QuerySet[Membership]:
    return _scoped_to_visible(user, Membership.objects.all())


def visible_role_assignments(user: Any) -> models.QuerySet[RoleAssignment]:
    return _scoped_to_visible(user, RoleAssignment.objects.all())


def visible_organisations(user: Any) -> models.QuerySet[Organisation]:
    """The organisation directory: every signed-in user may look up legal entities, since
    inviting one means finding it. Which consortia an organisation is in stays private."""
    if not _is_authenticated(user):
        return Organisation.objects.none()
    return Organisation.objects.all()


@dataclass(frozen=True)
class Standing:
    """Where a user stands in one consortium: whether their organisation's membership lets them
    see it, the roles that count (only while it is active), and explicit grants."""

    membership_status: str | None
    roles: frozenset[Role]
    granted: frozenset[str]

    @property
    def is_active_member(self) -> bool:
        return self.membership_status == Membership.Status.ACTIVE


_MEMBERSHIP, _ROLE, _GRANTED = "membership", "role", "granted"


def _tag(kind: str) -> models.Value:
    return models.Value(kind, output_field=models.CharField())


def standing(user: Any, consortium_id: int) -> Standing:
    """The user's standing in a consortium, cached on the user for the request (one query the
    first time). Other apps' policies build on it."""
    cache: dict[int, Standing] = user.__dict__.setdefault(_STANDING_CACHE, {})
    if consortium_id in cache:
        return cache[consortium_id]
    limit = consortium_limit(user)
    if limit is not None and consortium_id not in limit:
        cache[consortium_id] = Standing(None, frozenset(), frozenset())
        return cache[consortium_id]
    found: dict[str, set[str]] = {_MEMBERSHIP: set(), _ROLE: set(), _GRANTED: set()}
    for kind, value in _standing_rows(consortium_id, user.organisation_id, user.pk):
        found[kind].add(value)
    # One membership per organisation and consortium (a unique constraint).
    membership_status = next(iter(found[_MEMBERSHIP]), None)
    active = membership_status == Membership.Status.ACTIVE
    cache[consortium_id] = Standing(
        membership_status,
        frozenset(Role(role) for role in found[_ROLE]) if active else frozenset(),
        frozenset(found[_GRANTED]),
    )
    return cache[consortium_id]


def _standing_queryset(consortium_id: Any, organisation_id: Any, user_id: Any) -> Any:
    """One round trip for the three things a standing is made of, each row tagged with what
    it is. No ordering: the models' default one (by consortium and organisation name) would
    join both tables in."""
    membership = (
        Membership.objects.filter(consortium_id=consortium_id, organisation_id=organisation_id)
        .order_by()
        .annotate(kind=_tag(_MEMBERSHIP))
        .values_list("kind", "status")
    )
    roles = (
        RoleAssignment.objects.filter(consortium_id=consortium_id, user_id=user_id)
        .order_by()
        .annotate(kind=_tag(_ROLE))
        .values_list("kind", "role")
    )
    user_permissions = (
        ConsortiumUserObjectPermission.objects.filter(
            user_id=user_id, content_object_id=consortium_id
        )
        .order_by()
        .annotate(kind=_tag(_GRANTED))
        .values_list("kind", "permission__codename")
    )
    group_permissions = (
        ConsortiumGroupObjectPermission.objects.filter(
            group__user=user_id, content_object_id=consortium_id
        )
        .order_by()
        .annotate(kind=_tag(_GRANTED))
        .values_list("kind", "permission__codename")
    )
    return membership.union(roles, user_permissions, group_permissions, all=True)


# Every permission check of every request starts here, and building four querysets and their
# union costs more than running them; PostgreSQL, too, takes longer to plan the union (about
# 0.3 ms) than to run it (0.04 ms), so it is prepared once per connection.
_STANDING = CompiledQuery(_standing_queryset, prepared=True)


def _standing_rows(consortium_id: int, organisation_id: int | None, user_id: int) -> list[Any]:
    """The standing query's rows. A user without an organisation matches no membership (SQL
    NULL equals nothing), as the queryset's own IS NULL would, since every membership has one."""
    return _STANDING.rows(
        consortium_id=int(consortium_id), organisation_id=organisation_id, user_id=int(user_id)
    )


def standing_read(user: Any, consortium_id: int) -> Read | None:
    """The read ``standing`` would make for this user and consortium, for a caller that sends
    it together with others (``alliance.compiled.read_together``); None when ``standing``
    would make none (known already for this request, outside a client's limit, a superuser or
    anonymous)."""
    if not _is_authenticated(user) or user.is_superuser:
        return None
    if consortium_id in user.__dict__.get(_STANDING_CACHE, {}):
        return None
    limit = consortium_limit(user)
    if limit is not None and consortium_id not in limit:
        return None
    return _STANDING.read(
        consortium_id=int(consortium_id), organisation_id=user.organisation_id, user_id=int(user.pk)
    )


def consortium_rights(user: Any, consortium_id: int) -> frozenset[ConsortiumAction]:
    """Every action ``user`` may take on the consortium."""
    if not _is_authenticated(user):
        return frozenset()
    if user.is_superuser:
        return frozenset(ConsortiumAction)
    where = standing(user, consortium_id)
    rights: set[ConsortiumAction] = set()
    if where.membership_status in VISIBLE_MEMBERSHIP_STATUSES or where.granted:
        rights.add(ConsortiumAction.VIEW)
    for role in where.roles:
        rights |= ROLE_ACTIONS[role]
    rights |= {action for action in ConsortiumAction if action.value in where.granted}
    return frozenset(rights)


def forget_rights(user: Any) -> None:
    """Drop the per-request cache, after a change to the user's own memberships or roles."""
    user.__dict__.pop(_STANDING_CACHE, None)


def _consortium_id_of(obj: Consortium | Membership | RoleAssignment) -> int:
    return obj.pk if isinstance(obj, Consortium) else obj.consortium_id


def can(user: Any, action: ConsortiumAction | OrganisationAction, obj: models.Model | None) -> bool:
    """May ``user`` take ``action`` on ``obj``? The question every view and service asks."""
    if isinstance(action, OrganisationAction):
        return _can_organisation(user, action, obj)
    assert isinstance(obj, Consortium | Membership | RoleAssignment), obj
    return action in consortium_rights(user, _consortium_id_of(obj))


def _can_organisation(user: Any, action: OrganisationAction, obj: models.Model | None) -> bool:
    if not _is_authenticated(user):
        return False
    if action == OrganisationAction.VIEW:
        return True
    if user.is_staff or user.is_superuser:
        return True
    if action == OrganisationAction.CHANGE and isinstance(obj, Organisation):
        return bool(user.is_organisation_admin and user.organisation_id == obj.pk)
    return False


def _consortium_of(obj: models.Model | None) -> int | None:
    if isinstance(obj, Consortium):
        return int(obj.pk)
    return getattr(obj, "consortium_id", None)


def require(
    user: Any, action: ConsortiumAction | OrganisationAction, obj: models.Model | None
) -> None:
    """Raise PermissionDenied unless ``can(user, action, obj)``; services call this."""
    if not can(user, action, obj):
        raise AccessDeniedError(
            f"You may not {action.value.replace('_', ' ')} here.",
            consortium_id=_consortium_of(obj),
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            action=action.value,
        )


def _not_visible(model: type[models.Model], pk: Any, action: str) -> NotVisibleError:
    """The 404 for an object the user cannot see. Its consortium (when it exists at all)
    is looked up only on this denial path, so the attempt lands in that consortium's chain."""
    consortium_id = None
    if str(pk).isdigit():
        if model is Consortium:
            consortium_id = int(pk) if Consortium.objects.filter(pk=pk).exists() else None
        elif hasattr(model, "consortium_id"):
            consortium_id = (
                model._default_manager.filter(pk=pk).values_list("consortium_id", flat=True).first()
            )
    return NotVisibleError(
        f"No {model._meta.verbose_name} matches the given query.",
        consortium_id=consortium_id,
        object_type=model._meta.label_lower,
        object_id=str(pk)[:64],
        action=action,
    )


def _get_visible(
    queryset: models.QuerySet[ModelT], pk: Any, user: Any, action: ConsortiumAction
) -> ModelT:
    try:
        obj = queryset.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise _not_visible(queryset.model, pk, action.value) from None
    require(user, action, obj)
    return obj


def get_consortium_for(
    user: Any, pk: Any, action: ConsortiumAction = ConsortiumAction.VIEW
) -> Consortium:
    """The consortium, if ``user`` may see it (else 404) and take ``action`` on it (else 403)."""
    queryset = visible_consortia(user).select_related("partnership_model", "home_jurisdiction")
    return _get_visible(queryset, pk, user, action)


_CONSORTIUM_ROW = CompiledQuery(
    lambda pk: Consortium.objects.filter(pk=pk).order_by().values_list(*column_names(Consortium))
)


def get_bare_consortium_for(
    user: Any, pk: int, action: ConsortiumAction = ConsortiumAction.VIEW
) -> Consortium:
    """``get_consortium_for`` without the partnership model and home jurisdiction, for the
    paths a pipeline calls many times a minute (the compliance gate): the user's standing,
    which the right needs anyway, says whether the consortium is visible, and the instance
    loads its fields only when one is read."""
    if ConsortiumAction.VIEW not in consortium_rights(user, pk):
        raise _not_visible(Consortium, pk, action.value)
    if user.is_superuser:
        # Every right, whether or not the consortium exists: its row says.
        found = instances(Consortium, _CONSORTIUM_ROW.rows(pk=pk))
        if not found:
            raise _not_visible(Consortium, pk, action.value)
        consortium = found[0]
    else:
        # Anyone else sees it through a membership or a grant, rows that cannot outlive it:
        # the consortium exists, and its fields are read (a query) only if someone asks.
        consortium = Consortium.from_db(connection.alias, ["id"], [pk])
    require(user, action, consortium)
    return consortium


def get_membership_for(
    user: Any, pk: Any, action: ConsortiumAction = ConsortiumAction.VIEW
) -> Membership:
    queryset = visible_memberships(user).select_related("consortium", "organisation")
    return _get_visible(queryset, pk, user, action)


def get_role_assignment_for(
    user: Any, pk: Any, action: ConsortiumAction = ConsortiumAction.VIEW
) -> RoleAssignment:
    queryset = visible_role_assignments(user).select_related("consortium", "user")
    return _get_visible(queryset, pk, user, action)


def get_organisation_for(
    user: Any, pk: Any, action: OrganisationAction = OrganisationAction.VIEW
) -> Organisation:
    try:
        organisation = visible_organisations(user).select_related("home_jurisdiction").get(pk=pk)
    except (Organisation.DoesNotExist, ValueError, TypeError):
        raise _not_visible(Organisation, pk, action.value) from None
    require(user, action, organisation)
    return organisation


def assignable_users(consortium: Consortium) -> models.QuerySet[User]:
    """People who may hold a role in ``consortium``: users of its active member organisations."""
    return User.objects.filter(
        is_active=True,
        organisation__memberships__consortium=consortium,
        organisation__memberships__status=Membership.Status.ACTIVE,
    )
