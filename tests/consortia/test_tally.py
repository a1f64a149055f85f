"""The tally engine, table-driven: each case's figures are worked out by hand beside it.

Shorthand: voters "A:40 B:30r C:20v" are Org A weight 40, Org B weight 30 recused (conflict of
interest), Org C weight 20 with a veto right; ballots "A+ B- C= D-!" are for, against, abstain,
and against with a veto. Organisation ids follow the letters (A=1, ... Z=26; Z is never a voter).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from consortia.governance.tally import (
    Abstentions,
    Ballot,
    Choice,
    QuorumBasis,
    Rule,
    RuleSpec,
    Tally,
    Voter,
    tally,
)

FOUR_EQUAL = "A:25 B:25 C:25 D:25"
FIVE_EQUAL = "A:20 B:20 C:20 D:20 E:20"
ONE_BIG = "A:70 B:10 C:10 D:10"
# Double-majority weights: A alone is a 35 % bloc, B-E together are 65 %.
FIVE_UNEQUAL = "A:35 B:30 C:15 D:10 E:10"

CHOICES = {"+": Choice.FOR, "-": Choice.AGAINST, "=": Choice.ABSTAIN}


def org_id(letter: str) -> int:
    return ord(letter) - ord("A") + 1


def parse_voters(text: str) -> list[Voter]:
    voters = []
    for item in text.split():
        letter, rest = item.split(":")
        weight = rest.rstrip("rv")
        recused = "r" in rest[len(weight) :]
        voters.append(
            Voter(
                organisation_id=org_id(letter),
                name=f"Org {letter}",
                weight=Decimal(weight),
                recused=recused,
                recusal_reason="conflict of interest" if recused else "",
                veto_right="v" in rest[len(weight) :],
            )
        )
    return voters


def parse_ballots(text: str) -> list[Ballot]:
    return [
        Ballot(org_id(item[0]), CHOICES[item[1]], veto=item.endswith("!")) for item in text.split()
    ]


def run(spec: RuleSpec, voters: str, ballots: str, *, closed: bool = True) -> Tally:
    return tally(spec, parse_voters(voters), parse_ballots(ballots), closed=closed)


@dataclass(frozen=True)
class Case:
    spec: RuleSpec
    voters: str
    ballots: str
    closed: bool
    expected: tuple[str, str, bool]  # outcome, reason, final


SIMPLE = RuleSpec(Rule.SIMPLE_MAJORITY)
TWO_THIRDS = RuleSpec(Rule.TWO_THIRDS)
TWO_THIRDS_ABSTAIN_AGAINST = RuleSpec(Rule.TWO_THIRDS, abstentions=Abstentions.AGAINST)
UNANIMITY = RuleSpec(Rule.UNANIMITY)
UNANIMITY_ABSTAIN_AGAINST = RuleSpec(Rule.UNANIMITY, abstentions=Abstentions.AGAINST)
WEIGHTED = RuleSpec(Rule.WEIGHTED)
WEIGHTED_BLOCKING = RuleSpec(Rule.WEIGHTED, blocking_minority=Decimal("0.3"))
DOUBLE = RuleSpec(Rule.DOUBLE_MAJORITY)
DOUBLE_BLOCKING = RuleSpec(Rule.DOUBLE_MAJORITY, blocking_minority=Decimal("0.35"))
SIMPLE_QUORUM_BY_WEIGHT = RuleSpec(Rule.SIMPLE_MAJORITY, quorum_basis=QuorumBasis.WEIGHT)

PASSED = ("passed", "passed", True)
THRESHOLD_MISSED = ("failed", "threshold_missed", True)
NO_QUORUM = ("failed", "no_quorum", True)
BLOCKED = ("failed", "blocked", True)
VETOED = ("failed", "vetoed", True)
OPEN = ("open", "open", False)

CASES = {
    # --- simple majority ---
    # 4 eligible, 3 cast = 75% >= 50% quorum; for 2 > against 1 → passed
    "simple-passes": Case(SIMPLE, FOUR_EQUAL, "A+ B+ C-", True, PASSED),
    # 3 cast = 75% quorum met; for 1 vs against 1 (abstain excluded): 1 > 1 false → failed
    "simple-tie-fails": Case(SIMPLE, FOUR_EQUAL, "A+ B- C=", True, THRESHOLD_MISSED),
    # 2 cast of 4 = 50% >= 50%, met exactly; for 2 > against 0 → passed
    "simple-quorum-met-exactly": Case(SIMPLE, FOUR_EQUAL, "A+ B+", True, PASSED),
    # --- two-thirds ---
    # 3 cast of 4 = 75%; for 2 / counted 3 = 66.7% >= 2/3 (exactly) → passed
    "two-thirds-passes-exactly": Case(TWO_THIRDS, FOUR_EQUAL, "A+ B+ C-", True, PASSED),
    # 5 of 5 cast; for 3 / counted 5 = 60% < 66.7% → failed
    "two-thirds-fails": Case(TWO_THIRDS, FIVE_EQUAL, "A+ B+ C+ D- E-", True, THRESHOLD_MISSED),
    # --- abstentions: same ballots, two treatments ---
    # EXCLUDED: counted = for 2 + against 1 = 3; 2/3 = 66.7% → passed
    "two-thirds-abstain-excluded": Case(TWO_THIRDS, FOUR_EQUAL, "A+ B+ C- D=", True, PASSED),
    # AGAINST: counted = 2 + 1 + 1 abstain = 4; 2/4 = 50% < 66.7% → failed
    "two-thirds-abstain-against": Case(
        TWO_THIRDS_ABSTAIN_AGAINST, FOUR_EQUAL, "A+ B+ C- D=", True, THRESHOLD_MISSED
    ),
    # --- unanimity ---
    # all 4 eligible cast, all for → passed
    "unanimity-passes": Case(UNANIMITY, FOUR_EQUAL, "A+ B+ C+ D+", True, PASSED),
    # EXCLUDED: everyone cast, nobody against, 3 for → passed despite D abstaining
    "unanimity-abstain-excluded": Case(UNANIMITY, FOUR_EQUAL, "A+ B+ C+ D=", True, PASSED),
    # AGAINST: D's abstention is an against → failed
    "unanimity-abstain-against": Case(
        UNANIMITY_ABSTAIN_AGAINST, FOUR_EQUAL, "A+ B+ C+ D=", True, THRESHOLD_MISSED
    ),
    # 3 of 4 cast = 75% quorum met, but D did not vote at close → failed
    "unanimity-absentee-fails": Case(UNANIMITY, FOUR_EQUAL, "A+ B+ C+", True, THRESHOLD_MISSED),
    # one against among 4 → failed
    "unanimity-one-against": Case(UNANIMITY, FOUR_EQUAL, "A+ B+ C+ D-", True, THRESHOLD_MISSED),
    # --- weighted: count majority and weight majority disagree ---
    # for weight 70 > 50% x counted 100 = 50 → passed, although 1 org for vs 3 against
    "weighted-big-member-carries": Case(WEIGHTED, ONE_BIG, "A+ B- C- D-", True, PASSED),
    # for weight 30 > 50? no → failed, although 3 orgs for vs 1 against
    "weighted-many-small-fail": Case(WEIGHTED, ONE_BIG, "A- B+ C+ D+", True, THRESHOLD_MISSED),
    # same ballots by organisation count: 3 > 1 → passed
    "simple-many-small-pass": Case(SIMPLE, ONE_BIG, "A- B+ C+ D+", True, PASSED),
    # for weight 65 > 50 would pass, but against 35 / eligible 100 = 35% >= 30% → blocked
    "weighted-blocked": Case(WEIGHTED_BLOCKING, FIVE_UNEQUAL, "A- B+ C+ D+ E+", True, BLOCKED),
    # --- double majority (shares of all eligible: 5 members, weight 100) ---
    # members 4/5 = 80% >= 55%; weight 30+15+10+10 = 65/100 = 65% >= 65% (exactly) → passed
    "double-passes": Case(DOUBLE, FIVE_UNEQUAL, "A- B+ C+ D+ E+", True, PASSED),
    # members 2/5 = 40% < 55% (weight 35+30 = 65% met) → failed on members
    "double-fails-members": Case(DOUBLE, FIVE_UNEQUAL, "A+ B+ C- D- E-", True, THRESHOLD_MISSED),
    # members 3/5 = 60% met; weight 15+10+10 = 35% < 65% → failed on weight
    "double-fails-weight": Case(DOUBLE, FIVE_UNEQUAL, "A- B- C+ D+ E+", True, THRESHOLD_MISSED),
    # as double-passes, but A's 35/100 = 35% against >= 35% blocking minority → blocked
    "double-blocked": Case(DOUBLE_BLOCKING, FIVE_UNEQUAL, "A- B+ C+ D+ E+", True, BLOCKED),
    # --- recusal: out of numerator and denominator ---
    # C not recused: for 2 vs against 2 → failed
    "recusal-none-tie": Case(SIMPLE, FOUR_EQUAL, "A+ B+ C- D-", True, THRESHOLD_MISSED),
    # C recused: its ballot is ignored; 3 eligible, 3 cast; 2 > 1 → passed
    "recusal-flips-majority": Case(SIMPLE, "A:25 B:25 C:25r D:25", "A+ B+ C- D-", True, PASSED),
    # C not recused and absent: unanimity needs it → failed
    "recusal-none-unanimity": Case(UNANIMITY, FOUR_EQUAL, "A+ B+ D+", True, THRESHOLD_MISSED),
    # C recused: 3 eligible, all 3 for → passed
    "recusal-shrinks-unanimity": Case(UNANIMITY, "A:25 B:25 C:25r D:25", "A+ B+ D+", True, PASSED),
    # everyone recused: nothing eligible, no quorum can be met → failed
    "everyone-recused": Case(SIMPLE, "A:50r B:50r", "A+ B+", True, NO_QUORUM),
    # --- quorum ---
    # 1 of 4 cast = 25% < 50% → no quorum
    "no-quorum-by-members": Case(SIMPLE, FOUR_EQUAL, "A+", True, NO_QUORUM),
    # by weight: cast weight 10+10+10 = 30/100 = 30% < 50% → no quorum (3/4 members would do)
    "no-quorum-by-weight": Case(SIMPLE_QUORUM_BY_WEIGHT, ONE_BIG, "B+ C+ D+", True, NO_QUORUM),
    # --- veto ---
    # A holds a veto and uses it: failed whatever the others do
    "veto-with-right": Case(SIMPLE, "A:25v B:25 C:25 D:25", "A-! B+ C+ D+", True, VETOED),
    # the veto binds at once, before close and before quorum: 1 of 4 cast
    "veto-while-open": Case(SIMPLE, "A:25v B:25 C:25 D:25", "A-!", False, VETOED),
    # A has no veto right: a plain against; 3 for > 1 against → passed
    "veto-without-right": Case(SIMPLE, FOUR_EQUAL, "A-! B+ C+ D+", True, PASSED),
    # a veto mark on a vote for means nothing: 2 for > 1 against → passed
    "veto-mark-on-for-ignored": Case(SIMPLE, "A:25v B:25 C:25 D:25", "A+! B+ C-", True, PASSED),
    # --- early decision while open ---
    # 3 of 5 for: even if D, E vote against, 3 > 2; quorum already 60% → passed early
    "early-simple-passed": Case(SIMPLE, FIVE_EQUAL, "A+ B+ C+", False, PASSED),
    # one against: unanimity can no longer be reached → failed early
    "early-unanimity-failed": Case(UNANIMITY, FIVE_EQUAL, "A-", False, THRESHOLD_MISSED),
    # 2 for of 5: all remaining for → 5-0 passes; all against → 2 vs 3 fails → open
    "open-either-way": Case(SIMPLE, FIVE_EQUAL, "A+ B+", False, OPEN),
    # 3 for of 4 under unanimity: D may still vote against → open
    "open-unanimity-waiting": Case(UNANIMITY, FOUR_EQUAL, "A+ B+ C+", False, OPEN),
    # 3 for of 4 and worst case 3 vs 1 still passes → passed early ...
    "early-no-veto-holder-left": Case(SIMPLE, FOUR_EQUAL, "B+ C+ D+", False, PASSED),
    # ... but if the remaining A holds a veto it can still fail the motion → open
    "open-veto-holder-left": Case(SIMPLE, "A:25v B:25 C:25 D:25", "B+ C+ D+", False, OPEN),
    # 1 for of 4: quorum 25% not yet met; absentees could leave it unmet, votes could pass it
    "open-quorum-not-yet": Case(SIMPLE, FOUR_EQUAL, "A+", False, OPEN),
    # A (35) remaining: worst case members 4/5 = 80%, weight 65% → passed early
    "early-double-passed": Case(DOUBLE, FIVE_UNEQUAL, "B+ C+ D+ E+", False, PASSED),
    # A (70) against: best case for weight 30 > 50% of 100? no → failed early
    "early-weighted-failed": Case(WEIGHTED, ONE_BIG, "A-", False, THRESHOLD_MISSED),
    # all 4 voted while open: nothing remaining can change 3 > 1 → final
    "open-everyone-voted": Case(SIMPLE, FOUR_EQUAL, "A+ B+ C+ D-", False, PASSED),
    # --- ballots that should never have reached the tally ---
    # Z is not a voter: ignored; 2 of 4 cast = 50% quorum met; 1 vs 1 → failed
    "non-voter-ignored": Case(SIMPLE, FOUR_EQUAL, "A+ B- Z+", True, THRESHOLD_MISSED),
    # A's last ballot (for) replaces its first (against): 2 for vs 1 against → passed
    "duplicate-last-wins": Case(SIMPLE, FOUR_EQUAL, "A- B- C+ A+", True, PASSED),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_outcome(case: Case) -> None:
    result = run(case.spec, case.voters, case.ballots, closed=case.closed)

    assert (result.outcome, result.reason, result.final) == case.expected, result.steps


def test_counts_and_steps_simple_majority() -> None:
    result = run(SIMPLE, "A:40 B:20 C:25 D:15", "A+ B+ C- D=")

    assert result.eligible_members == 4
    assert result.eligible_weight == Decimal(100)
    assert (result.members_for, result.members_against, result.members_abstain) == (2, 1, 1)
    assert (result.weight_for, result.weight_against, result.weight_abstain) == (
        Decimal(60),
        Decimal(25),
        Decimal(15),
    )
    assert result.quorum_met
    assert result.steps == (
        "Eligible: 4 organisations, weight 100",
        "Cast: 4 of 4 (100%); quorum 50% of members: met",
        "For 2 (weight 60), against 1 (weight 25), abstain 1 (weight 15)",
        "Simple majority of 3 counted votes: 2 for vs 1 against — met",
        "Outcome: passed",
    )


def test_steps_two_thirds_with_recusal() -> None:
    # C is recused: 3 eligible, weight 75; 3 of 3 cast; for 2 / counted 3 = 66.7% → passed
    result = run(TWO_THIRDS, "A:25 B:25 C:25r D:25", "A+ B+ C+ D-")

    assert result.steps[0] == (
        "Eligible: 3 organisations, weight 75 (1 recused: Org C — conflict of interest)"
    )
    assert "Ignored a ballot from Org C: recused" in result.steps
    assert "Cast: 3 of 3 (100%); quorum 50% of members: met" in result.steps
    assert "Two-thirds of 3 counted votes needed: 2 for is 66.7% — met" in result.steps
    assert result.steps[-1] == "Outcome: passed"
    assert (result.eligible_members, result.members_for) == (3, 2)


def test_steps_quorum_by_weight() -> None:
    result = run(SIMPLE_QUORUM_BY_WEIGHT, ONE_BIG, "B+ C+ D+")

    assert "Cast: weight 30 of 100 (30%); quorum 50% of weight: not met" in result.steps
    assert result.steps[-1] == "Outcome: failed (no quorum)"
    assert not result.quorum_met


def test_steps_defence_in_depth() -> None:
    result = run(SIMPLE, "A:25v B:25 C:25 D:25", "B-! A- Z+ A+ C- D+")

    assert "Ignored a ballot from organisation 26: not a voter on this motion" in result.steps
    assert "Org A gave 2 ballots: only the last (for) counts" in result.steps
    assert (
        "Org B marked a veto without holding a veto right: counted as a plain against"
        in result.steps
    )
    assert result.vetoed_by == ()
    # for A, D = 2 vs against B, C = 2 → failed
    assert (result.outcome, result.reason) == ("failed", "threshold_missed")


def test_veto_is_reported() -> None:
    result = run(SIMPLE, "A:25v B:25 C:25 D:25", "A-! B+ C+ D+")

    assert result.vetoed_by == ("Org A",)
    assert "Vetoed by Org A (binding veto)" in result.steps
    assert result.steps[-1] == "Outcome: failed (vetoed)"


def test_steps_double_majority_and_blocking() -> None:
    passed = run(DOUBLE, FIVE_UNEQUAL, "A- B+ C+ D+ E+")
    blocked = run(DOUBLE_BLOCKING, FIVE_UNEQUAL, "A- B+ C+ D+ E+")

    assert (
        "Double majority of all eligible (abstaining or not voting counts as not for): "
        "members 4 of 5 for is 80% (needed 55%) — met; weight 65 of 100 for is 65% "
        "(needed 65%) — met"
    ) in passed.steps
    assert (
        "Blocking minority 35% of eligible weight 100: weight against 35 is 35% — blocked"
        in blocked.steps
    )
    assert blocked.steps[-1] == "Outcome: failed (blocked)"


def test_early_decision_explains_completions() -> None:
    result = run(SIMPLE, FIVE_EQUAL, "A+ B+ C+", closed=False)

    assert "Open: 3 of 5 eligible organisations have voted so far" in result.steps
    assert "If the 2 remaining vote against: passed" in result.steps
    assert "If the 2 remaining do not vote: passed" in result.steps
    assert result.steps[-1] == "Outcome: passed; decided early: no remaining ballot can change it"
    # The figures are those of the ballots cast so far.
    assert (result.members_for, result.members_against) == (3, 0)


def test_open_reports_the_diverging_completions() -> None:
    result = run(SIMPLE, FOUR_EQUAL, "A+", closed=False)

    assert "Cast: 1 of 4 (25%); quorum 50% of members: not met" in result.steps
    assert "If the 3 remaining vote for: passed" in result.steps
    assert "If the 3 remaining do not vote: failed (no quorum)" in result.steps
    assert result.steps[-1] == "Outcome: open"
    assert not result.quorum_met


def test_percentages_round_to_one_decimal() -> None:
    # 1 of 3 cast = 33.333…% → "33.3%"; weights with decimals are kept exact.
    result = run(RuleSpec(Rule.SIMPLE_MAJORITY, quorum=Decimal("0.3")), "A:33.5 B:33 C:33.5", "A+")

    assert "Cast: 1 of 3 (33.3%); quorum 30% of members: met" in result.steps
    assert result.weight_for == Decimal("33.5")
    assert result.eligible_weight == Decimal("100.0")
