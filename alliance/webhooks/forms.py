"""Browser input shapes for webhooks; the services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from alliance.webhooks import events


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("URL"),
        max_length=2000,
        help_text=_("Where the messages are POSTed: an https:// address."),
    )
    description = forms.CharField(max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        choices=events.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only these are sent; each message says its type."),
    )


class RotateForm(forms.Form):
    overlap_hours = forms.IntegerField(
        min_value=0,
        max_value=168,
        initial=settings.WEBHOOK_SECRET_ROTATION_OVERLAP_HOURS,
        label=_("Keep the old secret signing for (hours)"),
        help_text=_("Messages carry both signatures meanwhile; 0 if the old secret leaked."),
    )


class DisableForm(forms.Form):
    reason = forms.CharField(max_length=300, help_text=_("Shown on the endpoint's page."))


class DestinationForm(forms.Form):
    host = forms.CharField(
        max_length=253,
        help_text=_(
            "Host name or IP address exactly as in the endpoints' URLs, e.g. hooks.partner.example."
        ),
    )
    port = forms.IntegerField(
        min_value=1, max_value=65535, required=False, help_text=_("Empty for any port.")
    )
    note = forms.CharField(max_length=300, required=False, help_text=_("Whose it is, and why."))
