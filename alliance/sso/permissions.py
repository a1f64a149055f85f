"""Who may manage an organisation's single sign-on: its admins, and the platform's staff.

Built on the consortium domain's policy (``OrganisationAction.CHANGE`` is "organisation admin
of this organisation, or staff"). Whether another organisation has a provider, and how it is
set up, is private: their people get 404; the organisation's other people get 403.
"""

from __future__ import annotations

from typing import Any

from alliance.errors import AccessDeniedError, NotVisibleError
from consortia import permissions
from consortia.models import Organisation
from consortia.permissions import OrganisationAction

MANAGE_SSO = "manage_sso"


def get_organisation_for_sso_admin(user: Any, organisation_pk: Any) -> Organisation:
    """The organisation whose provider ``user`` may set up (404 outside it, 403 inside)."""
    organisation = permissions.get_organisation_for(user, organisation_pk)
    if user.organisation_id != organisation.pk and not (user.is_staff or user.is_superuser):
        raise NotVisibleError(
            "No such page.",
            object_type="consortia.organisation",
            object_id=str(organisation_pk)[:64],
            action=MANAGE_SSO,
        )
    if not permissions.can(user, OrganisationAction.CHANGE, organisation):
        raise AccessDeniedError(
            "Only your organisation's admins manage its single sign-on.",
            object_type="consortia.organisation",
            object_id=str(organisation.pk),
            action=MANAGE_SSO,
        )
    return organisation
