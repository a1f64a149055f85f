"""Shared GPU capacity: who runs it and where (providers, sites), what a consortium may use
(approvals), how much there is over time (pools, capacity changes), who paid for it
(contributions), who asked for it and got it (requests, reservations), who used it (usage),
who lent it (loans) and who is over or under their share (alerts).

"Sovereign" is never a checkbox here: it is the dated, evidenced attributes of a provider and
a site. Shares are never typed in: they follow the contribution ledger. Rows that are history
(contributions, capacity changes, usage) are corrected by new rows, not edited.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from agreements.models import Dataset
from consortia.models import Consortium, Jurisdiction, Motion, Organisation, User


class Provider(models.Model):
    """A company or public body that operates compute, and the law it answers to."""

    legal_name = models.CharField(max_length=200, unique=True)
    head_office_jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="headquartered_providers"
    )
    ultimate_parent_jurisdiction = models.ForeignKey(
        Jurisdiction,
        on_delete=models.PROTECT,
        related_name="parented_providers",
        help_text="Where the ultimate parent company is incorporated.",
    )
    registered_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["legal_name"]

    def __str__(self) -> str:
        return self.legal_name


class ExtraterritorialLaw(models.TextChoices):
    US_CLOUD_ACT = "us_cloud_act", _("US CLOUD Act")
    US_FISA_702 = "us_fisa_702", _("US FISA section 702")
    CN_NATIONAL_INTELLIGENCE = "cn_national_intelligence", _("PRC National Intelligence Law")
    OTHER = "other", _("Other")


class Exposure(models.Model):
    """A provider's exposure to a foreign law that can reach data it holds, and why."""

    class Basis(models.TextChoices):
        PARENT = "parent", _("Parent company in that jurisdiction")
        HEAD_OFFICE = "head_office", _("Head office in that jurisdiction")
        SUBSIDIARY = "subsidiary", _("Subsidiary or branch in that jurisdiction")
        CONTRACT = "contract", _("Subcontractor or contract")

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="exposures")
    law = models.CharField(max_length=32, choices=ExtraterritorialLaw.choices)
    basis = models.CharField(max_length=16, choices=Basis.choices)
    notes = models.TextField(blank=True)
    assessed_on = models.DateField()

    class Meta:
        ordering = ["provider", "law"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "law"], name="exposure_once_per_law")
        ]

    def __str__(self) -> str:
        return f"{self.get_law_display()} ({self.get_basis_display()})"


class Scheme(models.TextChoices):
    SECNUMCLOUD = "secnumcloud", _("SecNumCloud")
    GAIA_X = "gaia_x", _("Gaia-X label")
    EUCS = "eucs", _("EUCS")
    ISO_27001 = "iso_27001", _("ISO/IEC 27001")
    C5 = "c5", _("BSI C5")
    OTHER = "other", _("Other")


