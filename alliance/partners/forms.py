from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliance.partners import selectors
from alliance.partners.catalogue import SCOPES
from alliance.partners.services import ClientTerms
from consortia.models import Consortium, Organisation


class ClientForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text=_("What the client is, e.g. “Partner portal”.")
    )
    consortia = forms.ModelMultipleChoiceField(
        queryset=Consortium.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The client sees and does nothing outside these."),
    )
    scopes = forms.MultipleChoiceField(
        choices=[(scope, f"{scope} — {label}") for scope, label in SCOPES.items()],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Scopes narrow: the client also needs the rights its roles give."),
    )
    allowed_networks = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Allowed networks"),
        help_text=_("One address or CIDR block per line (e.g. 192.0.2.0/24). Empty: any address."),
    )
    expires_on = forms.DateField(
        label=_("Expires on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        consortia = self.fields["consortia"]
        assert isinstance(consortia, forms.ModelMultipleChoiceField)
        consortia.queryset = selectors.consortia_open_to(organisation)
        if not self.is_bound and "expires_on" not in self.initial:
            self.initial["expires_on"] = (timezone.now() + timedelta(days=365)).date()

    def terms(self) -> ClientTerms:
        data = self.cleaned_data
        return ClientTerms(
            name=data["name"],
            consortium_ids=frozenset(consortium.pk for consortium in data["consortia"]),
            scopes=frozenset(data["scopes"]),
            allowed_networks=tuple(
                line.strip() for line in data["allowed_networks"].splitlines() if line.strip()
            ),
            expires_at=timezone.make_aware(datetime.combine(data["expires_on"], time.max)),
        )
