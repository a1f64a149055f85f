"""Agreements: what the partners sign, version by version, clause by clause.

An agreement belongs to one consortium and moves through draft → in review → approved → out for
signature → executed → expired / terminated / superseded. Its text lives in versions, each an
ordered list of clauses; a version is edited only while it is a draft, is frozen while it is
reviewed, and never changes once executed (database triggers enforce it, migration 0002).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from consortia.models import Consortium, Jurisdiction, Organisation, PartnershipModel


class AgreementKind(models.TextChoices):
    JOINT_DEVELOPMENT = "joint_development", _("Joint development and IP")
    DATA_SHARING = "data_sharing", _("Data sharing")
    INFRASTRUCTURE = "infrastructure", _("Infrastructure co-investment")
    NDA = "nda", _("Non-disclosure")


class Agreement(models.Model):
    """A contract among member organisations of one consortium."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        APPROVED = "approved", _("Approved")
        OUT_FOR_SIGNATURE = "out_for_signature", _("Out for signature")
        EXECUTED = "executed", _("Executed")
        EXPIRED = "expired", _("Expired")
        TERMINATED = "terminated", _("Terminated")
        SUPERSEDED = "superseded", _("Superseded")

    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="agreements")
    kind = models.CharField(max_length=24, choices=AgreementKind.choices)
    title = models.CharField(max_length=300)
    governing_law = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="governed_agreements"
    )
    effective_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.DRAFT)
    requires_steering_approval = models.BooleanField(
        default=False, help_text="Approval also needs the steering committee, not only the parties."
    )
    expiry_notified_on = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AgreementKind.values), name="agreement_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "draft",
                        "in_review",
                        "approved",
                        "out_for_signature",
                        "executed",
                        "expired",
                        "terminated",
                        "superseded",
                    ]
                ),
                name="agreement_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True)
                | Q(effective_on__isnull=True)
                | Q(expires_on__gt=models.F("effective_on")),
                name="agreement_expires_after_effective",
                violation_error_message="An agreement must expire after it takes effect.",
            ),
            models.CheckConstraint(
                condition=~Q(title=""),
                name="agreement_title_not_blank",
                violation_error_message="An agreement needs a title.",
            ),
        ]
        indexes = [
            models.Index(fields=["consortium", "status"], name="agreement_consortium_status")
        ]

    def __str__(self) -> str:
        return self.title


class PartyRole(models.TextChoices):
    CONTRIBUTOR = "contributor", _("Contributor")
    LICENSOR = "licensor", _("Licensor")
    LICENSEE = "licensee", _("Licensee")
    DATA_PROVIDER = "data_provider", _("Data provider")
    DATA_RECIPIENT = "data_recipient", _("Data recipient")
    INFRASTRUCTURE_OWNER = "infrastructure_owner", _("Infrastructure owner")


class Party(models.Model):
    """A member organisation bound by the agreement, in a role, with the person who signs."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="parties")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="agreement_parties"
    )
    role = models.CharField(max_length=24, choices=PartyRole.choices)
    signatory = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="signatory_for",
    )
    signing_order = models.PositiveSmallIntegerField(default=0, help_text="0: any order.")

    class Meta:
        ordering = ["agreement", "signing_order", "organisation__name"]
        verbose_name_plural = "parties"
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "organisation", "role"], name="party_unique_role"
            ),
            models.CheckConstraint(condition=Q(role__in=PartyRole.values), name="party_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.get_role_display()})"


class AgreementVersion(models.Model):
    """One negotiation round's full text. Its content hash covers the canonical text of its
    clauses, so two versions with the same hash say exactly the same thing."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        APPROVED = "approved", _("Approved")
        OUT_FOR_SIGNATURE = "out_for_signature", _("Out for signature")
        EXECUTED = "executed", _("Executed")
        SUPERSEDED = "superseded", _("Superseded")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.DRAFT)
    based_on = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="successors"
    )
    note = models.CharField(max_length=500, blank=True, help_text="What this round changes.")
    content_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by_display = models.CharField(max_length=200, blank=True)
    frozen_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["agreement", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "number"], name="agreement_version_number_unique"
            ),
            models.UniqueConstraint(
                fields=["agreement"],
                condition=Q(status="draft"),
                name="agreement_version_one_draft",
                violation_error_message="This agreement already has a draft version.",
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1), name="agreement_version_number_positive"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | ~Q(content_hash=""),
                name="agreement_version_frozen_has_hash",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement} v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class ClauseKind(models.TextChoices):
    IP_OWNERSHIP = "ip_ownership", _("IP ownership")
    LICENCE_GRANT = "licence_grant", _("Licence grant")
    REVENUE_SHARING = "revenue_sharing", _("Revenue sharing")
    LIABILITY = "liability", _("Liability")
    CONFIDENTIALITY = "confidentiality", _("Confidentiality")
    DATA_USAGE = "data_usage", _("Data usage")
    RESIDENCY = "residency", _("Residency")
    SECURITY = "security", _("Security")
    TERMINATION = "termination", _("Termination")
    DISPUTE_RESOLUTION = "dispute_resolution", _("Dispute resolution")
    GOVERNING_LAW = "governing_law", _("Governing law")
    SERVICE_LEVELS = "service_levels", _("Service levels")
    GENERAL = "general", _("General")


