"""What each partnership model starts its risk register and plan with, as plain data.

No models are imported here: the data migration that seeds existing consortia uses these
with the historical models, and ``planning_services.seed_for`` with the current ones.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

JOINT_DEVELOPMENT = "joint_development"
FEDERATED_LEARNING = "federated_learning"
INFRASTRUCTURE_POOL = "infrastructure_pool"

# A seeded risk is looked at again a quarter after the consortium was founded.
FIRST_REVIEW_MONTHS = 3


@dataclass(frozen=True)
class RiskTemplate:
    key: str
    title: str
    category: str
    likelihood: int
    impact: int
    description: str
    mitigations: str


@dataclass(frozen=True)
class MilestoneTemplate:
    key: str
    title: str
    description: str


IP_DISPUTES = RiskTemplate(
    key="ip-disputes",
    title="IP disputes",
    category="legal",
    likelihood=3,
    impact=4,
    description=(
        "Members disagree over who owns jointly developed models, weights and code, or how "
        "revenue from them is shared, and development stalls while they argue."
    ),
    mitigations=(
        "Register every contributed asset (datasets, code, pre-trained weights) before it "
        "is used, so background IP is on record.\n"
        "Settle foreground IP ownership and revenue sharing in the consortium agreement "
        "before development starts; no work on shared models without a signed version.\n"
        "Name an escalation path in the agreement: the steering committee, then mediation, "
        "then arbitration seated in the home jurisdiction."
    ),
)
SLOW_DECISIONS = RiskTemplate(
    key="slow-decision-making",
    title="Slow decision-making",
    category="governance",
    likelihood=4,
    impact=3,
    description=(
        "Formal approvals by a steering committee of many members take longer than the "
        "development work they gate, and the consortium misses its window."
    ),
    mitigations=(
        "Decide by motion with a closing date, so that a decision cannot wait for a "
        "meeting.\n"
        "Use weighted or double-majority rules for routine matters and keep unanimity for "
        "the charter.\n"
        "Delegate technical choices to the technical leads and let absent members lend "
        "their vote by proxy."
    ),
)
MODEL_POISONING = RiskTemplate(
    key="model-poisoning",
    title="Model poisoning",
    category="security",
    likelihood=3,
    impact=5,
    description=(
        "A participant, or an attacker inside one, sends crafted model updates that "
        "degrade the shared model or plant a backdoor in it."
    ),
    mitigations=(
        "Check each participant's update against a held-out validation set before it is "
        "aggregated, and use robust aggregation (coordinate-wise median or trimmed mean).\n"
        "Sign every update and keep a record of who contributed what to each round.\n"
        "Suspend a participant's updates pending review when they fail the checks."
    ),
)
INFERENCE_ATTACKS = RiskTemplate(
    key="inference-attacks",
    title="Inference attacks on shared models",
    category="privacy",
    likelihood=3,
    impact=4,
    description=(
        "Someone with access to the shared model or to individual updates reconstructs "
        "training records or learns whether a person's data was used, although the raw "
        "data never left its owner."
    ),
    mitigations=(
        "Use secure aggregation, so that no single participant's update is visible.\n"
        "Add differential-privacy noise to updates, with a privacy budget agreed in the "
        "data-usage terms.\n"
        "Run membership-inference tests on every model before it is released beyond the "
        "consortium."
    ),
)
CAPACITY_CONFLICT = RiskTemplate(
    key="misaligned-capacity-needs",
    title="Misaligned capacity needs leading to conflict",
    category="operational",
    likelihood=4,
    impact=4,
    description=(
        "Co-investors need the shared GPU and cloud capacity at the same time, or in "
        "different shapes than were bought, and disputes over allocation erode the pool."
    ),
    mitigations=(
        "Agree an allocation policy before purchase: shares in proportion to contribution, "
        "reserved and burstable capacity, and what happens to unused hours.\n"
        "Publish each member's usage against its share every month.\n"
        "Let the board settle contested requests by motion and review the capacity plan "
        "every quarter."
    ),
)

RISKS: dict[str, tuple[RiskTemplate, ...]] = {
    JOINT_DEVELOPMENT: (IP_DISPUTES, SLOW_DECISIONS),
    FEDERATED_LEARNING: (MODEL_POISONING, INFERENCE_ATTACKS),
    INFRASTRUCTURE_POOL: (CAPACITY_CONFLICT,),
}

LEGAL_FRAMEWORK = MilestoneTemplate(
    key="legal-framework-signed",
    title="Legal framework signed",
    description="The consortium agreement (and, where needed, its data-usage terms) is "
    "executed by every founding member.",
)
MEMBERS_ADMITTED = MilestoneTemplate(
    key="members-admitted",
    title="Members admitted",
    description="The organisations the partnership needs are active members.",
)
INFRASTRUCTURE_APPROVED = MilestoneTemplate(
    key="infrastructure-approved",
    title="Infrastructure approved",
    description="The providers and sites that will hold the consortium's data and compute "
    "are approved by the steering committee.",
)
FIRST_DATA_SHARED = MilestoneTemplate(
    key="first-data-shared",
    title="First data shared",
    description="The first dataset is made available to the consortium under agreed terms.",
)
FIRST_ALLOCATION = MilestoneTemplate(
    key="first-allocation",
    title="First allocation",
    description="The first capacity allocation is approved and in use by a member.",
)
OPERATIONAL = MilestoneTemplate(
    key="operational",
    title="Operational",
    description="The consortium runs its work as planned and has moved to operational status.",
)

MILESTONES: dict[str, tuple[MilestoneTemplate, ...]] = {
    JOINT_DEVELOPMENT: (
        LEGAL_FRAMEWORK,
        MEMBERS_ADMITTED,
        INFRASTRUCTURE_APPROVED,
        FIRST_DATA_SHARED,
        OPERATIONAL,
    ),
    FEDERATED_LEARNING: (
        LEGAL_FRAMEWORK,
        MEMBERS_ADMITTED,
        INFRASTRUCTURE_APPROVED,
        FIRST_DATA_SHARED,
        OPERATIONAL,
    ),
    INFRASTRUCTURE_POOL: (
        LEGAL_FRAMEWORK,
        MEMBERS_ADMITTED,
        INFRASTRUCTURE_APPROVED,
        FIRST_ALLOCATION,
        OPERATIONAL,
    ),
}
# A model the guide does not name (added later as data) still gets a plan.
DEFAULT_MILESTONES = MILESTONES[JOINT_DEVELOPMENT]


def milestone_targets(min_months: int, max_months: int, count: int) -> list[int]:
    """``count`` months spread evenly over the guide's range, first at its start and last
    at its end (rounded half up): 6 to 12 months and five milestones give 6, 8, 9, 11, 12."""
    assert 0 <= min_months <= max_months, (min_months, max_months)
    assert count >= 1
    if count == 1:
        return [max_months]
    span = max_months - min_months
    steps = count - 1
    return [min_months + (2 * index * span + steps) // (2 * steps) for index in range(count)]


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later, or the month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class PlannedMilestone:
    template: MilestoneTemplate
    position: int
    target_months: int
    due_on: datetime.date


def planned_milestones(
    model_code: str, min_months: int, max_months: int, founded_on: datetime.date
) -> list[PlannedMilestone]:
    """The milestones a consortium of this model starts with, and when each is due."""
    templates = MILESTONES.get(model_code, DEFAULT_MILESTONES)
    targets = milestone_targets(min_months, max_months, len(templates))
    return [
        PlannedMilestone(template, position, target, add_months(founded_on, target))
        for position, (template, target) in enumerate(zip(templates, targets, strict=True), 1)
    ]


def planned_risks(model_code: str) -> tuple[RiskTemplate, ...]:
    return RISKS.get(model_code, ())
