"""A consortium's risk register and its operationalization plan.

Both start from the consortium's partnership model (``consortia.planning_data``): the risks
the founding guide names for it and the milestones that take it from founding to operation,
due within the guide's time to operationalize. The steering committee then keeps them.

Foreign keys to other models are given by label, not imported: this module is imported at
the bottom of ``consortia.models``, and those models must not be imported back from here.
The register and the plan belong to their consortium and go with it (CASCADE): a
consortium can only be deleted before it ever had a member, so nothing refers to them yet.
"""

from __future__ import annotations

import datetime

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

SCALE_MIN, SCALE_MAX = 1, 5


class Risk(models.Model):
    """A risk to the partnership: how likely (1 to 5), how bad (1 to 5), who owns it and what is
    done about it. ``from_model`` marks the risks seeded from the partnership model."""

    class Category(models.TextChoices):
        LEGAL = "legal", _("Legal and IP")
        GOVERNANCE = "governance", _("Governance")
        SECURITY = "security", _("Security")
        PRIVACY = "privacy", _("Privacy")
        OPERATIONAL = "operational", _("Operational")
        FINANCIAL = "financial", _("Financial")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        MITIGATED = "mitigated", _("Mitigated")
        ACCEPTED = "accepted", _("Accepted")
        CLOSED = "closed", _("Closed")

    consortium = models.ForeignKey(
        "consortia.Consortium", on_delete=models.CASCADE, related_name="risks"
    )
    key = models.SlugField(
        max_length=64,
        blank=True,
        help_text="For a risk seeded from the partnership model: which one (seeding is "
        "idempotent on it). Empty for risks the committee adds.",
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=16, choices=Category.choices)
    likelihood = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(SCALE_MIN), MaxValueValidator(SCALE_MAX)],
        help_text="1 rare, 2 unlikely, 3 possible, 4 likely, 5 almost certain.",
    )
    impact = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(SCALE_MIN), MaxValueValidator(SCALE_MAX)],
        help_text="1 negligible, 2 minor, 3 moderate, 4 major, 5 severe.",
    )
    owner = models.ForeignKey(
        "consortia.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The member organisation that answers for the risk.",
    )
    mitigations = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    review_on = models.DateField(help_text="When the committee looks at this risk again.")
    from_model = models.BooleanField(
        default=False, help_text="Seeded from the consortium's partnership model."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["consortium", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(likelihood__gte=SCALE_MIN, likelihood__lte=SCALE_MAX),
                name="risk_likelihood_range",
                violation_error_message="Likelihood is a whole number from 1 to 5.",
            ),
            models.CheckConstraint(
                condition=Q(impact__gte=SCALE_MIN, impact__lte=SCALE_MAX),
                name="risk_impact_range",
                violation_error_message="Impact is a whole number from 1 to 5.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "mitigated", "accepted", "closed"]),
                name="risk_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    category__in=[
                        "legal",
                        "governance",
                        "security",
                        "privacy",
                        "operational",
                        "financial",
                    ]
                ),
                name="risk_category_valid",
            ),
            models.CheckConstraint(
                condition=~Q(title=""),
                name="risk_title_not_blank",
                violation_error_message="A risk needs a title.",
            ),
            models.UniqueConstraint(
                fields=["consortium", "key"],
                condition=~Q(key=""),
                name="risk_key_unique_per_consortium",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def score(self) -> int:
        """Likelihood times impact, from 1 to 25."""
        return self.likelihood * self.impact


class Milestone(models.Model):
    """A step towards operation, due ``target_months`` after the consortium was founded.

    ``due_on`` is fixed when the plan is seeded, so a later change to the guide's figures
    does not move deadlines the committee has already planned around.
    """

    consortium = models.ForeignKey(
        "consortia.Consortium", on_delete=models.CASCADE, related_name="milestones"
    )
    key = models.SlugField(max_length=64)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="What counts as done.")
    position = models.PositiveSmallIntegerField()
    target_months = models.PositiveSmallIntegerField(
        help_text="Months after the consortium was founded."
    )
    due_on = models.DateField()
    done_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True, help_text="Evidence that the milestone is reached.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["consortium", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["consortium", "key"], name="milestone_key_unique_per_consortium"
            ),
            models.CheckConstraint(condition=~Q(key=""), name="milestone_key_not_blank"),
            models.CheckConstraint(
                condition=~Q(title=""),
                name="milestone_title_not_blank",
                violation_error_message="A milestone needs a title.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_on is not None

    def is_slipping(self, today: datetime.date) -> bool:
        """Not done, and its due date has passed."""
        return self.done_on is None and self.due_on < today

    def days_late(self, today: datetime.date) -> int:
        """Days past the due date: until today while open, until ``done_on`` once done."""
        end = self.done_on if self.done_on is not None else today
        return max(0, (end - self.due_on).days)
