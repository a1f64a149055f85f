"""What a passed motion does, by kind. consortia registers the membership effects; a higher
app registers its own (agreements: approving a version for the steering committee) in its
AppConfig.ready, so that imports keep pointing downwards. A handler runs inside the closing
transaction: if it fails, the outcome is rolled back with it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Effect = Callable[[Any], object]
_EFFECTS: dict[str, Effect] = {}
# Kinds whose subject is an organisation of the consortium: it is recused automatically.
ABOUT_AN_ORGANISATION = frozenset({"admit_member", "suspend_member", "remove_member"})


def register(kind: str, effect: Effect) -> None:
    _EFFECTS[kind] = effect


def effect_for(kind: str) -> Effect | None:
    return _EFFECTS.get(kind)


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