class Certification(models.Model):
    """A certificate or label held by a provider (or by one of its sites), with its validity."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="certifications")
    site = models.ForeignKey(
        "Site",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certifications",
        help_text="Leave empty when the certificate covers the whole provider.",
    )
    scheme = models.CharField(max_length=16, choices=Scheme.choices)
    level = models.CharField(max_length=60, blank=True, help_text="e.g. Gaia-X Level 2, EUCS High")
    valid_from = models.DateField()
    valid_until = models.DateField()
    evidence = models.CharField(
        max_length=300, help_text="Certificate number or where the evidence is kept."
    )

    class Meta:
        ordering = ["provider", "scheme", "-valid_until"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gt=F("valid_from")), name="certification_valid_period"
            )
        ]

    def __str__(self) -> str:
        level = f" {self.level}" if self.level else ""
        return f"{self.get_scheme_display()}{level} until {self.valid_until}"

    def in_force(self, on: datetime.date) -> bool:
        return self.valid_from <= on < self.valid_until


class Site(models.Model):
    """A data centre of a provider: where data and compute sit, and from where it is run."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="sites")
    name = models.CharField(max_length=200)
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        on_delete=models.PROTECT,
        related_name="sites",
        help_text="Where the data and the compute physically are.",
    )
    administered_from = models.ManyToManyField(
        Jurisdiction,
        related_name="administered_sites",
        help_text="Every jurisdiction from which people can administer the site.",
    )
    air_gapped = models.BooleanField(default=False)
    federation_name = models.SlugField(
        blank=True,
        help_text="The participant (collaborator) name the site uses in federated-learning "
        "frameworks; a slug of the site's name when blank.",
    )
    federation_public_key = models.TextField(
        blank=True,
        help_text="The public key a Flower node at this site authenticates with (ECDSA, "
        "OpenSSH or PEM text).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["provider", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "name"], name="site_name_unique_per_provider"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.provider})"


class Approval(models.Model):
    """A consortium's decision that it may use a provider, or one site, from a date, perhaps
    until a date and under conditions. A site is usable while both it and its provider are
    approved."""

    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="compute_approvals"
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="approvals"
    )
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="approvals"
    )
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    conditions = models.TextField(blank=True)
    approved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    motion = models.ForeignKey(
        Motion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["consortium", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(provider__isnull=False, site__isnull=True)
                | Q(provider__isnull=True, site__isnull=False),
                name="approval_of_provider_or_site",
                violation_error_message="An approval is of a provider or of a site.",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="approval_valid_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider or self.site} approved from {self.valid_from}"

    def in_force(self, on: datetime.date) -> bool:
        return (
            self.revoked_at is None
            and self.valid_from <= on
            and (self.valid_until is None or on < self.valid_until)
        )


class GPUType(models.TextChoices):
    H100 = "H100", _("NVIDIA H100")
    H200 = "H200", _("NVIDIA H200")
    B200 = "B200", _("NVIDIA B200")
    GB200 = "GB200", _("NVIDIA GB200")
    A100 = "A100", _("NVIDIA A100")
    L40S = "L40S", _("NVIDIA L40S")
    MI300X = "MI300X", _("AMD MI300X")
    MI325X = "MI325X", _("AMD MI325X")


class Pool(models.Model):
    """GPUs of one type that a consortium shares, at one or more of its approved sites."""

    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="pools")
    name = models.CharField(max_length=200)
    gpu_type = models.CharField(max_length=8, choices=GPUType.choices)
    sites = models.ManyToManyField(Site, related_name="pools")
    board_reserve = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.05"),
        help_text="Share of capacity the capacity board keeps for urgent work (0 to 0.5).",
    )
    gpu_hour_value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("2.50"),
        help_text="What one contributed GPU-hour counts for, in the pool's currency.",
    )
    currency = models.CharField(max_length=3, default="EUR")
    half_life_days = models.PositiveSmallIntegerField(
        default=14, help_text="Usage counts half as much after this many days."
    )
    vote_above_gpu_hours = models.DecimalField(
        max_digits=12,
        decimal_places=1,
        default=Decimal("50000"),
        help_text="Requests larger than this go to a steering-committee vote.",
    )
    overuse_multiple = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.50"),
        help_text="Alert when a member's usage exceeds its share by this multiple.",
    )
    starvation_fraction = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.25"),
        help_text="Alert when a member waiting for capacity uses less than this part of its share.",
    )
    longest_reservation = models.DurationField(
        default=datetime.timedelta(0),
        editable=False,
        help_text="The longest reservation ever held in the pool: how far back a check looks.",
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["consortium", "name"]
        constraints = [
            models.UniqueConstraint(fields=["consortium", "name"], name="pool_name_unique"),
            models.CheckConstraint(
                condition=Q(board_reserve__gte=0, board_reserve__lte=Decimal("0.5")),
                name="pool_board_reserve_range",
            ),
            models.CheckConstraint(condition=Q(gpu_hour_value__gt=0), name="pool_gpu_hour_value"),
            models.CheckConstraint(condition=Q(half_life_days__gt=0), name="pool_half_life"),
            models.CheckConstraint(
                condition=Q(gpu_type__in=GPUType.values), name="pool_gpu_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.gpu_type})"


class CapacityChange(models.Model):
    """From ``effective_at`` a site of the pool has ``gpus`` GPUs (until the next change).
    Capacity over time is this ledger: new racks raise it, maintenance lowers and restores."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="capacity_changes")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    effective_at = models.DateTimeField()
    gpus = models.PositiveIntegerField()
    reason = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pool", "site", "effective_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "site", "effective_at"], name="capacity_change_once_per_instant"
            )
        ]

    def __str__(self) -> str:
        return f"{self.gpus} GPUs at {self.site} from {self.effective_at:%Y-%m-%d %H:%M}"


class Contribution(models.Model):
    """Money or GPU-hours a member puts into a pool. Its value sets the member's share."""

    class Kind(models.TextChoices):
        CAPITAL = "capital", _("Capital")
        IN_KIND = "in_kind", _("In kind (GPU-hours)")

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="contributions")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    amount = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text="Money in the pool's currency, or GPU-hours; negative to correct an entry.",
    )
    value = models.DecimalField(
        max_digits=16, decimal_places=2, help_text="What the contribution counts for."
    )
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Where in-kind GPU-hours are provided.",
    )
    contributed_on = models.DateField()
    reference = models.CharField(max_length=200, blank=True)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pool", "contributed_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="contribution_not_zero"),
            models.CheckConstraint(
                condition=Q(kind="capital") | Q(site__isnull=False),
                name="contribution_in_kind_has_site",
                violation_error_message="In-kind GPU-hours are provided at a site.",
            ),
        ]
        indexes = [models.Index(fields=["pool", "contributed_on"], name="contribution_pool_day")]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.amount} ({self.get_kind_display()})"


