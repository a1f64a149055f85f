"""Forms of the meeting pages."""

from __future__ import annotations

from typing import Any

from django import forms

from consortia import meeting_selectors
from consortia.models import Consortium, Motion, User


class MeetingForm(forms.Form):
    title = forms.CharField(max_length=300)
    held_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), help_text="UTC."
    )
    location = forms.CharField(max_length=300, required=False)
    attendees = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    agenda = forms.ModelMultipleChoiceField(
        queryset=Motion.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, consortium: Consortium, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        attendees, agenda = self.fields["attendees"], self.fields["agenda"]
        assert isinstance(attendees, forms.ModelMultipleChoiceField)
        assert isinstance(agenda, forms.ModelMultipleChoiceField)
        attendees.queryset = meeting_selectors.possible_attendees(consortium)
        agenda.queryset = meeting_selectors.agenda_candidates(consortium)


class MinutesForm(forms.Form):
    minutes = forms.CharField(widget=forms.Textarea(attrs={"rows": 12}), required=False)


class ProposeMinutesForm(forms.Form):
    closes_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="When the committee's vote on the minutes closes (UTC).",
    )
