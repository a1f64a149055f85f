"""Browser input shapes. Choices are limited to what the user may see or pick; the services
still decide what is allowed."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consortia import permissions, services
from consortia.models import (
    Consortium,
    Jurisdiction,
    Membership,
    Organisation,
    PartnershipModel,
    Role,
    User,
)


class ConsortiumCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    partnership_model = forms.ModelChoiceField(
        queryset=PartnershipModel.objects.all(),
        help_text=_("Sets defaults for governance, agreements and risks; never hard limits."),
    )
    home_jurisdiction = forms.ModelChoiceField(
        queryset=Jurisdiction.objects.order_by("-kind", "name"),
        help_text=_("The territory the consortium's data and rights stay in: a bloc or a country."),
    )
    charter = forms.CharField(widget=forms.Textarea, required=False)


class ConsortiumEditForm(forms.Form):
    name = forms.CharField(max_length=200)
    charter = forms.CharField(widget=forms.Textarea, required=False)
    partnership_model = forms.ModelChoiceField(queryset=PartnershipModel.objects.all())
    home_jurisdiction = forms.ModelChoiceField(
        queryset=Jurisdiction.objects.order_by("-kind", "name")
    )

    def __init__(self, *args: Any, consortium: Consortium, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "name": consortium.name,
                "charter": consortium.charter,
                "partnership_model": consortium.partnership_model_id,
                "home_jurisdiction": consortium.home_jurisdiction_id,
            },
        )
        super().__init__(*args, **kwargs)
        if consortium.status != Consortium.Status.FORMING:
            # Fixed once the consortium has left the forming stage.
            for name in services.FOUNDING_FIELDS:
                del self.fields[name]


class ConsortiumStatusForm(forms.Form):
    status = forms.ChoiceField()

    def __init__(self, *args: Any, consortium: Consortium, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = services.CONSORTIUM_TRANSITIONS[consortium.status]
        status_field = self.fields["status"]
        assert isinstance(status_field, forms.ChoiceField)
        status_field.choices = [
            (value, label) for value, label in Consortium.Status.choices if value in allowed
        ]


class InviteForm(forms.Form):
    """The organisation is typed by name (a deployment may register thousands); the page
    suggests names as one types, and without JavaScript the exact name works."""

    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        to_field_name="name",
        widget=forms.TextInput(attrs={"list": "organisation-options", "autocomplete": "off"}),
        error_messages={
            "invalid_choice": _(
                "No registered organisation outside this consortium has that exact name."
            )
        },
    )
    voting_weight = forms.DecimalField(max_digits=9, decimal_places=4, min_value=0, initial=1)

    def __init__(self, *args: Any, consortium: Consortium, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organisation_field = self.fields["organisation"]
        assert isinstance(organisation_field, forms.ModelChoiceField)
        organisation_field.queryset = invitable_organisations(consortium)


def invitable_organisations(consortium: Consortium) -> Any:
    """Organisations not (or no longer) tied to ``consortium``."""
    return Organisation.objects.exclude(
        pk__in=Membership.objects.filter(consortium=consortium).current().values("organisation_id")
    )


class AdmitForm(forms.Form):
    joined_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Today if empty."),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=1000)


class PersonChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} ({obj.organisation})"


class _AssignableUserForm(forms.Form):
    user = PersonChoiceField(queryset=User.objects.none())

    def __init__(self, *args: Any, consortium: Consortium, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user_field = self.fields["user"]
        assert isinstance(user_field, forms.ModelChoiceField)
        user_field.queryset = (
            permissions.assignable_users(consortium)
            .select_related("organisation")
            .order_by("username")
        )


class RoleAssignForm(_AssignableUserForm):
    role = forms.ChoiceField(
        choices=[(value, label) for value, label in Role.choices if value != Role.CHAIR]
    )


class ChairHandOverForm(_AssignableUserForm):
    pass


class OrganisationForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=Organisation.Kind.choices)
    home_jurisdiction = forms.ModelChoiceField(
        queryset=Jurisdiction.objects.countries().order_by("name")
    )
    registration_id = forms.CharField(max_length=64)


def apply_service_errors(form: forms.Form, error: Any) -> None:
    """Show a service's ValidationError on the form: on its fields where they exist."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def as_utc(moment: datetime.datetime) -> datetime.datetime:
    """A datetime-local input carries no zone; the forms say their times are UTC."""
    return timezone.make_aware(moment, datetime.UTC) if timezone.is_naive(moment) else moment
