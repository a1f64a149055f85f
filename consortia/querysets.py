"""Query vocabulary for the consortium domain. No access decisions here: see permissions.py."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    # Named in the QuerySet[...] bases below, as strings.
    from consortia.models import Consortium, Jurisdiction, Membership, RoleAssignment  # noqa: F401


def _current_on(on: datetime.date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}joined_on__lte": on}) & (
        Q(**{f"{prefix}left_on__isnull": True}) | Q(**{f"{prefix}left_on__gt": on})
    )


class JurisdictionQuerySet(models.QuerySet["Jurisdiction"]):
    def countries(self) -> JurisdictionQuerySet:
        return self.filter(kind="country")

    def blocs(self) -> JurisdictionQuerySet:
        return self.filter(kind="bloc")

    def members_of(self, bloc: Jurisdiction | str, *, on: datetime.date) -> JurisdictionQuerySet:
        """Countries that belonged to ``bloc`` on the day ``on``."""
        bloc_code = bloc if isinstance(bloc, str) else bloc.pk
        return self.filter(
            _current_on(on, "bloc_links__"), bloc_links__bloc_id=bloc_code
        ).distinct()

    def blocs_of(self, country: Jurisdiction | str, *, on: datetime.date) -> JurisdictionQuerySet:
        """Blocs that ``country`` belonged to on the day ``on``."""
        country_code = country if isinstance(country, str) else country.pk
        return self.filter(
            _current_on(on, "member_links__"), member_links__member_id=country_code
        ).distinct()

    def covering(self, country: Jurisdiction | str, *, on: datetime.date) -> JurisdictionQuerySet:
        """The country itself and every bloc it belonged to on ``on``: where a rule
        written against any of these applies to the country."""
        country_code = country if isinstance(country, str) else country.pk
        bloc_codes = self.model.objects.blocs_of(country_code, on=on).values("code")
        return self.filter(Q(code=country_code) | Q(code__in=bloc_codes))


class ConsortiumQuerySet(models.QuerySet["Consortium"]):
    def operational(self) -> ConsortiumQuerySet:
        return self.filter(status="operational")

    def with_member_count(self) -> ConsortiumQuerySet:
        from consortia import models as consortia_models

        active = (
            consortia_models.Membership.objects.filter(
                consortium=models.OuterRef("pk"), status="active"
            )
            .order_by()
            .values("consortium")
            .annotate(count=models.Count("pk"))
            .values("count")
        )
        return self.annotate(member_count=models.functions.Coalesce(models.Subquery(active), 0))


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active(self) -> MembershipQuerySet:
        return self.filter(status="active")

    def current(self) -> MembershipQuerySet:
        """Memberships that still tie an organisation to its consortium (not removed)."""
        return self.filter(status__in=["invited", "active", "suspended"])


class RoleAssignmentQuerySet(models.QuerySet["RoleAssignment"]):
    def chairs(self) -> RoleAssignmentQuerySet:
        return self.filter(role="chair")
