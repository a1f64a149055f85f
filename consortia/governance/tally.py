"""Count a steering-committee motion: a pure function of the rule, the voters and the ballots.

No models and no database, so the motion services, the API and the minutes can all show the
same figures and the same plain-English reasoning (``Tally.steps``).

Order of the checks, first failure wins: veto, quorum, blocking minority, threshold.

While a motion is open, ``tally`` also asks whether the remaining ballots can still change the
outcome; see ``_completions`` for why four completions are enough. That answer takes the
ballots already cast as they stand: a caller that lets an organisation change its vote before
close must close the motion as soon as ``final`` is True, or an early result can be undone.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

PASSED = "passed"
FAILED = "failed"
OPEN = "open"

NO_QUORUM = "no_quorum"
THRESHOLD_MISSED = "threshold_missed"
VETOED = "vetoed"
BLOCKED = "blocked"

_ZERO = Decimal(0)
_ONE = Decimal(1)


class Rule(enum.StrEnum):
    SIMPLE_MAJORITY = "simple_majority"  # for > against (by organisation count)
    TWO_THIRDS = "two_thirds"  # for >= 2/3 of counted votes
    UNANIMITY = "unanimity"  # every eligible (non-recused) organisation votes for
    WEIGHTED = "weighted"  # weight for > weighted_threshold x counted weight
    # share of eligible members for >= member_threshold AND share of eligible weight for >=
    # weight_threshold
    DOUBLE_MAJORITY = "double_majority"


class Choice(enum.StrEnum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


class QuorumBasis(enum.StrEnum):
    MEMBERS = "members"
    WEIGHT = "weight"


class Abstentions(enum.StrEnum):
    EXCLUDED = "excluded"  # count towards quorum but not in the threshold's denominator
    AGAINST = "against"  # count as votes against


@dataclass(frozen=True)
class RuleSpec:
    """How a motion is decided. Shares are fractions (``Decimal("0.5")`` is 50 %)."""

    rule: Rule
    quorum_basis: QuorumBasis = QuorumBasis.MEMBERS
    # Share of eligible members (or weight) that must cast a ballot of any choice; met when >=.
    quorum: Decimal = Decimal("0.5")
    abstentions: Abstentions = Abstentions.EXCLUDED
    weighted_threshold: Decimal = Decimal("0.5")
    member_threshold: Decimal = Decimal("0.55")
    weight_threshold: Decimal = Decimal("0.65")
    # Meant for DOUBLE_MAJORITY/WEIGHTED, but applied under any rule when set: the caller asked
    # for it. Fails the motion ("blocked") when weight against / eligible weight >= this.
    blocking_minority: Decimal | None = None

    def __post_init__(self) -> None:
        shares = [self.quorum, self.weighted_threshold, self.member_threshold]
        shares += [self.weight_threshold]
        if self.blocking_minority is not None:
            shares.append(self.blocking_minority)
        assert all(_ZERO <= share <= _ONE for share in shares), "shares must lie in [0, 1]"


@dataclass(frozen=True)
class Voter:
    """An organisation entitled to vote on one motion, as snapshotted when the motion opened."""

    organisation_id: int
    name: str
    weight: Decimal
    recused: bool = False  # removed from numerator AND denominator
    recusal_reason: str = ""
    # Holds a binding veto on this motion (dataset owner, founding member for charter amendments).
    veto_right: bool = False

    def __post_init__(self) -> None:
        assert self.weight >= _ZERO, "a voting weight cannot be negative"


@dataclass(frozen=True)
class Ballot:
    organisation_id: int  # whose vote this is; the caller has already resolved proxies
    choice: Choice
    veto: bool = False  # only meaningful with AGAINST from a voter with veto_right


@dataclass(frozen=True)
class Tally:
    """The result. Counts are raw choices of eligible voters as they stand: an abstention is in
    ``members_abstain`` even when the rule counts it as against."""

    outcome: str  # "passed" | "failed" | "open"
    reason: str  # "passed" | "no_quorum" | "threshold_missed" | "vetoed" | "blocked" | "open"
    final: bool  # closed, or no remaining ballot can change the outcome
    steps: tuple[str, ...]
    eligible_members: int
    eligible_weight: Decimal
    members_for: int
    members_against: int
    members_abstain: int
    weight_for: Decimal
    weight_against: Decimal
    weight_abstain: Decimal
    quorum_met: bool
    vetoed_by: tuple[str, ...]


@dataclass(frozen=True)
class _Vote:
    choice: Choice
    veto: bool  # already checked against the voter's right


@dataclass(frozen=True)
class _Counts:
    eligible_members: int
    eligible_weight: Decimal
    members: dict[Choice, int]
    weight: dict[Choice, Decimal]
    vetoed_by: tuple[str, ...]


@dataclass(frozen=True)
class _Evaluation:
    outcome: str
    reason: str
    quorum_met: bool
    counts: _Counts
    steps: tuple[str, ...]


def tally(
    spec: RuleSpec, voters: Sequence[Voter], ballots: Sequence[Ballot], *, closed: bool
) -> Tally:
    """Count ``ballots`` cast by ``voters`` under ``spec``.

    At close, voters without a ballot simply did not vote. While open, the outcome is "open"
    unless every way the remaining voters could act gives the same outcome ("decided early").
    """
    organisation_ids = [voter.organisation_id for voter in voters]
    assert len(set(organisation_ids)) == len(organisation_ids), "one Voter per organisation"

    eligible = [voter for voter in voters if not voter.recused]
    steps = [_eligibility_step(voters, eligible)]
    votes, ballot_steps = _resolve_ballots(voters, ballots)
    steps += ballot_steps

    current = _evaluate(spec, eligible, votes)
    if closed:
        steps += current.steps
        steps.append(f"Outcome: {_describe(current.outcome, current.reason)}")
        return _result(current, current.outcome, current.reason, final=True, steps=steps)

    steps.append(f"Open: {len(votes)} of {len(eligible)} eligible organisations have voted so far")
    steps += current.steps
    remaining = [voter for voter in eligible if voter.organisation_id not in votes]
    if not remaining:
        steps.append(f"Outcome: {_describe(current.outcome, current.reason)}; everyone has voted")
        return _result(current, current.outcome, current.reason, final=True, steps=steps)
    completions = [
        (label, _evaluate(spec, eligible, {**votes, **completion}))
        for label, completion in _completions(remaining)
    ]
    for label, evaluation in completions:
        steps.append(
            f"If the {len(remaining)} remaining {label}: "
            f"{_describe(evaluation.outcome, evaluation.reason)}"
        )
    outcomes = {evaluation.outcome for _, evaluation in completions}
    if len(outcomes) == 1:
        # Report the reason of the most favourable completion: if even that fails, its reason
        # is what really stands in the way (an against vote under unanimity, not a quorum that
        # the remaining voters have yet to reach).
        best = completions[0][1]
        steps.append(
            f"Outcome: {_describe(best.outcome, best.reason)}"
            "; decided early: no remaining ballot can change it"
        )
        return _result(current, best.outcome, best.reason, final=True, steps=steps)
    steps.append("Outcome: open")
    return _result(current, OPEN, OPEN, final=False, steps=steps)


def _completions(remaining: Sequence[Voter]) -> list[tuple[str, dict[int, _Vote]]]:
    """The ways the remaining voters could still act that decide whether the result is certain.

    The motion can still pass iff it passes when every remaining voter votes for, because a
    vote for never hurts passing under these rules: it adds to the cast share (quorum), does not
    add to the weight against (blocking minority), and raises every threshold measure (for >
    against, for / counted with for <= counted, for weight > t x counted weight with t < 1, for
    shares of eligible, unanimity).

    The motion can still fail iff some check can fail. Quorum is worst when nobody else votes;
    veto, blocking minority and threshold are worst when everyone else votes against, holders
    of a veto right vetoing (the one mixed completion that matters). Against is never better
    than abstaining or not voting for the threshold: it adds to the against side or leaves the
    for share unchanged. So "all against (with vetoes)" and "nobody votes" find every possible
    failure. "All abstain" is included too because it is the case people ask about.

    A remaining voter might instead recuse. That is dominated both ways: it shrinks the
    denominators, which helps less than voting for ((f + r) / n >= f / (n - r) when f + r <= n)
    and hurts less than voting against (the same inequality for the against share).
    The first completion is the most favourable one; ``tally`` relies on that.
    """
    everyone_for = {voter.organisation_id: _Vote(Choice.FOR, veto=False) for voter in remaining}
    everyone_against = {
        voter.organisation_id: _Vote(Choice.AGAINST, veto=voter.veto_right) for voter in remaining
    }
    everyone_abstains = {
        voter.organisation_id: _Vote(Choice.ABSTAIN, veto=False) for voter in remaining
    }
    against_label = "vote against"
    if any(voter.veto_right for voter in remaining):
        against_label = "vote against (veto holders vetoing)"
    return [
        ("vote for", everyone_for),
        (against_label, everyone_against),
        ("abstain", everyone_abstains),
        ("do not vote", {}),
    ]


def _resolve_ballots(
    voters: Sequence[Voter], ballots: Sequence[Ballot]
) -> tuple[dict[int, _Vote], list[str]]:
    """One vote per eligible organisation. The caller should already prevent the ballots that
    are dropped here; this is defence in depth, and each drop is reported."""
    by_id = {voter.organisation_id: voter for voter in voters}
    steps: list[str] = []
    latest: dict[int, Ballot] = {}
    given: dict[int, int] = {}
    for ballot in ballots:
        voter = by_id.get(ballot.organisation_id)
        if voter is None:
            steps.append(
                f"Ignored a ballot from organisation {ballot.organisation_id}: "
                "not a voter on this motion"
            )
            continue
        if voter.recused:
            steps.append(f"Ignored a ballot from {voter.name}: recused")
            continue
        latest[ballot.organisation_id] = ballot
        given[ballot.organisation_id] = given.get(ballot.organisation_id, 0) + 1

    votes: dict[int, _Vote] = {}
    for organisation_id, ballot in latest.items():
        voter = by_id[organisation_id]
        if given[organisation_id] > 1:
            steps.append(
                f"{voter.name} gave {given[organisation_id]} ballots: "
                f"only the last ({ballot.choice}) counts"
            )
        veto = ballot.veto
        if veto and ballot.choice != Choice.AGAINST:
            steps.append(f"{voter.name} marked a veto on a vote {ballot.choice}: veto ignored")
            veto = False
        elif veto and not voter.veto_right:
            steps.append(
                f"{voter.name} marked a veto without holding a veto right: counted as a plain "
                "against"
            )
            veto = False
        votes[organisation_id] = _Vote(ballot.choice, veto)
    return votes, steps


def _count(eligible: Sequence[Voter], votes: dict[int, _Vote]) -> _Counts:
    members = dict.fromkeys(Choice, 0)
    weight = dict.fromkeys(Choice, _ZERO)
    vetoed_by = []
    for voter in eligible:
        vote = votes.get(voter.organisation_id)
        if vote is None:
            continue
        members[vote.choice] += 1
        weight[vote.choice] += voter.weight
        if vote.veto:
            vetoed_by.append(voter.name)
    return _Counts(
        eligible_members=len(eligible),
        eligible_weight=sum((voter.weight for voter in eligible), _ZERO),
        members=members,
        weight=weight,
        vetoed_by=tuple(vetoed_by),
    )


def _evaluate(spec: RuleSpec, eligible: Sequence[Voter], votes: dict[int, _Vote]) -> _Evaluation:
    """The outcome if the motion closed with exactly these votes."""
    counts = _count(eligible, votes)
    steps: list[str] = []
    quorum_met, quorum_step = _quorum(spec, counts)
    steps.append(quorum_step)
    steps.append(_choices_step(counts))

    def done(outcome: str, reason: str) -> _Evaluation:
        return _Evaluation(outcome, reason, quorum_met, counts, tuple(steps))

    if counts.vetoed_by:
        steps.append(f"Vetoed by {', '.join(counts.vetoed_by)} (binding veto)")
        return done(FAILED, VETOED)
    if not quorum_met:
        return done(FAILED, NO_QUORUM)
    if spec.blocking_minority is not None:
        blocked, blocking_step = _blocking(spec, spec.blocking_minority, counts)
        steps.append(blocking_step)
        if blocked:
            return done(FAILED, BLOCKED)
    met, threshold_step = _threshold(spec, counts, remaining=counts.eligible_members - len(votes))
    steps.append(threshold_step)
    return done(PASSED, PASSED) if met else done(FAILED, THRESHOLD_MISSED)


def _quorum(spec: RuleSpec, counts: _Counts) -> tuple[bool, str]:
    share = f"quorum {_percent(spec.quorum)} of {spec.quorum_basis}"
    if spec.quorum_basis == QuorumBasis.MEMBERS:
        cast_members = sum(counts.members.values())
        met = _at_least(Decimal(cast_members), Decimal(counts.eligible_members), spec.quorum)
        ratio = _ratio(Decimal(cast_members), Decimal(counts.eligible_members))
        cast = f"Cast: {cast_members} of {counts.eligible_members} ({ratio})"
    else:
        cast_weight = sum(counts.weight.values(), _ZERO)
        met = _at_least(cast_weight, counts.eligible_weight, spec.quorum)
        ratio = _ratio(cast_weight, counts.eligible_weight)
        cast = f"Cast: weight {_number(cast_weight)} of {_number(counts.eligible_weight)} ({ratio})"
    return met, f"{cast}; {share}: {_met(met)}"


def _blocking(spec: RuleSpec, blocking_minority: Decimal, counts: _Counts) -> tuple[bool, str]:
    against = _against_weight(spec, counts)
    blocked = _at_least(against, counts.eligible_weight, blocking_minority)
    return blocked, (
        f"Blocking minority {_percent(blocking_minority)} of eligible weight "
        f"{_number(counts.eligible_weight)}{_abstain_note(spec)}: "
        f"weight against {_number(against)} is {_ratio(against, counts.eligible_weight)} — "
        f"{'blocked' if blocked else 'not blocked'}"
    )


def _threshold(spec: RuleSpec, counts: _Counts, *, remaining: int) -> tuple[bool, str]:
    for_members = counts.members[Choice.FOR]
    against_members = _against_members(spec, counts)
    counted = for_members + against_members
    note = _abstain_note(spec)
    if spec.rule == Rule.SIMPLE_MAJORITY:
        met = for_members > against_members
        return met, (
            f"Simple majority of {counted} counted votes{note}: {for_members} for vs "
            f"{against_members} against — {_met(met)}"
        )
    if spec.rule == Rule.TWO_THIRDS:
        # Compared in integers: Decimal(2) / 3 is rounded, and 2 of 3 must meet two-thirds.
        met = counted > 0 and 3 * for_members >= 2 * counted
        return met, (
            f"Two-thirds of {counted} counted votes needed{note}: {for_members} for is "
            f"{_ratio(Decimal(for_members), Decimal(counted))} — {_met(met)}"
        )
    if spec.rule == Rule.UNANIMITY:
        abstain = counts.members[Choice.ABSTAIN]
        everyone_cast = remaining == 0
        if spec.abstentions == Abstentions.AGAINST:
            met = counts.eligible_members > 0 and for_members == counts.eligible_members
        else:
            nobody_against = counts.members[Choice.AGAINST] == 0
            met = everyone_cast and nobody_against and for_members > 0
        return met, (
            f"Unanimity of {counts.eligible_members} eligible organisations{note}: "
            f"{for_members} for, {counts.members[Choice.AGAINST]} against, {abstain} abstain, "
            f"{remaining} did not vote — {_met(met)}"
        )
    if spec.rule == Rule.WEIGHTED:
        for_weight = counts.weight[Choice.FOR]
        counted_weight = for_weight + _against_weight(spec, counts)
        met = for_weight > spec.weighted_threshold * counted_weight
        return met, (
            f"Weighted: for weight must exceed {_percent(spec.weighted_threshold)} of counted "
            f"weight {_number(counted_weight)}{note}: for weight {_number(for_weight)} is "
            f"{_ratio(for_weight, counted_weight)} — {_met(met)}"
        )
    assert spec.rule == Rule.DOUBLE_MAJORITY, spec.rule
    for_weight = counts.weight[Choice.FOR]
    eligible_members = Decimal(counts.eligible_members)
    members_met = _at_least(Decimal(for_members), eligible_members, spec.member_threshold)
    weight_met = _at_least(for_weight, counts.eligible_weight, spec.weight_threshold)
    return members_met and weight_met, (
        "Double majority of all eligible (abstaining or not voting counts as not for): "
        f"members {for_members} of {counts.eligible_members} for is "
        f"{_ratio(Decimal(for_members), eligible_members)} (needed "
        f"{_percent(spec.member_threshold)}) — {_met(members_met)}; weight "
        f"{_number(for_weight)} of {_number(counts.eligible_weight)} for is "
        f"{_ratio(for_weight, counts.eligible_weight)} (needed "
        f"{_percent(spec.weight_threshold)}) — {_met(weight_met)}"
    )


def _against_members(spec: RuleSpec, counts: _Counts) -> int:
    against = counts.members[Choice.AGAINST]
    if spec.abstentions == Abstentions.AGAINST:
        against += counts.members[Choice.ABSTAIN]
    return against


def _against_weight(spec: RuleSpec, counts: _Counts) -> Decimal:
    against = counts.weight[Choice.AGAINST]
    if spec.abstentions == Abstentions.AGAINST:
        against += counts.weight[Choice.ABSTAIN]
    return against


def _at_least(numerator: Decimal, denominator: Decimal, share: Decimal) -> bool:
    # Multiplying rather than dividing keeps the comparison exact; an empty base (nobody
    # eligible, or only zero weights) meets nothing, or a motion could pass with no voters.
    return denominator > _ZERO and numerator >= share * denominator


def _eligibility_step(voters: Sequence[Voter], eligible: Sequence[Voter]) -> str:
    weight = sum((voter.weight for voter in eligible), _ZERO)
    step = f"Eligible: {len(eligible)} organisations, weight {_number(weight)}"
    recused = [voter for voter in voters if voter.recused]
    if recused:
        names = "; ".join(
            f"{voter.name} — {voter.recusal_reason}" if voter.recusal_reason else voter.name
            for voter in recused
        )
        step += f" ({len(recused)} recused: {names})"
    return step


def _choices_step(counts: _Counts) -> str:
    parts = [
        f"{label} {counts.members[choice]} (weight {_number(counts.weight[choice])})"
        for label, choice in (
            ("For", Choice.FOR),
            ("against", Choice.AGAINST),
            ("abstain", Choice.ABSTAIN),
        )
    ]
    return ", ".join(parts)


def _abstain_note(spec: RuleSpec) -> str:
    if spec.abstentions == Abstentions.AGAINST:
        return " (abstentions count as against)"
    return ""


def _describe(outcome: str, reason: str) -> str:
    if outcome == FAILED:
        return f"failed ({reason.replace('_', ' ')})"
    return outcome


def _met(met: bool) -> str:
    return "met" if met else "not met"


def _ratio(numerator: Decimal, denominator: Decimal) -> str:
    if denominator == _ZERO:
        return "n/a"
    return _percent(numerator / denominator)


def _percent(share: Decimal) -> str:
    """One decimal, dropping a trailing ".0" (75%, 66.7%)."""
    return f"{_number((share * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP))}%"


def _number(value: Decimal) -> str:
    # normalize() drops trailing zeros but may switch to exponent form (1E+2); "f" undoes that.
    return f"{value.normalize():f}"


def _result(
    current: _Evaluation, outcome: str, reason: str, *, final: bool, steps: list[str]
) -> Tally:
    counts = current.counts
    return Tally(
        outcome=outcome,
        reason=reason,
        final=final,
        steps=tuple(steps),
        eligible_members=counts.eligible_members,
        eligible_weight=counts.eligible_weight,
        members_for=counts.members[Choice.FOR],
        members_against=counts.members[Choice.AGAINST],
        members_abstain=counts.members[Choice.ABSTAIN],
        weight_for=counts.weight[Choice.FOR],
        weight_against=counts.weight[Choice.AGAINST],
        weight_abstain=counts.weight[Choice.ABSTAIN],
        quorum_met=current.quorum_met,
        vetoed_by=counts.vetoed_by,
    )