class AllocationRequest(models.Model):
    """A member asking for GPUs of a pool over a time window, for a purpose."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Waiting for the board")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        AWAITING_VOTE = "awaiting_vote", _("Waiting for the steering committee's vote")
        APPROVED = "approved", _("Approved")
        PARTLY_APPROVED = "partly_approved", _("Partly approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    OPEN = (Status.SUBMITTED, Status.CHANGES_REQUESTED, Status.AWAITING_VOTE)

    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="allocation_requests"
    )
    number = models.PositiveIntegerField()
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="requests")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    gpus = models.PositiveIntegerField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    purpose = models.TextField()
    datasets = models.ManyToManyField(Dataset, blank=True, related_name="allocation_requests")
    sites = models.ManyToManyField(Site, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    granted_gpus = models.PositiveIntegerField(
        null=True, blank=True, help_text="What the board approved (or put to the vote)."
    )
    granted_starts_at = models.DateTimeField(null=True, blank=True)
    granted_ends_at = models.DateTimeField(null=True, blank=True)
    from_reserve = models.BooleanField(
        default=False, help_text="Granted from the board's reserve, for urgent work."
    )
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    motion = models.ForeignKey(
        Motion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["consortium", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["consortium", "number"], name="allocation_request_number_unique"
            ),
            models.CheckConstraint(condition=Q(gpus__gt=0), name="allocation_request_gpus"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="allocation_request_window"
            ),
        ]
        indexes = [models.Index(fields=["pool", "status"], name="allocation_request_queue")]

    def __str__(self) -> str:
        return (
            f"Request {self.number}: {self.gpus} {self.pool.gpu_type} GPUs for {self.organisation}"
        )

    @property
    def gpu_hours(self) -> Decimal:
        return gpu_hours(self.gpus, self.starts_at, self.ends_at)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def granted_gpu_hours(self) -> Decimal | None:
        if self.granted_gpus is None or not self.granted_starts_at or not self.granted_ends_at:
            return None
        return gpu_hours(self.granted_gpus, self.granted_starts_at, self.granted_ends_at)


# No request (and so no reservation) spans more than this: it bounds how far back the
# overbooking check looks for reservations still running in a window.
LONGEST_RESERVATION = datetime.timedelta(days=366)


class Reservation(models.Model):
    """GPUs of a pool at one site held for a member over an interval. The sum of active
    reservations at a site never exceeds its capacity at any instant (the pool is locked
    while one is added, and capacity cannot shrink under them)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RELEASED = "released", _("Released")

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="reservations")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(
        AllocationRequest, on_delete=models.PROTECT, related_name="reservations"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    gpus = models.PositiveIntegerField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pool", "starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(gpus__gt=0), name="reservation_gpus"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at"))
                & Q(ends_at__lte=F("starts_at") + LONGEST_RESERVATION),
                name="reservation_window",
            ),
        ]
        indexes = [
            models.Index(
                fields=["pool", "site", "starts_at", "ends_at"],
                name="reservation_overlap",
                condition=Q(status="active"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.gpus} GPUs at {self.site} from {self.starts_at:%Y-%m-%d} to {self.ends_at:%Y-%m-%d}"

    @property
    def gpu_hours(self) -> Decimal:
        return gpu_hours(self.gpus, self.starts_at, self.ends_at)


class UsageRecord(models.Model):
    """GPU-hours a member used in one pool at one site on one day, as the site reported it.
    A re-sent report replaces the row (one per member, pool, site and day)."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="usage")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    gpu_hours = models.DecimalField(max_digits=10, decimal_places=2)
    reported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pool", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "organisation", "site", "day"], name="usage_once_per_day"
            ),
            models.CheckConstraint(condition=Q(gpu_hours__gte=0), name="usage_not_negative"),
        ]
        indexes = [models.Index(fields=["pool", "day"], name="usage_pool_day")]

    def __str__(self) -> str:
        return f"{self.organisation} {self.day}: {self.gpu_hours} GPU-h at {self.site}"


class Loan(models.Model):
    """A member lending part of its entitlement to another for a period."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="loans")
    lender = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    borrower = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    gpu_hours = models.DecimalField(max_digits=12, decimal_places=1)
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="The first day the loan no longer runs.")
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pool", "-starts_on"]
        constraints = [
            models.CheckConstraint(condition=Q(gpu_hours__gt=0), name="loan_positive"),
            models.CheckConstraint(condition=Q(ends_on__gt=F("starts_on")), name="loan_period"),
            models.CheckConstraint(
                condition=~Q(lender=F("borrower")), name="loan_between_two_members"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lender} lends {self.gpu_hours} GPU-h to {self.borrower}"

    def days_in(self, start: datetime.date, end: datetime.date) -> int:
        return max(0, (min(end, self.ends_on) - max(start, self.starts_on)).days)


class FairShareAlert(models.Model):
    """A member using far more than its share, or starved far below it, while it lasts."""

    class Kind(models.TextChoices):
        OVERUSE = "overuse", _("Using more than its share")
        STARVED = "starved", _("Starved below its share")

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="alerts")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    ratio = models.DecimalField(
        max_digits=10, decimal_places=3, help_text="Usage over share when raised."
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "organisation", "kind"],
                condition=Q(cleared_at__isnull=True),
                name="fair_share_alert_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.get_kind_display()} ({self.ratio} times its share)"


def gpu_hours(gpus: int, starts_at: datetime.datetime, ends_at: datetime.datetime) -> Decimal:
    hours = Decimal((ends_at - starts_at).total_seconds()) / Decimal(3600)
    return (gpus * hours).quantize(Decimal("0.1"))


# The compliance engine's models live in their own package; named here so Django finds them.
from compute.compliance.models import Decision as Decision  # noqa: E402
from compute.compliance.models import Finding as Finding  # noqa: E402
from compute.compliance.models import Job as Job  # noqa: E402
from compute.compliance.models import TransferBasis as TransferBasis  # noqa: E402
