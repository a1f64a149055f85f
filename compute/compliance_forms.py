"""Browser input shape of the compliance page: the "what if" form, a job described in full but
never stored as a Job. Choices are limited to what the user may pick (the consortium's
datasets and models, the directory's sites); the services and the engine decide the rest."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet

from agreements.models import Dataset, IPAsset
from agreements.terms import ACTIONS, PURPOSES
from compute.compliance.models import Movement
from compute.forms import PrefixedIds, SiteChoiceField
from compute.models import Site
from consortia.forms import as_utc
from consortia.models import Jurisdiction


def _datetime_field(label: str, *, required: bool = True, help_text: str = "UTC.") -> Any:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=help_text,
    )


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


class SiteMultipleChoiceField(forms.ModelMultipleChoiceField[Site]):
    def label_from_instance(self, obj: Site) -> str:
        return f"{obj.name} ({obj.provider}, {obj.jurisdiction_id})"


class WhatIfForm(PrefixedIds):
    """A job to check: which data and model, where, why, when, and where outputs go."""

    id_prefix = "whatif"

    name = forms.CharField(max_length=200, required=False, help_text="For the log (optional).")
    datasets = forms.ModelMultipleChoiceField(
        queryset=Dataset.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="The consortium's datasets the job uses.",
    )
    model = forms.ModelChoiceField(
        queryset=IPAsset.objects.none(),
        required=False,
        help_text="The model the job starts from, if any: it carries its training data's terms.",
    )
    sites = SiteMultipleChoiceField(
        queryset=Site.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Where the job runs.",
    )
    purpose = forms.ChoiceField(choices=[(key, _label(key)) for key in PURPOSES])
    action = forms.ChoiceField(choices=[(key, _label(key)) for key in ACTIONS])
    movement = forms.ChoiceField(choices=Movement.choices)
    output_jurisdiction = forms.ModelChoiceField(
        queryset=Jurisdiction.objects.none(),
        required=False,
        help_text="Where the outputs go; or choose an output site.",
    )
    output_site = SiteChoiceField(queryset=Site.objects.none(), required=False)
    starts_at = _datetime_field("From")
    ends_at = _datetime_field("Until")
    aggregation_site = SiteChoiceField(
        queryset=Site.objects.none(),
        required=False,
        help_text="Federated jobs: where the updates are aggregated.",
    )
    secure_aggregation = forms.BooleanField(required=False, label="Secure aggregation")
    dp_epsilon = forms.FloatField(
        required=False,
        min_value=0.000001,
        label="Differential-privacy budget (ε)",
        help_text="Federated jobs on personal data.",
    )
    at = _datetime_field(
        "Evaluate for", required=False, help_text="UTC; empty for now (the rules in force now)."
    )

    def __init__(
        self,
        *args: Any,
        datasets: QuerySet[Any],
        models: QuerySet[IPAsset],
        sites: QuerySet[Site],
        jurisdictions: QuerySet[Jurisdiction],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for name, queryset in (
            ("datasets", datasets),
            ("model", models),
            ("sites", sites),
            ("output_jurisdiction", jurisdictions),
            ("output_site", sites),
            ("aggregation_site", sites),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = queryset

    def clean_starts_at(self) -> datetime.datetime | None:
        return _utc(self.cleaned_data["starts_at"])

    def clean_ends_at(self) -> datetime.datetime | None:
        return _utc(self.cleaned_data["ends_at"])

    def clean_at(self) -> datetime.datetime | None:
        return _utc(self.cleaned_data["at"])

    def spec(self) -> dict[str, Any]:
        """The job's fields, as the compliance services take them."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "datasets": list(data["datasets"]),
            "model": data["model"],
            "sites": list(data["sites"]),
            "purpose": data["purpose"],
            "action": data["action"],
            "movement": data["movement"],
            "output_jurisdiction": data["output_jurisdiction"],
            "output_site": data["output_site"],
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "aggregation_site": data["aggregation_site"],
            "secure_aggregation": data["secure_aggregation"],
            "dp_epsilon": data["dp_epsilon"],
        }


def _utc(value: datetime.datetime | None) -> datetime.datetime | None:
    return None if value is None else as_utc(value)
