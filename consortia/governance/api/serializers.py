"""Shapes of the motions API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from consortia.governance.tally import Abstentions, QuorumBasis, Rule
from consortia.models import MotionKind, Vote


class MotionInput(serializers.Serializer[Any]):
    consortium = serializers.IntegerField(min_value=1)
    kind = serializers.ChoiceField(choices=MotionKind.choices)
    title = serializers.CharField(max_length=300)
    text = serializers.CharField(required=False, allow_blank=True, default="")
    subject = serializers.CharField(required=False, allow_blank=True, default="")
    closes_at = serializers.DateTimeField()
    rule = serializers.ChoiceField(choices=[(rule.value, rule.value) for rule in Rule])
    quorum_basis = serializers.ChoiceField(
        choices=[(basis.value, basis.value) for basis in QuorumBasis], default="members"
    )
    quorum = serializers.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.5"))
    abstentions = serializers.ChoiceField(
        choices=[(policy.value, policy.value) for policy in Abstentions], default="excluded"
    )
    blocking_minority = serializers.DecimalField(
        max_digits=5, decimal_places=4, required=False, allow_null=True, default=None
    )
    results_hidden = serializers.BooleanField(default=False)


class MotionUpdateInput(serializers.Serializer[Any]):
    results_hidden = serializers.BooleanField(
        required=False,
        help_text="Once voting has opened (when the motion is proposed) a setting may only "
        "become stricter: true hides the tally until the close. Any other field, or false on "
        "a motion that hides its tally, is refused with 400 naming the field.",
    )


class VoteInput(serializers.Serializer[Any]):
    choice = serializers.ChoiceField(choices=Vote.Choice.choices)
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    veto = serializers.BooleanField(default=False)
    for_organisation = serializers.IntegerField(required=False, allow_null=True, default=None)


class RecusalInput(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500)


class ProxyInput(serializers.Serializer[Any]):
    consortium = serializers.IntegerField(min_value=1)
    grantee = serializers.IntegerField(min_value=1)
    motion = serializers.IntegerField(required=False, allow_null=True, default=None)
    valid_until = serializers.DateTimeField(required=False, allow_null=True, default=None)


class VoterOut(serializers.Serializer[Any]):
    organisation = serializers.IntegerField(source="organisation_id")
    name = serializers.CharField(source="organisation.name")
    weight = serializers.DecimalField(max_digits=9, decimal_places=4)
    veto_right = serializers.BooleanField()
    recused = serializers.BooleanField()
    recusal_reason = serializers.CharField()


class VoteOut(serializers.Serializer[Any]):
    organisation = serializers.IntegerField(source="organisation_id")
    cast_by = serializers.CharField(source="cast_by.username")
    cast_by_organisation = serializers.IntegerField(source="cast_by_organisation_id")
    choice = serializers.CharField()
    veto = serializers.BooleanField()
    reason = serializers.CharField()
    cast_at = serializers.DateTimeField()
    superseded = serializers.BooleanField()


class TallyOut(serializers.Serializer[Any]):
    outcome = serializers.CharField()
    reason = serializers.CharField()
    final = serializers.BooleanField()
    steps = serializers.ListField(child=serializers.CharField())
    quorum_met = serializers.BooleanField()
    members_for = serializers.IntegerField()
    members_against = serializers.IntegerField()
    members_abstain = serializers.IntegerField()
    weight_for = serializers.DecimalField(max_digits=12, decimal_places=4)
    weight_against = serializers.DecimalField(max_digits=12, decimal_places=4)
    weight_abstain = serializers.DecimalField(max_digits=12, decimal_places=4)


class MotionOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    consortium = serializers.IntegerField(source="consortium_id")
    number = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    text = serializers.CharField()
    subject_type = serializers.CharField()
    subject_id = serializers.CharField()
    subject_display = serializers.CharField()
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    rule = serializers.CharField()
    quorum_basis = serializers.CharField()
    quorum = serializers.DecimalField(max_digits=5, decimal_places=4)
    abstentions = serializers.CharField()
    blocking_minority = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True)
    results_hidden = serializers.BooleanField()
    status = serializers.CharField()
    outcome_reason = serializers.CharField()
    effect_error = serializers.CharField()


class MotionDetailOut(MotionOut):
    voters = VoterOut(many=True)
    tally = TallyOut(allow_null=True)
    votes = VoteOut(many=True, source="history")


class ProxyOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    consortium = serializers.IntegerField(source="consortium_id")
    grantor = serializers.IntegerField(source="grantor_id")
    grantee = serializers.IntegerField(source="grantee_id")
    motion = serializers.IntegerField(source="motion_id", allow_null=True)
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
