"""Celery tasks of agreements: thin wrappers around services."""

from __future__ import annotations

import datetime
import logging

from celery import Task, shared_task
from django.conf import settings
from django.core.mail import send_mass_mail
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def agreements_expiry_sweep() -> dict[str, int]:
    """Daily: expire what has run out, and tell each consortium's legal people (once per
    agreement) what expires within AGREEMENT_EXPIRY_WARNING_DAYS. Safe to run any number of
    times: each transition and each notice is claimed before it happens."""
    from agreements import services
    from agreements.models import Agreement
    from consortia.models import Membership, Role, User

    today = timezone.localdate()
    expired = 0
    for agreement in Agreement.objects.filter(
        status=Agreement.Status.EXECUTED, expires_on__lte=today
    ):
        expired += services.agreement_expire(agreement=agreement)
    horizon = today + datetime.timedelta(days=settings.AGREEMENT_EXPIRY_WARNING_DAYS)
    notified = 0
    for agreement in Agreement.objects.filter(
        status=Agreement.Status.EXECUTED,
        expires_on__gt=today,
        expires_on__lte=horizon,
        expiry_notified_on__isnull=True,
    ).select_related("consortium"):
        if not services.agreement_claim_expiry_notice(agreement=agreement):
            continue
        recipients = (
            User.objects.filter(
                is_active=True,
                role_assignments__consortium=agreement.consortium,
                role_assignments__role__in=[Role.LEGAL, Role.CHAIR],
                organisation__memberships__consortium=agreement.consortium,
                organisation__memberships__status=Membership.Status.ACTIVE,
            )
            .exclude(email="")
            .values_list("email", flat=True)
            .distinct()
        )
        subject = f"{agreement.title} expires on {agreement.expires_on}"
        body = (
            f"{agreement.title}, an agreement of {agreement.consortium.name}, expires on {agreement.expires_on}.\n\n"
            f"Renew it by opening an amendment, or let it expire: {settings.PUBLIC_BASE_URL}/agreements/{agreement.pk}/\n"
        )
        notified += send_mass_mail(
            [(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in recipients]
        )
    logger.info("agreements expiry sweep: %d expired, %d notices", expired, notified)
    return {"expired": expired, "notices": notified}


# Late acknowledgement: a worker killed mid-render leaves the message on the queue, and the
# next worker's run takes over (agreements.sealing is idempotent, and a redelivered message
# takes over the dead run at once instead of waiting for it to go stale).
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def agreements_seal_executed(self: Task[..., bool], document_id: int) -> bool:
    from agreements import sealing

    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    return sealing.seal_executed(document_id=document_id, redelivered=redelivered)


@shared_task(ignore_result=True)
def agreements_seal_sweep() -> int:
    """Every few minutes: queue again the sealings whose task was lost with the broker."""
    from agreements import sealing

    return sealing.sweep()


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def agreements_export_run(export_id: int) -> bool:
    from agreements import exports

    return exports.export_run(export_id=export_id)
