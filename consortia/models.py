"""The consortium domain: territories, legal entities, partnerships and who holds which role.

Invariants live in ``Meta.constraints`` so that the database refuses what the services refuse.
Foreign keys use PROTECT throughout: history refers to these rows, and removing them is a
decision a service takes (and explains), never a cascade.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from consortia.querysets import (
    ConsortiumQuerySet,
    JurisdictionQuerySet,
    MembershipQuerySet,
    RoleAssignmentQuerySet,
)


class Jurisdiction(models.Model):
    """A territory that residency rules are written against: an ISO 3166-1 country or a bloc.

    A bloc (EU, EEA, GCC) has dated members, so "was Britain in the EU on this day?" has an
    answer; a country can be in several blocs.
    """

    class Kind(models.TextChoices):
        COUNTRY = "country", _("Country")
        BLOC = "bloc", _("Bloc")

    code = models.CharField(
        primary_key=True,
        max_length=8,
        help_text="ISO 3166-1 alpha-2 code for a country; a short upper-case code for a bloc.",
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=Kind.choices)

    objects = JurisdictionQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["country", "bloc"]), name="jurisdiction_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(kind="country") | Q(Exact(Length("code"), 2)),
                name="jurisdiction_country_code_two_letters",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class JurisdictionMembership(models.Model):
    """A country's membership of a bloc from ``joined_on`` until the day before ``left_on``."""

    bloc = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="member_links")
    member = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="bloc_links")
    joined_on = models.DateField()
    left_on = models.DateField(
        null=True, blank=True, help_text="First day on which the country is no longer a member."
    )

    class Meta:
        ordering = ["bloc", "member", "joined_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["bloc", "member", "joined_on"], name="jurisdiction_membership_unique"
            ),
            models.CheckConstraint(
                condition=~Q(bloc=models.F("member")), name="jurisdiction_membership_not_self"
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gt=models.F("joined_on")),
                name="jurisdiction_membership_left_after_joined",
                violation_error_message="A country must leave a bloc after it joined.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.bloc_id} from {self.joined_on}"

    def is_current(self, on: datetime.date) -> bool:
        return self.joined_on <= on and (self.left_on is None or on < self.left_on)


class PartnershipModel(models.Model):
    """One of the founding guide's three partnership models, with its characteristics as data.

    A consortium's model sets defaults (governance, agreement kinds, risks to watch), never
    hard limits.
    """

    class Complexity(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    code = models.SlugField(primary_key=True, max_length=32)
    name = models.CharField(max_length=100, unique=True)
    objective = models.TextField()
    legal_framework_complexity = models.CharField(max_length=8, choices=Complexity.choices)
    legal_framework = models.TextField(help_text="What the legal framework has to cover.")
    data_movement = models.TextField()
    ip_ownership = models.TextField()
    governance = models.TextField()
    governance_overhead = models.CharField(max_length=8, choices=Complexity.choices)
    time_to_operationalize_min_months = models.PositiveSmallIntegerField()
    time_to_operationalize_max_months = models.PositiveSmallIntegerField()
    best_for = models.TextField()
    key_risk = models.TextField()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    time_to_operationalize_min_months__lte=models.F(
                        "time_to_operationalize_max_months"
                    )
                ),
                name="partnership_model_time_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def time_to_operationalize(self) -> str:
        return (
            f"{self.time_to_operationalize_min_months} to "
            f"{self.time_to_operationalize_max_months} months"
        )


