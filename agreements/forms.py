"""Browser input shapes for agreements."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from agreements.models import (
    AgreementKind,
    ClauseKind,
    ClauseTemplate,
    Dataset,
    PartyRole,
    Sensitivity,
)
from agreements.terms import ACTIONS, PURPOSES, Movement, OnwardTransfer
from consortia import permissions as consortium_permissions
from consortia.models import Consortium, Jurisdiction, Membership, Organisation, User


class AgreementForm(forms.Form):
    title = forms.CharField(max_length=300)
    kind = forms.ChoiceField(choices=AgreementKind.choices)
    governing_law = forms.ModelChoiceField(queryset=Jurisdiction.objects.order_by("-kind", "name"))
    effective_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    expires_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    requires_steering_approval = forms.BooleanField(
        required=False, label=_("Needs the steering committee's approval too")
    )


class PartyForm(forms.Form):
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none())
    role = forms.ChoiceField(choices=PartyRole.choices)
    signatory = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, help_text=_("Who signs for it.")
    )
    signing_order = forms.IntegerField(min_value=0, initial=0, help_text=_("0: any order."))

    def __init__(self, *args: Any, consortium: Consortium, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organisation_field = self.fields["organisation"]
        signatory_field = self.fields["signatory"]
        assert isinstance(organisation_field, forms.ModelChoiceField)
        assert isinstance(signatory_field, forms.ModelChoiceField)
        organisation_field.queryset = Organisation.objects.filter(
            memberships__consortium=consortium, memberships__status=Membership.Status.ACTIVE
        ).order_by("name")
        signatory_field.queryset = consortium_permissions.assignable_users(consortium).order_by(
            "username"
        )


class ClauseForm(forms.Form):
    heading = forms.CharField(max_length=200)
    body = forms.CharField(
        widget=forms.Textarea,
        help_text=_("Markdown: paragraphs, lists, **bold**, *italic*, links."),
    )
    kind = forms.ChoiceField(choices=ClauseKind.choices, initial=ClauseKind.GENERAL)
    level = forms.TypedChoiceField(
        choices=[(0, "Clause"), (1, "Sub-clause")], coerce=int, initial=0
    )


class LibraryClauseForm(forms.Form):
    template = forms.ModelChoiceField(
        queryset=ClauseTemplate.objects.all(), to_field_name="slug", label=_("From the library")
    )
    position = forms.IntegerField(min_value=1, required=False, help_text=_("At the end if empty."))

    def __init__(self, *args: Any, templates: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        template_field = self.fields["template"]
        assert isinstance(template_field, forms.ModelChoiceField)
        template_field.queryset = templates


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=1000)


class NoteForm(forms.Form):
    note = forms.CharField(max_length=500, required=False)


class TermsForm(forms.Form):
    """The usage terms of one data usage clause; the service validates them against the
    consortium (datasets, members) and the vocabulary."""

    datasets = forms.ModelMultipleChoiceField(
        queryset=Dataset.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    purposes = forms.MultipleChoiceField(
        choices=[(code, code.replace("_", " ")) for code in PURPOSES],
        widget=forms.CheckboxSelectMultiple,
    )
    actions_allowed = forms.MultipleChoiceField(
        choices=[(action, action.replace("_", " ")) for action in ACTIONS],
        widget=forms.CheckboxSelectMultiple,
    )
    actions_prohibited = forms.MultipleChoiceField(
        choices=[(action, action.replace("_", " ")) for action in ACTIONS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    jurisdictions = forms.CharField(
        help_text=_("Codes, comma-separated: countries (FR) or blocs (EU).")
    )
    movement = forms.ChoiceField(
        choices=[(value.value, value.value.replace("_", " ")) for value in Movement]
    )
    retention_days = forms.IntegerField(
        min_value=1, required=False, help_text=_("Empty: no limit.")
    )
    onward_transfer = forms.ChoiceField(
        choices=[(value.value, value.value.replace("_", " ")) for value in OnwardTransfer]
    )
    onward_parties = forms.ModelMultipleChoiceField(
        queryset=Organisation.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    derived_models_inherit = forms.BooleanField(
        required=False, initial=True, label=_("Models trained on the data inherit these terms")
    )

    def __init__(self, *args: Any, consortium: Consortium, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        datasets_field, parties_field = self.fields["datasets"], self.fields["onward_parties"]
        assert isinstance(datasets_field, forms.ModelMultipleChoiceField)
        assert isinstance(parties_field, forms.ModelMultipleChoiceField)
        datasets_field.queryset = Dataset.objects.filter(consortium=consortium).order_by("name")
        parties_field.queryset = Organisation.objects.filter(
            memberships__consortium=consortium, memberships__status=Membership.Status.ACTIVE
        ).order_by("name")

    def terms(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "datasets": [dataset.pk for dataset in data["datasets"]],
            "purposes": data["purposes"],
            "actions_allowed": data["actions_allowed"],
            "actions_prohibited": data["actions_prohibited"],
            "jurisdictions": [
                code.strip().upper() for code in data["jurisdictions"].split(",") if code.strip()
            ],
            "movement": data["movement"],
            "retention_days": data["retention_days"],
            "onward_transfer": data["onward_transfer"],
            "onward_parties": [organisation.pk for organisation in data["onward_parties"]],
            "derived_models_inherit": data["derived_models_inherit"],
        }

    @staticmethod
    def initial_from(terms: dict[str, Any] | None) -> dict[str, Any]:
        if not terms:
            return {}
        return {**terms, "jurisdictions": ", ".join(terms["jurisdictions"])}


class DatasetForm(forms.Form):
    consortium = forms.ModelChoiceField(queryset=Consortium.objects.none())
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea, required=False)
    sensitivity = forms.ChoiceField(choices=Sensitivity.choices)
    contains_personal_data = forms.BooleanField(required=False)
    residency = forms.ModelChoiceField(
        queryset=Jurisdiction.objects.order_by("-kind", "name"),
        help_text=_("Where the data is and must stay."),
    )

    def __init__(self, *args: Any, consortia: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        consortium_field = self.fields["consortium"]
        assert isinstance(consortium_field, forms.ModelChoiceField)
        consortium_field.queryset = consortia


class SignForm(forms.Form):
    consent = forms.BooleanField(
        label=_("I have read the agreement and I sign it with the consent above.")
    )
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Your Alliance password, again: signing needs you, not just your session."),
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text=_("The parties see it; the version goes back to review."),
    )


class VerifyForm(forms.Form):
    document = forms.FileField(
        label=_("Signed PDF"), help_text=_("Checked in memory, never stored.")
    )
