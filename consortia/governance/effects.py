"""What a passed motion does, by kind. consortia registers the membership effects; a higher
app registers its own (agreements: approving a version for the steering committee) in its
AppConfig.ready, so that imports keep pointing downwards. A handler runs inside the closing
transaction: if it fails, the outcome is rolled back with it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Effect = Callable[[Any], object]
# (consortium, subject id) -> (display, id, organisation id); raises ValidationError if unfit.
Subject = Callable[[Any, Any], tuple[str, str, int | None]]
_EFFECTS: dict[str, Effect] = {}
_SUBJECTS: dict[str, tuple[str, Subject]] = {}
_ON_FAILURE: dict[str, Effect] = {}
# (consortium, subject id) -> ids of organisations holding a binding veto on such a motion.
Vetoes = Callable[[Any, Any], set[int]]
_VETOES: dict[str, Vetoes] = {}
# Kinds whose subject is an organisation of the consortium: it is recused automatically.
ABOUT_AN_ORGANISATION = frozenset({"admit_member", "suspend_member", "remove_member"})


def register(
    kind: str,
    effect: Effect,
    *,
    subject: tuple[str, Subject] | None = None,
    on_failure: Effect | None = None,
    vetoes: Vetoes | None = None,
) -> None:
    """``subject`` is (the subject's model label, a function that finds and checks it) for a
    kind whose subject lives in the registering app; ``on_failure`` runs when such a motion
    fails (a referred allocation request is then rejected, say); ``vetoes`` names the
    organisations whose named right gives them a binding veto (a dataset's owner over a use of
    its data)."""
    _EFFECTS[kind] = effect
    if subject is not None:
        _SUBJECTS[kind] = subject
    if on_failure is not None:
        _ON_FAILURE[kind] = on_failure
    if vetoes is not None:
        _VETOES[kind] = vetoes


def effect_for(kind: str) -> Effect | None:
    return _EFFECTS.get(kind)


def subject_for(kind: str) -> tuple[str, Subject] | None:
    return _SUBJECTS.get(kind)


def failure_for(kind: str) -> Effect | None:
    return _ON_FAILURE.get(kind)


def veto_holders(kind: str, consortium: Any, subject_id: Any) -> set[int]:
    holders = _VETOES.get(kind)
    return holders(consortium, subject_id) if holders is not None else set()


def registered_subject_kinds() -> frozenset[str]:
    return frozenset(_SUBJECTS)


def _membership(motion: Any) -> Any:
    from consortia.models import Membership

    return Membership.objects.get(pk=motion.subject_id, consortium_id=motion.consortium_id)


def _admit(motion: Any) -> None:
    from consortia import services

    services.membership_admit(actor=None, membership=_membership(motion))


def _suspend(motion: Any) -> None:
    from consortia import services

    services.membership_suspend(
        actor=None, membership=_membership(motion), reason=f"Motion {motion.number} passed"
    )


def _remove(motion: Any) -> None:
    from consortia import services

    services.membership_remove(
        actor=None, membership=_membership(motion), reason=f"Motion {motion.number} passed"
    )


register("admit_member", _admit)
register("suspend_member", _suspend)
register("remove_member", _remove)