class Organisation(models.Model):
    """A legal entity that can join consortia: a company, a research institution or a public body."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        RESEARCH = "research", _("Research institution")
        PUBLIC_BODY = "public_body", _("Public body")

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    home_jurisdiction = models.ForeignKey(
        Jurisdiction,
        on_delete=models.PROTECT,
        related_name="organisations",
        limit_choices_to={"kind": Jurisdiction.Kind.COUNTRY},
    )
    registration_id = models.CharField(
        max_length=64, help_text="Company or public-body registration number in its home country."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["home_jurisdiction", "registration_id"],
                name="organisation_registration_unique_per_jurisdiction",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["company", "research", "public_body"]),
                name="organisation_kind_valid",
            ),
            models.CheckConstraint(
                condition=~Q(registration_id=""),
                name="organisation_registration_id_not_blank",
                violation_error_message="Give the organisation's registration number.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AllianceUserManager(UserManager["User"]):
    def get_queryset(self) -> models.QuerySet[User]:
        # Every request that loads its user (sessions) also needs the organisation: for the
        # access policy and for the audit trail's frozen display strings.
        return super().get_queryset().select_related("organisation")


class User(AbstractUser):
    """A person. Everyone but the deployment's operators belongs to exactly one organisation."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
    )
    is_organisation_admin = models.BooleanField(
        default=False, help_text="May edit the organisation's record and manage its credentials."
    )

    objects: ClassVar[AllianceUserManager] = AllianceUserManager()

    # Set on a partner client's own account when its token authenticates a request
    # (alliance.partners.authentication); people keep these defaults.
    acting_client: Any = None
    client_scopes: frozenset[str] | None = None
    consortium_limit: Any = None

    class Meta:
        verbose_name = "user"
        verbose_name_plural = "users"
        constraints = [
            models.CheckConstraint(
                condition=Q(organisation__isnull=False) | Q(is_staff=True) | Q(is_superuser=True),
                name="user_belongs_to_organisation_unless_operator",
            ),
            models.CheckConstraint(
                condition=Q(is_organisation_admin=False) | Q(organisation__isnull=False),
                name="user_organisation_admin_has_organisation",
            ),
        ]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class Consortium(models.Model):
    """A partnership bound to a home jurisdiction, run under one partnership model."""

    class Status(models.TextChoices):
        FORMING = "forming", _("Forming")
        OPERATIONAL = "operational", _("Operational")
        DISSOLVING = "dissolving", _("Dissolving")
        DISSOLVED = "dissolved", _("Dissolved")

    name = models.CharField(max_length=200, unique=True)
    partnership_model = models.ForeignKey(
        PartnershipModel, on_delete=models.PROTECT, related_name="consortia"
    )
    home_jurisdiction = models.ForeignKey(
        Jurisdiction,
        on_delete=models.PROTECT,
        related_name="consortia",
        help_text="The territory the consortium's data and rights are bound to.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.FORMING)
    charter = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConsortiumQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "consortia"
        permissions = [
            ("manage_membership", "Can invite, admit, suspend and remove member organisations"),
            ("manage_roles", "Can assign and revoke roles"),
            ("view_audit_log", "Can read the whole audit chain and export it"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["forming", "operational", "dissolving", "dissolved"]),
                name="consortium_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(name=""),
                name="consortium_name_not_blank",
                violation_error_message="A consortium needs a name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """An organisation's place in a consortium: invited, active, suspended or removed."""

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        REMOVED = "removed", _("Removed")

    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.INVITED)
    voting_weight = models.DecimalField(max_digits=9, decimal_places=4, default=Decimal(1))
    is_founding = models.BooleanField(default=False)
    invited_at = models.DateTimeField(auto_now_add=True)
    joined_on = models.DateField(null=True, blank=True)
    left_on = models.DateField(null=True, blank=True)
    invitation_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["consortium", "organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["consortium", "organisation"], name="membership_unique_per_consortium"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["invited", "active", "suspended", "removed"]),
                name="membership_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(voting_weight__gte=0),
                name="membership_voting_weight_not_negative",
                violation_error_message="A voting weight cannot be negative.",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["active", "suspended"]) | Q(joined_on__isnull=False),
                name="membership_admitted_has_joined_on",
                violation_error_message="An admitted member needs the date it joined.",
            ),
            models.CheckConstraint(
                condition=~Q(status="removed") | Q(left_on__isnull=False),
                name="membership_removed_has_left_on",
                violation_error_message="A removed member needs the date it left.",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True)
                | Q(joined_on__isnull=True)
                | Q(left_on__gte=models.F("joined_on")),
                name="membership_left_not_before_joined",
                violation_error_message="An organisation cannot leave before it joined.",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "status"], name="membership_org_status")]

    def __str__(self) -> str:
        return f"{self.organisation} in {self.consortium}"


