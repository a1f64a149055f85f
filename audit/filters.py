"""The one filter for audit events: the activity page, the API list and exports share it."""

from __future__ import annotations

import django_filters

from alliance.api.filters import IdFilter, InstantFilter
from audit.models import Action, AuditEvent, Outcome


class AuditEventFilter(django_filters.FilterSet):
    consortium = IdFilter(field_name="consortium_id")
    actor = django_filters.CharFilter(
        field_name="actor_display", lookup_expr="icontains", label="Actor"
    )
    organisation = django_filters.CharFilter(
        field_name="actor_organisation_display", lookup_expr="icontains", label="Organisation"
    )
    action = django_filters.ChoiceFilter(choices=Action.choices)
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices)
    object_type = django_filters.CharFilter(label="Object type, e.g. consortia.membership")
    object_id = django_filters.CharFilter(label="Object id")
    since = InstantFilter(field_name="occurred_at", lookup_expr="gte", label="From (ISO 8601)")
    until = InstantFilter(field_name="occurred_at", lookup_expr="lt", label="Until (ISO 8601)")

    class Meta:
        model = AuditEvent
        fields = [
            "consortium",
            "actor",
            "organisation",
            "action",
            "outcome",
            "object_type",
            "object_id",
        ]

    def applied(self) -> dict[str, str]:
        """The filters actually in force, as strings: what an export or a list event records."""
        if not self.is_valid():
            return {}
        return {
            name: str(value)
            for name, value in self.form.cleaned_data.items()
            if value not in (None, "")
        }
