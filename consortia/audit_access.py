"""The consortium domain's answer to "who may read which audit chain", registered with the
audit app at start-up (see ConsortiaConfig.ready).

Every person who can see a consortium reads its activity: the changes. Its auditors and its
chair (and anyone granted ``view_audit_log``) read the whole chain, reads and denials
included, and may export it.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from consortia import permissions
from consortia.models import Consortium
from consortia.permissions import ConsortiumAction


class ConsortiumChainAccess:
    def full_consortium_ids(self, user: Any) -> Any:
        return permissions.consortium_ids_where(user, ConsortiumAction.VIEW_AUDIT)

    def activity_consortium_ids(self, user: Any) -> Any:
        return permissions.visible_consortium_ids(user)

    def require(self, user: Any, consortium_id: Any, *, full: bool) -> None:
        action = ConsortiumAction.VIEW_AUDIT if full else ConsortiumAction.VIEW
        permissions.get_consortium_for(user, consortium_id, action)

    def has_full(self, user: Any, consortium_id: int) -> bool:
        return ConsortiumAction.VIEW_AUDIT in permissions.consortium_rights(user, consortium_id)

    def consortium_label(self, consortium_id: int) -> tuple[str, str]:
        name = Consortium.objects.filter(pk=consortium_id).values_list("name", flat=True).first()
        return str(name or f"Consortium {consortium_id}"), reverse(
            "consortia:detail", args=[consortium_id]
        )
