"""Forms of the motion pages; the services validate what depends on the consortium."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from consortia.governance.services import available_kinds
from consortia.governance.tally import Abstentions, QuorumBasis, Rule
from consortia.models import MotionKind, Vote

RULE_LABELS = {
    Rule.SIMPLE_MAJORITY: _("Simple majority of organisations"),
    Rule.TWO_THIRDS: _("Two-thirds of organisations"),
    Rule.UNANIMITY: _("Unanimity"),
    Rule.WEIGHTED: _("Majority of voting weight"),
    # xgettext:no-python-format
    Rule.DOUBLE_MAJORITY: _("Double majority (55% of members and 65% of weight)"),
}


class MotionForm(forms.Form):
    kind = forms.ChoiceField(
        choices=lambda: [
            (kind.value, kind.label) for kind in MotionKind if kind in available_kinds()
        ]
    )
    title = forms.CharField(max_length=300)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    subject = forms.CharField(
        required=False,
        help_text=_(
            "For an admission or suspension: the membership id; for an agreement: the version id."
        ),
    )
    closes_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("UTC."),
    )
    rule = forms.ChoiceField(choices=[(rule.value, label) for rule, label in RULE_LABELS.items()])
    quorum_basis = forms.ChoiceField(
        choices=[(QuorumBasis.MEMBERS.value, "members"), (QuorumBasis.WEIGHT.value, "weight")]
    )
    quorum = forms.DecimalField(
        min_value=Decimal(0), max_value=Decimal(1), initial=Decimal("0.5"), decimal_places=4
    )
    abstentions = forms.ChoiceField(
        choices=[
            (Abstentions.EXCLUDED.value, "count for quorum only"),
            (Abstentions.AGAINST.value, "count as against"),
        ]
    )
    blocking_minority = forms.DecimalField(
        min_value=Decimal(0), max_value=Decimal(1), decimal_places=4, required=False
    )
    results_hidden = forms.BooleanField(required=False, label=_("Hide the tally until the close"))


class VoteForm(forms.Form):
    choice = forms.ChoiceField(choices=Vote.Choice.choices, widget=forms.RadioSelect)
    reason = forms.CharField(max_length=1000, required=False)
    veto = forms.BooleanField(required=False, label=_("Use our veto (needs a reason)"))
    for_organisation = forms.TypedChoiceField(coerce=int, label=_("Vote for"))

    def __init__(self, *args: Any, organisations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["for_organisation"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = organisations


class MotionSettingsForm(forms.Form):
    """The one setting that may change once voting has opened: hiding the tally."""

    results_hidden = forms.BooleanField(
        initial=True, widget=forms.HiddenInput, label=_("Hide the tally until the close")
    )


class RecuseForm(forms.Form):
    reason = forms.CharField(max_length=500, label=_("Conflict of interest"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # It shares the motion page with the vote form, whose reason would otherwise have the
        # same id: each label must point at its own field.
        kwargs.setdefault("auto_id", "id_recuse_%s")
        super().__init__(*args, **kwargs)


class ProxyForm(forms.Form):
    grantee = forms.TypedChoiceField(coerce=int, label=_("Lend our vote to"))
    motion = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label=_("For one motion (empty: a period)")
    )
    valid_until = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("UTC; empty: until revoked."),
    )

    def __init__(
        self,
        *args: Any,
        organisations: list[tuple[int, str]],
        motions: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        grantee, motion = self.fields["grantee"], self.fields["motion"]
        assert isinstance(grantee, forms.TypedChoiceField)
        assert isinstance(motion, forms.TypedChoiceField)
        grantee.choices = organisations
        motion.choices = [("", "—"), *motions]