class Clause(models.Model):
    """A clause of one version. ``key`` follows the clause from version to version, so a
    redline can tell a moved clause from a removed one and an added one."""

    version = models.ForeignKey(AgreementVersion, on_delete=models.CASCADE, related_name="clauses")
    key = models.UUIDField(default=uuid.uuid4)
    position = models.PositiveIntegerField()
    level = models.PositiveSmallIntegerField(
        default=0, help_text="0 for a clause, 1 for a sub-clause."
    )
    kind = models.CharField(max_length=24, choices=ClauseKind.choices, default=ClauseKind.GENERAL)
    heading = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown: paragraphs, lists, emphasis, links. No HTML.")
    terms = models.JSONField(
        null=True,
        blank=True,
        help_text="Structured data-usage terms (data usage clauses of data sharing agreements), "
        "validated by agreements.terms. Part of the clause, so frozen and hashed with it.",
    )

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="clause_position_unique"),
            models.UniqueConstraint(
                fields=["version", "key"], name="clause_key_unique_per_version"
            ),
            models.CheckConstraint(condition=Q(level__lte=1), name="clause_level_at_most_sub"),
            models.CheckConstraint(
                condition=Q(kind__in=ClauseKind.values), name="clause_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.heading


class ClauseTemplate(models.Model):
    """A reusable clause of the library. ``${name}`` placeholders (parties, consortium,
    governing_law, effective_on, jurisdiction) are filled in when the clause is inserted."""

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=24, choices=ClauseKind.choices)
    agreement_kind = models.CharField(max_length=24, choices=AgreementKind.choices, blank=True)
    partnership_model = models.ForeignKey(
        PartnershipModel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clause_templates",
    )
    body = models.TextField()
    guidance = models.TextField(blank=True, help_text="When to use it and what to negotiate.")

    class Meta:
        ordering = ["kind", "title"]

    def __str__(self) -> str:
        return self.title


class Approval(models.Model):
    """One party organisation's legal approval of a version, or the steering committee's."""

    version = models.ForeignKey(
        AgreementVersion, on_delete=models.CASCADE, related_name="approvals"
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agreement_approvals",
    )
    is_steering = models.BooleanField(default=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approvals"
    )
    approved_at = models.DateTimeField(auto_now_add=True)
    comment = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["version", "approved_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "organisation"],
                condition=Q(organisation__isnull=False),
                name="approval_one_per_party",
            ),
            models.UniqueConstraint(
                fields=["version"], condition=Q(is_steering=True), name="approval_one_steering"
            ),
            models.CheckConstraint(
                condition=Q(organisation__isnull=False, is_steering=False)
                | Q(organisation__isnull=True, is_steering=True),
                name="approval_party_or_steering",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation or 'Steering committee'} approves {self.version}"


class AgreementUserObjectPermission(UserObjectPermissionBase):
    """Explicit per-user grant on one agreement (say, outside counsel): guardian, direct FK."""

    content_object = models.ForeignKey(Agreement, on_delete=models.CASCADE)


class AgreementGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Agreement, on_delete=models.CASCADE)


class Sensitivity(models.TextChoices):
    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Internal")
    CONFIDENTIAL = "confidential", _("Confidential")
    RESTRICTED = "restricted", _("Restricted")
    SPECIAL_CATEGORY = "special_category", _("Special-category personal data")


