"""Browser input shapes for shared compute. Choices are limited to what the user may pick
(the consortium's members, datasets and approved sites, the pool's own sites); the services
still decide what is allowed."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from agreements.models import Dataset
from compute.allocations import Decision
from compute.models import (
    Contribution,
    Exposure,
    ExtraterritorialLaw,
    GPUType,
    Pool,
    Provider,
    Scheme,
    Site,
)
from compute.pools import SETTINGS
from consortia.forms import as_utc
from consortia.models import Jurisdiction, Organisation

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UTC_HELP = _("UTC.")


def _datetime_field(
    label: StrOrPromise, *, required: bool = True, help_text: StrOrPromise = UTC_HELP
) -> Any:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=help_text,
    )


def _date_field(label: StrOrPromise, *, required: bool = True, help_text: StrOrPromise = "") -> Any:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=help_text,
    )


def _limit(form: forms.Form, name: str, queryset: QuerySet[Any]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset


class ContributionChoiceField(forms.ModelChoiceField[Contribution]):
    def label_from_instance(self, obj: Contribution) -> str:
        return f"{obj.contributed_on} {obj.organisation}: {obj.amount} ({obj.get_kind_display()})"


class SiteChoiceField(forms.ModelChoiceField[Site]):
    def label_from_instance(self, obj: Site) -> str:
        return f"{obj.name} ({obj.provider})"


class PrefixedIds(forms.Form):
    """Forms that share a page: each one's element ids start with its own prefix (the field
    names, what a POST carries, stay plain)."""

    id_prefix = "form"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


def _utc(value: datetime.datetime | None) -> datetime.datetime | None:
    return None if value is None else as_utc(value)


class PoolSettingsForm(PrefixedIds):
    """The pool's rules that the chair may change; each stays in the range ``pools.SETTINGS``
    names."""

    id_prefix = "settings"

    board_reserve = forms.DecimalField(
        max_digits=5,
        decimal_places=4,
        help_text=_("Share of capacity the capacity board keeps for urgent work (0 to 0.5)."),
    )
    gpu_hour_value = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text=_("What one in-kind GPU-hour counts for, in the pool's currency."),
    )
    half_life_days = forms.IntegerField(
        help_text=_("Usage counts half as much after this many days.")
    )
    vote_above_gpu_hours = forms.DecimalField(
        max_digits=12,
        decimal_places=1,
        label=_("Vote above (GPU-hours)"),
        help_text=_("Larger requests go to a steering-committee vote."),
    )
    overuse_multiple = forms.DecimalField(
        max_digits=5,
        decimal_places=2,
        help_text=_("Alert when a member's usage exceeds its share by this multiple."),
    )
    starvation_fraction = forms.DecimalField(
        max_digits=5,
        decimal_places=2,
        help_text=_(
            "Alert when a member waiting for capacity uses less than this part of its share."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, (low, high) in SETTINGS.items():
            field = self.fields[name]
            assert isinstance(field, forms.DecimalField | forms.IntegerField)
            field.widget.attrs.update({"min": str(low), "max": str(high)})

    @classmethod
    def for_pool(cls, pool: Pool, data: Any = None) -> PoolSettingsForm:
        return cls(data, initial={name: getattr(pool, name) for name in SETTINGS})

    def settings(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in SETTINGS}


class PoolCreateForm(PoolSettingsForm):
    id_prefix = "pool"

    name = forms.CharField(max_length=200)
    gpu_type = forms.ChoiceField(choices=GPUType.choices, label=_("GPU type"))
    sites = forms.ModelMultipleChoiceField(
        queryset=Site.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Sites approved for this consortium today."),
    )
    initial_gpus = forms.IntegerField(
        min_value=0,
        required=False,
        label=_("GPUs at each site from now"),
        help_text=_("Recorded as each chosen site's capacity; record changes on the pool page."),
    )
    field_order = ["name", "gpu_type", "sites", "initial_gpus"]

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit(self, "sites", sites)
        self.order_fields(self.field_order)
        if not self.is_bound:
            self.initial.update({name: Pool._meta.get_field(name).default for name in SETTINGS})  # type: ignore[union-attr]


class CapacityChangeForm(PrefixedIds):
    id_prefix = "capacity"

    site = forms.ModelChoiceField(queryset=Site.objects.none())
    effective_at = _datetime_field(
        _("From"), help_text=_("UTC; the site has this many GPUs from then.")
    )
    gpus = forms.IntegerField(min_value=0, label=_("GPUs"))
    reason = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: Any, pool: Pool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit(self, "site", pool.sites.order_by("name"))

    def clean_effective_at(self) -> datetime.datetime | None:
        return _utc(self.cleaned_data["effective_at"])


class ContributionForm(PrefixedIds):
    id_prefix = "contribution"

    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), label=_("Member"))
    kind = forms.ChoiceField(choices=Contribution.Kind.choices)
    amount = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text=_("Money in the pool's currency, or GPU-hours; negative to correct an entry."),
    )
    contributed_on = _date_field(_("Contributed on"))
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), required=False, help_text=_("For in-kind GPU-hours only.")
    )
    reference = forms.CharField(max_length=200, required=False)
    corrects = ContributionChoiceField(
        queryset=Contribution.objects.none(),
        required=False,
        label=_("Corrects entry"),
        help_text=_("With a negative amount: the entry it takes back."),
    )

    def __init__(
        self,
        *args: Any,
        pool: Pool,
        organisations: QuerySet[Any],
        ledger: QuerySet[Contribution],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _limit(self, "organisation", organisations)
        _limit(self, "site", pool.sites.order_by("name"))
        _limit(self, "corrects", ledger.filter(amount__gt=0))
        if not self.is_bound:
            self.initial.setdefault("contributed_on", timezone.localdate())


class RequestForm(forms.Form):
    """Ask for GPUs of a pool: a number of GPUs over a window, or GPU-hours within it."""

    gpus = forms.IntegerField(
        min_value=1, required=False, label=_("GPUs"), help_text=_("Held for the whole window.")
    )
    gpu_hours = forms.DecimalField(
        min_value=Decimal("0.1"),
        max_digits=12,
        decimal_places=1,
        required=False,
        label=_("Or GPU-hours"),
        help_text=_("Rounded up to whole GPUs held for the window."),
    )
    starts_at = _datetime_field(_("From"))
    ends_at = _datetime_field(_("Until"))
    purpose = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the GPUs are for: the board weighs requests by purpose."),
    )
    datasets = forms.ModelMultipleChoiceField(
        queryset=Dataset.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The consortium's datasets the work uses."),
    )
    sites = forms.ModelMultipleChoiceField(
        queryset=Site.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Where the work may run; GPUs are placed at these sites in order."),
    )

    def __init__(self, *args: Any, pool: Pool, datasets: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit(self, "sites", pool.sites.order_by("name"))
        _limit(self, "datasets", datasets)
        if not self.is_bound:
            self.initial.setdefault("sites", list(pool.sites.values_list("pk", flat=True)))

    def clean_starts_at(self) -> datetime.datetime | None:
        return _utc(self.cleaned_data["starts_at"])

    def clean_ends_at(self) -> datetime.datetime | None:
        return _utc(self.cleaned_data["ends_at"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("gpus") is None) == (data.get("gpu_hours") is None) and not (
            self.errors.get("gpus") or self.errors.get("gpu_hours")
        ):
            self.add_error("gpus", "Ask for a number of GPUs or a number of GPU-hours, not both.")
        return data

    @staticmethod
    def initial_from(request: Any) -> dict[str, Any]:
        return {
            "gpus": request.gpus,
            "starts_at": request.starts_at,
            "ends_at": request.ends_at,
            "purpose": request.purpose,
            "sites": [site.pk for site in request.sites.all()],
            "datasets": [dataset.pk for dataset in request.datasets.all()],
        }


class DecisionForm(PrefixedIds):
    id_prefix = "decision"

    decision = forms.ChoiceField(
        choices=[
            (Decision.APPROVE, _("Approve (all, or fewer GPUs or a shorter window below)")),
            (Decision.REQUEST_CHANGES, _("Ask for changes")),
            (Decision.REJECT, _("Reject")),
        ],
        widget=forms.RadioSelect,
    )
    gpus = forms.IntegerField(
        min_value=1, required=False, label=_("GPUs granted"), help_text=_("Empty: all asked for.")
    )
    starts_at = _datetime_field(
        _("Granted from"), required=False, help_text=_("UTC; empty: as asked.")
    )
    ends_at = _datetime_field(
        _("Granted until"), required=False, help_text=_("UTC; empty: as asked.")
    )
    from_reserve = forms.BooleanField(
        required=False, label=_("From the board's reserve (urgent work)")
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text=_("Needed to reject or ask for changes; the member reads it."),
    )
    vote_closes_at = _datetime_field(
        _("Vote closes"),
        required=False,
        help_text=_("UTC; only for approvals large enough to go to a vote (default in 7 days)."),
    )

    def clean_starts_at(self) -> datetime.datetime | None:
        return _utc(self.cleaned_data["starts_at"])

    def clean_ends_at(self) -> datetime.datetime | None:
        return _utc(self.cleaned_data["ends_at"])

    def clean_vote_closes_at(self) -> datetime.datetime | None:
        return _utc(self.cleaned_data["vote_closes_at"])


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=1000)


class LoanForm(PrefixedIds):
    id_prefix = "loan"

    borrower = forms.ModelChoiceField(queryset=Organisation.objects.none())
    gpu_hours = forms.DecimalField(min_value=Decimal("0.1"), max_digits=12, decimal_places=1)
    starts_on = _date_field(_("From"))
    ends_on = _date_field(_("Until"), help_text=_("The first day the loan no longer runs."))
    note = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: Any, organisations: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit(self, "borrower", organisations)


class UsageUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Usage CSV"),
        help_text=_(
            "Header organisation,site,day,gpu_hours; organisations and sites by id or "
            "exact name; days as YYYY-MM-DD."
        ),
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("Upload at most 10 MB at a time; split the file."))
        try:
            return str(upload.read().decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise forms.ValidationError(_("Save the file as UTF-8 text (CSV).")) from None


class StatementForm(forms.Form):
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), label=_("Member"))
    period = forms.CharField(
        max_length=10, help_text=_("A month (2026-11) or a quarter (2026-Q4).")
    )

    def __init__(self, *args: Any, organisations: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit(self, "organisation", organisations)


class ProviderForm(forms.Form):
    legal_name = forms.CharField(max_length=200)
    head_office_jurisdiction = forms.ModelChoiceField(queryset=Jurisdiction.objects.none())
    ultimate_parent_jurisdiction = forms.ModelChoiceField(
        queryset=Jurisdiction.objects.none(),
        help_text=_("Where the ultimate parent company is incorporated."),
    )

    def __init__(self, *args: Any, jurisdictions: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit(self, "head_office_jurisdiction", jurisdictions)
        _limit(self, "ultimate_parent_jurisdiction", jurisdictions)


class SiteForm(PrefixedIds):
    id_prefix = "site"

    name = forms.CharField(max_length=200)
    jurisdiction = forms.ModelChoiceField(
        queryset=Jurisdiction.objects.none(),
        help_text=_("The country where data and GPUs physically are."),
    )
    administered_from = forms.ModelMultipleChoiceField(
        queryset=Jurisdiction.objects.none(),
        help_text=_("Every jurisdiction from which people can administer the site."),
    )
    air_gapped = forms.BooleanField(required=False)

    def __init__(
        self, *args: Any, countries: QuerySet[Any], jurisdictions: QuerySet[Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _limit(self, "jurisdiction", countries)
        _limit(self, "administered_from", jurisdictions)


class CertificationForm(PrefixedIds):
    id_prefix = "certification"

    scheme = forms.ChoiceField(choices=Scheme.choices)
    level = forms.CharField(max_length=60, required=False)
    valid_from = _date_field(_("Valid from"))
    valid_until = _date_field(_("Valid until"))
    evidence = forms.CharField(
        max_length=300, help_text=_("Certificate number or where the evidence is kept.")
    )
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), required=False, help_text=_("Empty: the whole provider.")
    )

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit(self, "site", sites)


class ExposureForm(PrefixedIds):
    id_prefix = "exposure"

    law = forms.ChoiceField(choices=ExtraterritorialLaw.choices)
    basis = forms.ChoiceField(choices=Exposure.Basis.choices)
    assessed_on = _date_field(_("Assessed on"))
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ApprovalForm(PrefixedIds):
    """Approve one provider (all its sites) or one site; exactly one of the two."""

    id_prefix = "approval"

    provider = forms.ModelChoiceField(queryset=Provider.objects.none(), required=False)
    site = SiteChoiceField(queryset=Site.objects.none(), required=False)
    valid_from = _date_field(_("From"))
    valid_until = _date_field(_("Until"), required=False, help_text=_("Empty: until revoked."))
    conditions = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(
        self, *args: Any, providers: QuerySet[Any], sites: QuerySet[Site], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _limit(self, "provider", providers)
        _limit(self, "site", sites)
        if not self.is_bound:
            self.initial.setdefault("valid_from", timezone.localdate())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("provider") is None) == (data.get("site") is None):
            raise forms.ValidationError(_("Approve a provider or a site, one at a time."))
        return data
