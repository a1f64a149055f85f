"""Rows of the compliance engine: transfer bases (law as dated data), jobs, data set
placements, decisions and findings.

A decision is history: it is written once and never updated (the database refuses updates,
migration 0002), so what the engine said, on which facts and rules, stays on record.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from agreements.models import Dataset, IPAsset
from consortia.models import Consortium, Jurisdiction, Organisation

if TYPE_CHECKING:
    from compute.models import AllocationRequest


class TransferBasis(models.Model):
    """A legal basis on which personal data may move from one jurisdiction to another
    (GDPR Chapter V), valid over a period. ``consortium`` is empty for a basis that holds for
    everyone (an adequacy decision) and names the consortium for clauses it signed."""

    class Kind(models.TextChoices):
        ADEQUACY_DECISION = "adequacy_decision", "Adequacy decision"
        STANDARD_CONTRACTUAL_CLAUSES = (
            "standard_contractual_clauses",
            "Standard contractual clauses",
        )
        BINDING_CORPORATE_RULES = "binding_corporate_rules", "Binding corporate rules"
        INTRA_BLOC = "intra_bloc", "Free movement within a bloc"

    from_jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="transfer_bases_out"
    )
    to_jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="transfer_bases_in"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    consortium = models.ForeignKey(
        Consortium,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfer_bases",
        help_text="Empty when the basis holds for everyone (an adequacy decision).",
    )
    reference = models.CharField(max_length=300, help_text="The decision or contract.")
    scope_notes = models.TextField(blank=True, help_text="Who and what the basis covers.")
    valid_from = models.DateField()
    valid_until = models.DateField(
        null=True, blank=True, help_text="First day the basis no longer holds."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["from_jurisdiction", "to_jurisdiction", "-valid_from"]
        verbose_name_plural = "transfer bases"
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "adequacy_decision",
                        "standard_contractual_clauses",
                        "binding_corporate_rules",
                        "intra_bloc",
                    ]
                ),
                name="transfer_basis_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="transfer_basis_valid_period",
            ),
            models.UniqueConstraint(
                fields=["from_jurisdiction", "to_jurisdiction", "kind", "valid_from"],
                name="transfer_basis_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.from_jurisdiction_id} → {self.to_jurisdiction_id}"

    def in_force(self, on: datetime.date) -> bool:
        return self.valid_from <= on and (self.valid_until is None or on < self.valid_until)


class Movement(models.TextChoices):
    MODEL_TO_DATA = "model_to_data", "Model goes to the data"
    DATA_TO_COMPUTE = "data_to_compute", "Data goes to the compute"
    FEDERATED = "federated", "Federated"


class Job(models.Model):
    """A proposed or running piece of work on a consortium's data: what, where, why, when,
    and where its outputs go."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"

    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="jobs")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", help_text="Who asks."
    )
    name = models.CharField(max_length=200, blank=True)
    datasets = models.ManyToManyField(Dataset, related_name="jobs")
    model = models.ForeignKey(
        IPAsset, on_delete=models.PROTECT, null=True, blank=True, related_name="jobs"
    )
    sites = models.ManyToManyField("compute.Site", related_name="jobs")
    purpose = models.CharField(max_length=40)
    action = models.CharField(max_length=20)
    movement = models.CharField(max_length=16, choices=Movement.choices)
    output_jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    output_site = models.ForeignKey(
        "compute.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    aggregation_site = models.ForeignKey(
        "compute.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    secure_aggregation = models.BooleanField(default=False)
    dp_epsilon = models.FloatField(null=True, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["consortium", "-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="job_window"),
            models.CheckConstraint(
                condition=Q(movement__in=["model_to_data", "data_to_compute", "federated"]),
                name="job_movement_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["proposed", "running", "finished"]),
                name="job_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(dp_epsilon__isnull=True) | Q(dp_epsilon__gt=0),
                name="job_dp_epsilon_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"Job {self.pk}"


class Decision(models.Model):
    """What the engine decided about a job (or a what-if with no job), with every reason,
    obligation, the facts it saw and a digest of the rules it used. Append-only."""

    class Outcome(models.TextChoices):
        ALLOW = "allow", "Allow"
        DENY = "deny", "Deny"
        ALLOW_WITH_OBLIGATIONS = "allow_with_obligations", "Allow with obligations"

    # Found through the (job, decided_at) index: an index of its own would only cost every
    # decision one more insert.
    job = models.ForeignKey(
        Job,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions",
        db_index=False,
    )
    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="compliance_decisions"
    )
    outcome = models.CharField(max_length=24, choices=Outcome.choices)
    reasons = models.JSONField(default=list)
    obligations = models.JSONField(default=list)
    explain = models.JSONField(default=list, blank=True)
    input_snapshot = models.JSONField(default=dict)
    rules_digest = models.CharField(max_length=64)
    evaluated_for = models.DateTimeField(help_text="The instant the job was evaluated for.")
    decided_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-decided_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=["allow", "deny", "allow_with_obligations"]),
                name="compliance_decision_outcome_valid",
            )
        ]
        indexes = [models.Index(fields=["job", "decided_at"], name="compliance_decision_job")]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} at {self.decided_at:%Y-%m-%d %H:%M}"