class Role(models.TextChoices):
    """What a person does for a consortium. Observers and auditors read; the chair runs it."""

    CHAIR = "chair", _("Chair")
    STEERING_MEMBER = "steering_member", _("Steering-committee member")
    LEGAL = "legal", _("Legal")
    TECHNICAL = "technical", _("Technical")
    CAPACITY_BOARD = "capacity_board", _("Capacity board")
    AUDITOR = "auditor", _("Auditor")
    OBSERVER = "observer", _("Observer")


class RoleAssignment(models.Model):
    """A person holding a role in a consortium, on behalf of their (member) organisation."""

    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="role_assignments"
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="role_assignments")
    role = models.CharField(max_length=24, choices=Role.choices)
    assigned_at = models.DateTimeField(auto_now_add=True)

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["consortium", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["consortium", "user", "role"], name="role_assignment_unique"
            ),
            models.UniqueConstraint(
                fields=["consortium"],
                condition=Q(role="chair"),
                name="role_assignment_one_chair_per_consortium",
                violation_error_message="This consortium already has a chair.",
            ),
            models.CheckConstraint(
                condition=Q(role__in=[choice.value for choice in Role]),
                name="role_assignment_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.get_role_display()} of {self.consortium}"


class ConsortiumUserObjectPermission(UserObjectPermissionBase):
    """Explicit per-user grant on one consortium (guardian, direct foreign key)."""

    content_object = models.ForeignKey(Consortium, on_delete=models.CASCADE)


class ConsortiumGroupObjectPermission(GroupObjectPermissionBase):
    """Explicit per-group grant on one consortium (guardian, direct foreign key)."""

    content_object = models.ForeignKey(Consortium, on_delete=models.CASCADE)


class MotionKind(models.TextChoices):
    ADMIT_MEMBER = "admit_member", _("Admit a member")
    SUSPEND_MEMBER = "suspend_member", _("Suspend a member")
    REMOVE_MEMBER = "remove_member", _("Remove a member")
    APPROVE_AGREEMENT = "approve_agreement", _("Approve an agreement version")
    APPROVE_ALLOCATION = "approve_allocation", _("Approve an allocation request")
    APPROVE_PROVIDER = "approve_provider", _("Approve a provider or site")
    AMEND_CHARTER = "amend_charter", _("Amend the charter")
    APPROVE_MINUTES = "approve_minutes", _("Approve meeting minutes")
    GENERAL = "general", _("General resolution")


class Motion(models.Model):
    """A decision the steering committee takes by vote. Voters are member organisations,
    snapshotted with their weights when the motion opens (``MotionVoter``); a passed motion
    carries out its effect through the owning app's handler in the closing transaction."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="motions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=24, choices=MotionKind.choices)
    title = models.CharField(max_length=300)
    text = models.TextField(blank=True)
    subject_type = models.CharField(max_length=80, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    subject_display = models.CharField(max_length=300, blank=True)
    subject_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    proposed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="motions")
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    # The voting rule; see consortia.governance.tally.RuleSpec.
    rule = models.CharField(max_length=24)
    quorum_basis = models.CharField(max_length=12, default="members")
    quorum = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.5"))
    abstentions = models.CharField(max_length=12, default="excluded")
    weighted_threshold = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.5"))
    member_threshold = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.55"))
    weight_threshold = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.65"))
    blocking_minority = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    results_hidden = models.BooleanField(
        default=False, help_text="Tallies stay hidden until the close."
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    outcome_reason = models.CharField(max_length=24, blank=True)
    tally_steps = models.JSONField(default=list, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    effect_error = models.TextField(blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["consortium", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["consortium", "number"], name="motion_number_unique"),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="motion_closes_after_opening",
                violation_error_message="A motion must close after it opens.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[choice.value for choice in MotionKind]),
                name="motion_kind_valid",
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{share}__gte": 0, f"{share}__lte": 1})
                    | Q(**{f"{share}__isnull": True}),
                    name=f"motion_{share}_is_a_share",
                )
                for share in (
                    "quorum",
                    "weighted_threshold",
                    "member_threshold",
                    "weight_threshold",
                    "blocking_minority",
                )
            ),
        ]

    def __str__(self) -> str:
        return f"Motion {self.number}: {self.title}"


class MotionVoter(models.Model):
    """An organisation entitled to vote on a motion, with its weight as of the opening."""

    motion = models.ForeignKey(Motion, on_delete=models.PROTECT, related_name="voters")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    weight = models.DecimalField(max_digits=9, decimal_places=4)
    veto_right = models.BooleanField(default=False)
    recused = models.BooleanField(default=False)
    recusal_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["motion", "organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["motion", "organisation"], name="motion_voter_once_per_organisation"
            ),
            models.CheckConstraint(
                condition=Q(recused=False) | ~Q(recusal_reason=""),
                name="motion_voter_recusal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} on {self.motion}"


class Vote(models.Model):
    """A ballot for one organisation, cast by a person of that organisation or of its proxy
    holder. Changing a vote adds a row and marks the previous one superseded: history stays."""

    class Choice(models.TextChoices):
        FOR = "for", _("For")
        AGAINST = "against", _("Against")
        ABSTAIN = "abstain", _("Abstain")

    motion = models.ForeignKey(Motion, on_delete=models.PROTECT, related_name="votes")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    cast_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="votes_cast")
    cast_by_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+"
    )
    choice = models.CharField(max_length=8, choices=Choice.choices)
    veto = models.BooleanField(default=False)
    reason = models.CharField(max_length=1000, blank=True)
    cast_at = models.DateTimeField(auto_now_add=True)
    superseded = models.BooleanField(default=False)

    class Meta:
        ordering = ["motion", "cast_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["motion", "organisation"],
                condition=Q(superseded=False),
                name="vote_one_standing_per_organisation",
            ),
            models.CheckConstraint(
                condition=Q(veto=False) | (Q(choice="against") & ~Q(reason="")),
                name="vote_veto_is_against_with_reason",
                violation_error_message="A veto is a vote against, with a reason.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} votes {self.choice} on {self.motion}"


class Proxy(models.Model):
    """An organisation lends its vote to another, for one motion or for a period."""

    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="proxies")
    grantor = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    grantee = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    motion = models.ForeignKey(
        Motion, on_delete=models.PROTECT, null=True, blank=True, related_name="proxies"
    )
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    granted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["consortium", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(grantor=models.F("grantee")),
                name="proxy_not_to_oneself",
                violation_error_message="An organisation cannot hold its own proxy.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grantor} lends its vote to {self.grantee}"


class HealthReport(models.Model):
    """One run of the partnership health check (daily, or when someone asks), kept so the
    score can be followed over time."""

    consortium = models.ForeignKey(
        Consortium, on_delete=models.CASCADE, related_name="health_reports"
    )
    ran_at = models.DateTimeField(auto_now_add=True)
    score = models.PositiveSmallIntegerField()
    findings = models.JSONField(default=list)

    class Meta:
        ordering = ["consortium", "-ran_at"]
        constraints = [
            models.CheckConstraint(condition=Q(score__lte=100), name="health_score_at_most_100")
        ]

    def __str__(self) -> str:
        return f"{self.consortium}: {self.score} on {self.ran_at:%Y-%m-%d}"


# The inbox (consortia/inbox.py), meetings (consortia/meetings.py), the risk register and the
# operationalization plan (consortia/planning.py) live in modules of their own; importing them
# registers them here.
from consortia.inbox import Notification  # noqa: E402,F401
from consortia.meetings import Meeting  # noqa: E402,F401
from consortia.planning import Milestone, Risk  # noqa: E402,F401