class Dataset(models.Model):
    """A data set an organisation brings to a consortium, and where it must stay."""

    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="datasets")
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="datasets")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    sensitivity = models.CharField(max_length=24, choices=Sensitivity.choices)
    contains_personal_data = models.BooleanField(default=False)
    residency = models.ForeignKey(
        Jurisdiction,
        on_delete=models.PROTECT,
        related_name="resident_datasets",
        help_text="Where the data is and must stay: a country or a bloc.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["consortium", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["consortium", "name"], name="dataset_name_unique_per_consortium"
            ),
            models.CheckConstraint(
                condition=Q(sensitivity__in=Sensitivity.values), name="dataset_sensitivity_valid"
            ),
            models.CheckConstraint(
                condition=~Q(sensitivity="special_category") | Q(contains_personal_data=True),
                name="dataset_special_category_is_personal",
                violation_error_message="Special-category data is personal data.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class IPAssetKind(models.TextChoices):
    MODEL_WEIGHTS = "model_weights", _("Model weights")
    DATASET = "dataset", _("Dataset")
    CODE = "code", _("Code")
    DERIVED_WORK = "derived_work", _("Derived work")
    OTHER = "other", _("Other")


class IPAsset(models.Model):
    """Something the partnership owns: weights, data, code, a derived work. Its owners' shares
    total exactly 100%; it may derive from other assets and inherit their restrictions."""

    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="ip_assets")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=24, choices=IPAssetKind.choices)
    description = models.TextField(blank=True)
    governing_agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, null=True, blank=True, related_name="ip_assets"
    )
    dataset = models.ForeignKey(
        Dataset,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ip_assets",
        help_text="For an asset that is a registered data set.",
    )
    derived_from = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="derivatives"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["consortium", "name"]
        verbose_name = "IP asset"
        constraints = [
            models.UniqueConstraint(
                fields=["consortium", "name"], name="ip_asset_name_unique_per_consortium"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=IPAssetKind.values), name="ip_asset_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class IPOwnership(models.Model):
    """An organisation's share of an asset, and its share of the revenue it earns (percent)."""

    asset = models.ForeignKey(IPAsset, on_delete=models.CASCADE, related_name="ownerships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="ip_ownerships"
    )
    share = models.DecimalField(max_digits=5, decimal_places=2)
    revenue_share = models.DecimalField(max_digits=5, decimal_places=2)

    class Meta:
        ordering = ["asset", "-share"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "organisation"], name="ip_ownership_unique"),
            models.CheckConstraint(
                condition=Q(share__gt=0, share__lte=100), name="ip_ownership_share_range"
            ),
            models.CheckConstraint(
                condition=Q(revenue_share__gte=0, revenue_share__lte=100),
                name="ip_ownership_revenue_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.share}%"


class Signature(models.Model):
    """One signatory's decision on a version out for signature, with the evidence the
    certificate of completion shows. Kept even when a later decline restarts the ceremony
    (``voided``): what happened stays on record."""

    class Decision(models.TextChoices):
        SIGNED = "signed", _("Signed")
        DECLINED = "declined", _("Declined")

    version = models.ForeignKey(
        AgreementVersion, on_delete=models.PROTECT, related_name="signatures"
    )
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="signatures")
    signatory = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures"
    )
    signatory_display = models.CharField(max_length=200)
    organisation_display = models.CharField(max_length=300)
    decision = models.CharField(max_length=12, choices=Decision.choices)
    decided_at = models.DateTimeField()
    client_address = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    authentication = models.CharField(max_length=200)
    consent_text = models.TextField(blank=True)
    reason = models.CharField(max_length=1000, blank=True)
    voided = models.BooleanField(default=False)

    class Meta:
        ordering = ["version", "decided_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "party"],
                condition=Q(decision="signed", voided=False),
                name="signature_one_per_party",
                violation_error_message="This party has already signed this version.",
            ),
            models.CheckConstraint(
                condition=Q(decision__in=["signed", "declined"]), name="signature_decision_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signatory_display} {self.decision} {self.version}"


class SignedDocument(models.Model):
    """The executed PDF of a version: rendered, sealed and validated by a task keyed by the
    version's content hash. Served only once ``state`` is sealed and the bytes match
    ``sha256``, so a half-written file is never handed out."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        RENDERING = "rendering", _("Rendering and sealing")
        FAILED = "failed", _("Failed")
        SEALED = "sealed", _("Sealed")

    version = models.OneToOneField(
        AgreementVersion, on_delete=models.PROTECT, related_name="signed_document"
    )
    content_hash = models.CharField(max_length=64, unique=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    completion = models.JSONField(
        help_text="Signatures, execution time and audit chain head, frozen when the last "
        "party signed; the certificate of completion prints exactly this."
    )
    file_name = models.CharField(max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    sealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="sealed") | (~Q(sha256="") & ~Q(file_name="")),
                name="signed_document_sealed_has_file",
            )
        ]

    def __str__(self) -> str:
        return f"Executed PDF of {self.version}"


class AgreementExport(models.Model):
    """A ZIP of a consortium's executed agreements with a JSON manifest, built by a task."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="agreement_exports"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agreement_exports"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    documents_total = models.PositiveIntegerField(default=0)
    documents_written = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Agreements export {self.pk} of {self.consortium}"
