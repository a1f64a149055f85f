"""Forms of the risk register and plan pages; the services validate what depends on the
consortium (owners must be members, dates must have happened)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from consortia.models import Organisation
from consortia.planning import SCALE_MAX, SCALE_MIN, Risk

LIKELIHOOD_CHOICES = [
    (1, "1: rare"),
    (2, "2: unlikely"),
    (3, "3: possible"),
    (4, "4: likely"),
    (5, "5: almost certain"),
]
IMPACT_CHOICES = [
    (1, "1: negligible"),
    (2, "2: minor"),
    (3, "3: moderate"),
    (4, "4: major"),
    (5, "5: severe"),
]


def _scale_field(label: str, choices: list[tuple[int, str]]) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=choices,
        coerce=int,
        help_text=f"From {SCALE_MIN} to {SCALE_MAX}.",
    )


class _OwnerMixin(forms.Form):
    owner = forms.TypedChoiceField(
        coerce=int, empty_value=None, required=False, help_text="An active member organisation."
    )

    def set_owners(self, owners: list[Organisation]) -> None:
        field = self.fields["owner"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "No owner yet"), *((owner.pk, owner.name) for owner in owners)]


class RiskForm(_OwnerMixin):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    category = forms.ChoiceField(choices=Risk.Category.choices)
    likelihood = _scale_field("Likelihood", LIKELIHOOD_CHOICES)
    impact = _scale_field("Impact", IMPACT_CHOICES)
    mitigations = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    review_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Next review; a quarter from today if left empty.",
    )
    field_order = [
        "title",
        "description",
        "category",
        "likelihood",
        "impact",
        "owner",
        "mitigations",
        "review_on",
    ]

    def __init__(self, *args: Any, owners: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_owners(owners)


class RiskUpdateForm(_OwnerMixin):
    likelihood = _scale_field("Likelihood", LIKELIHOOD_CHOICES)
    impact = _scale_field("Impact", IMPACT_CHOICES)
    status = forms.ChoiceField(choices=Risk.Status.choices)
    mitigations = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    review_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    field_order = ["likelihood", "impact", "status", "owner", "mitigations", "review_on"]

    def __init__(
        self, *args: Any, owners: list[Organisation], risk: Risk | None = None, **kwargs: Any
    ) -> None:
        if risk is not None and not args and "data" not in kwargs:
            kwargs["initial"] = {
                "likelihood": risk.likelihood,
                "impact": risk.impact,
                "status": risk.status,
                "owner": risk.owner_id or "",
                "mitigations": risk.mitigations,
                "review_on": risk.review_on,
            }
        # Each risk's form on the register page needs its own element ids.
        if risk is not None:
            kwargs.setdefault("auto_id", f"id_risk{risk.pk}_%s")
        super().__init__(*args, **kwargs)
        self.set_owners(owners)


class MilestoneCompleteForm(forms.Form):
    done_on = forms.DateField(
        label="Reached on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Today if left empty.",
    )
    notes = forms.CharField(
        label="Evidence",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5000,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"done_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class MilestoneReopenForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, label="Why")
