"""Browser input shapes for agreements."""

from __future__ import annotations

from typing import Any

from django import forms

from agreements.models import AgreementKind, ClauseKind, ClauseTemplate, PartyRole
from consortia import permissions as consortium_permissions
from consortia.models import Consortium, Jurisdiction, Membership, Organisation, User


class AgreementForm(forms.Form):
    title = forms.CharField(max_length=300)
    kind = forms.ChoiceField(choices=AgreementKind.choices)
    governing_law = forms.ModelChoiceField(queryset=Jurisdiction.objects.order_by("-kind", "name"))
    effective_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    expires_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    requires_steering_approval = forms.BooleanField(
        required=False, label="Needs the steering committee's approval too"
    )


class PartyForm(forms.Form):
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none())
    role = forms.ChoiceField(choices=PartyRole.choices)
    signatory = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, help_text="Who signs for it."
    )
    signing_order = forms.IntegerField(min_value=0, initial=0, help_text="0: any order.")

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
        widget=forms.Textarea, help_text="Markdown: paragraphs, lists, **bold**, *italic*, links."
    )
    kind = forms.ChoiceField(choices=ClauseKind.choices, initial=ClauseKind.GENERAL)
    level = forms.TypedChoiceField(
        choices=[(0, "Clause"), (1, "Sub-clause")], coerce=int, initial=0
    )


class LibraryClauseForm(forms.Form):
    template = forms.ModelChoiceField(
        queryset=ClauseTemplate.objects.all(), to_field_name="slug", label="From the library"
    )
    position = forms.IntegerField(min_value=1, required=False, help_text="At the end if empty.")

    def __init__(self, *args: Any, templates: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        template_field = self.fields["template"]
        assert isinstance(template_field, forms.ModelChoiceField)
        template_field.queryset = templates


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=1000)


class NoteForm(forms.Form):
    note = forms.CharField(max_length=500, required=False)