class Placement(models.Model):
    """Where a copy of a data set is stored for the consortium's work, from ``since`` until the
    day before ``until``. Sweeps hold every live placement to the data set's residency and
    terms and to the site's approval, like a job."""

    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="dataset_placements"
    )
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="placements")
    site = models.ForeignKey("compute.Site", on_delete=models.PROTECT, related_name="placements")
    since = models.DateField()
    until = models.DateField(
        null=True, blank=True, help_text="First day on which the copy is no longer there."
    )
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["consortium", "dataset", "since"]
        constraints = [
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gt=F("since")),
                name="placement_window",
                violation_error_message="A copy must be removed after it was placed.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} at {self.site}"


class Finding(models.Model):
    """A rule that a live job, a granted allocation or a data set's placement breaks, found by
    a sweep: open until people acknowledge and resolve it, or until a sweep no longer finds it.
    One unresolved finding per swept item, code and subject, so a sweep run twice opens nothing
    new."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="compliance_findings"
    )
    job = models.ForeignKey(
        Job, on_delete=models.PROTECT, null=True, blank=True, related_name="findings"
    )
    allocation = models.ForeignKey(
        "compute.AllocationRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="findings",
    )
    placement = models.ForeignKey(
        Placement, on_delete=models.PROTECT, null=True, blank=True, related_name="findings"
    )
    owner = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The organisation whose job, allocation or data it is, which must act.",
    )
    key = models.CharField(
        max_length=64, help_text="SHA-256 of the swept item, the code and the subject."
    )
    code = models.CharField(max_length=40)
    severity = models.CharField(
        max_length=8,
        choices=[("critical", "Critical"), ("high", "High"), ("medium", "Medium")],
        default="high",
        help_text="From the reason code (compute.compliance.reasons.SEVERITY).",
    )
    subject = models.JSONField(default=dict)
    message = models.TextField()
    expected = models.TextField(blank=True)
    actual = models.TextField(blank=True)
    source = models.JSONField(
        null=True, blank=True, help_text="The agreement, version and clause the rule rests on."
    )
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.OPEN)
    note = models.TextField(blank=True)
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=~Q(status="resolved"),
                name="compliance_finding_one_unresolved",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "acknowledged", "resolved"]),
                name="compliance_finding_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(job__isnull=False, allocation__isnull=True, placement__isnull=True)
                | Q(job__isnull=True, allocation__isnull=False, placement__isnull=True)
                | Q(job__isnull=True, allocation__isnull=True, placement__isnull=False),
                name="compliance_finding_one_item",
            ),
        ]
        indexes = [models.Index(fields=["consortium", "status"], name="compliance_finding_queue")]

    def __str__(self) -> str:
        # Not get_status_display(), at a sixth of its cost: every finding a sweep opens is
        # named in its audit event.
        status = self.Status(self.status).label if self.status in self.Status else self.status
        return f"{self.code} on {self.subject.get('display', '')} ({status})"

    @property
    def item(self) -> Job | AllocationRequest | Placement:
        """What the sweep found breaking the rule."""
        item = self.job or self.allocation or self.placement
        assert item is not None
        return item
