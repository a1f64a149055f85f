"""Shared compute's part of the partnership health check (registered with consortia.health):
"misaligned capacity needs leading to conflict" is the key risk of a co-investment pool, so
the check looks for its early signs — pools at sites the consortium no longer approves or
whose certificates lapse, members far from their fair share, requests left waiting."""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from compute import directory
from compute.models import AllocationRequest, Certification, FairShareAlert, Pool
from consortia.health import Finding
from consortia.models import Consortium

CERTIFICATE_NOTICE = datetime.timedelta(days=60)
BOARD_RESPONSE = datetime.timedelta(days=7)


def pool_sites(consortium: Consortium) -> list[Finding]:
    today = timezone.localdate()
    usable = set(directory.usable_sites(consortium.pk, today).values_list("pk", flat=True))
    findings = []
    for pool in Pool.objects.filter(consortium=consortium).prefetch_related("sites__provider"):
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
        expiring = Certification.objects.filter(
            Q(site__in=pool.sites.all())
            | Q(site__isnull=True, provider__sites__in=pool.sites.all()),
            valid_from__lte=today,
            valid_until__gt=today,
            valid_until__lte=today + CERTIFICATE_NOTICE,
        ).distinct()
        for certification in expiring.select_related("provider"):
            findings.append(
                Finding(
                    "certification_expiring",
                    "medium",
                    f"{certification.provider}'s {certification} — {pool.name} depends on it.",
                    "Ask the provider for the renewed certificate and record it.",
                    reverse("compute:provider", args=[certification.provider_id]),
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
