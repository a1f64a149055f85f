"""Shared compute's part of the partnership health check (registered with consortia.health):
"misaligned capacity needs leading to conflict" is the key risk of a co-investment pool, so
the check looks for its early signs — pools at sites the consortium no longer approves, that
a foreign law can reach or whose certificates lapse, members far from their fair share,
requests left waiting."""

from __future__ import annotations

import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from compute import directory
from compute.models import (
    AllocationRequest,
    Approval,
    Certification,
    FairShareAlert,
    Pool,
    Site,
)
from consortia.health import Finding
from consortia.models import Consortium

CERTIFICATE_NOTICE = datetime.timedelta(days=60)
BOARD_RESPONSE = datetime.timedelta(days=7)


def _pools(consortium: Consortium) -> QuerySet[Pool]:
    return Pool.objects.filter(consortium=consortium).prefetch_related(
        Prefetch(
            "sites",
            queryset=Site.objects.select_related("provider").prefetch_related(
                "provider__exposures"
            ),
        )
    )


def pool_sites(consortium: Consortium) -> list[Finding]:
    today = timezone.localdate()
    usable = set(directory.usable_sites(consortium.pk, today).values_list("pk", flat=True))
    findings = []
    for pool in _pools(consortium):
        lapsed = [site.name for site in pool.sites.all() if site.pk not in usable]
        if lapsed:
            findings.append(
                Finding(
                    "pool_site_not_approved",
                    "high",
                    f"{pool.name} runs at sites the consortium no longer approves: "
                    f"{', '.join(lapsed)}.",
                    "Renew the approval of the site or its provider, or move the pool's "
                    "capacity elsewhere.",
                    reverse("compute:pool", args=[pool.pk]),
                )
            )
    return findings


def _covers(approval: Approval, site: Site) -> bool:
    return approval.site_id == site.pk or approval.provider_id == site.provider_id


def pool_exposures(consortium: Consortium) -> list[Finding]:
    """A pool at a site whose provider a foreign law can reach (the US CLOUD Act, say). The
    consortium may accept that knowingly: an approval in force for the site or its provider,
    recorded on or after the latest assessment and with its conditions written down, settles
    the finding."""
    today = timezone.localdate()
    assessed_approvals = [
        approval
        for approval in directory.approvals_in_force(consortium.pk, today).exclude(conditions="")
        if approval.conditions.strip()
    ]
    findings = []
    for pool in _pools(consortium):
        for site in pool.sites.all():
            exposures = list(site.provider.exposures.all())
            if not exposures:
                continue
            latest = max(exposure.assessed_on for exposure in exposures)
            if any(
                _covers(approval, site) and timezone.localdate(approval.created_at) >= latest
                for approval in assessed_approvals
            ):
                continue
            laws = ", ".join(exposure.get_law_display() for exposure in exposures)
            findings.append(
                Finding(
                    "pool_site_exposed",
                    "high",
                    f"{pool.name} runs at {site.name} of {site.provider}, which is exposed to "
                    f"{laws}.",
                    "Move the pool's capacity to a site without that exposure, or record the "
                    "legal assessment and conditions in the approval.",
                    reverse("compute:pool", args=[pool.pk]),
                )
            )
    return findings


def _renews(other: Certification, certification: Certification) -> bool:
    """Whether ``other`` covers what ``certification`` covered: the same scheme from the same
    provider, for the same site or for the whole provider."""
    return (
        other.pk != certification.pk
        and other.provider_id == certification.provider_id
        and other.scheme == certification.scheme
        and other.site_id in (certification.site_id, None)
    )


def _scope(certification: Certification) -> str:
    level = f" {certification.level}" if certification.level else ""
    site = f" for {certification.site.name}" if certification.site else ""
    return f"{certification.provider}'s {certification.get_scheme_display()}{level}{site}"


def certifications(consortium: Consortium) -> list[Finding]:
    """Certificates the pools' sites rely on that have lapsed with nothing in force in their
    place, or that lapse within the notice period with no renewal recorded to follow on."""
    today = timezone.localdate()
    horizon = today + CERTIFICATE_NOTICE
    findings = []
    for pool in _pools(consortium):
        sites = list(pool.sites.all())
        held = list(
            Certification.objects.filter(
                Q(site__in=[site.pk for site in sites])
                | Q(site__isnull=True, provider__in={site.provider_id for site in sites})
            ).select_related("provider", "site")
        )
        # The latest certificate issued so far of each provider, site scope and scheme speaks
        # for it; one issued for later can only be its renewal.
        latest: dict[tuple[int, int | None, str], Certification] = {}
        issued = [certification for certification in held if certification.valid_from <= today]
        for certification in sorted(issued, key=lambda c: c.valid_until):
            latest[(certification.provider_id, certification.site_id, certification.scheme)] = (
                certification
            )
        for certification in latest.values():
            renewals = [other for other in held if _renews(other, certification)]
            page = reverse("compute:provider", args=[certification.provider_id])
            if certification.valid_until <= today:
                if not any(other.in_force(today) for other in renewals):
                    findings.append(
                        Finding(
                            "certification_lapsed",
                            "high",
                            f"{_scope(certification)} certificate lapsed on "
                            f"{certification.valid_until} — {pool.name} depends on it.",
                            "Ask the provider for the renewed certificate and record it, or "
                            "move the pool's capacity to a certified site.",
                            page,
                        )
                    )
            elif certification.valid_until <= horizon and not any(
                other.valid_from <= certification.valid_until and other.valid_until > horizon
                for other in renewals
            ):
                findings.append(
                    Finding(
                        "certification_expiring",
                        "medium",
                        f"{certification.provider}'s {certification} — {pool.name} depends on it.",
                        "Ask the provider for the renewed certificate and record it.",
                        page,
                    )
                )
    return findings


def fair_share(consortium: Consortium) -> list[Finding]:
    alerts = FairShareAlert.objects.filter(
        pool__consortium=consortium, cleared_at__isnull=True
    ).select_related("pool", "organisation")
    return [
        Finding(
            f"fair_share_{alert.kind}",
            "medium",
            f"{alert.organisation} in {alert.pool.name}: {alert.get_kind_display().lower()} "
            f"({alert.ratio} times its share).",
            "Bring it to the capacity board: lend unused entitlement, re-plan reservations or "
            "revisit contributions before the imbalance becomes a dispute.",
            reverse("compute:fair-share", args=[alert.pool_id]),
        )
        for alert in alerts
    ]


def requests_waiting(consortium: Consortium) -> list[Finding]:
    late = AllocationRequest.objects.filter(
        consortium=consortium,
        status=AllocationRequest.Status.SUBMITTED,
        updated_at__lt=timezone.now() - BOARD_RESPONSE,
    ).count()
    if not late:
        return []
    return [
        Finding(
            "capacity_requests_waiting",
            "low",
            f"{late} capacity request{'s' if late > 1 else ''} waited more than a week for the "
            "board.",
            "Slow decisions are a key risk of partnerships: the capacity board decides or asks "
            "for changes.",
            reverse("compute:queue", args=[consortium.pk]),
        )
    ]
