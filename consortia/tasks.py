"""Celery tasks of the consortium domain: thin wrappers around services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mass_mail
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    autoretry_for=(ConnectionError, TimeoutError, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def membership_invitation_notify(membership_id: int) -> int:
    """Email the invited organisation's administrators, at most once.

    The notice is claimed before the mail goes out; a redelivered task finds it claimed and
    stops. If sending fails the claim is released, so the retry sends it.
    """
    from consortia import services
    from consortia.models import Membership, User

    if not services.membership_claim_invitation_notice(membership_id=membership_id):
        return 0
    membership = Membership.objects.select_related("consortium", "organisation").get(
        pk=membership_id
    )
    recipients = list(
        User.objects.filter(
            organisation_id=membership.organisation_id, is_organisation_admin=True, is_active=True
        )
        .exclude(email="")
        .values_list("email", flat=True)
    )
    subject = f"Invitation to join {membership.consortium.name}"
    body = render_to_string("consortia/email/invitation.txt", {"membership": membership})
    try:
        sent = send_mass_mail(
            [(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in recipients]
        )
    except Exception:
        services.membership_release_invitation_notice(membership_id=membership_id)
        raise
    services.membership_record_invitation_sent(membership_id=membership_id, recipients=sent)
    logger.info("invitation for membership %s sent to %d administrators", membership_id, sent)
    return sent


@shared_task(ignore_result=True)
def membership_invitation_sweep() -> int:
    """Enqueue the notice of every invitation that was never claimed (say the broker was
    down when it was issued). Safe to run any number of times: the notice task claims first."""
    from consortia import selectors

    pending = selectors.membership_invitations_unsent()
    for membership_id in pending:
        membership_invitation_notify.delay(membership_id)
    return len(pending)


@shared_task(ignore_result=True)
def motions_close_due() -> int:
    """Every minute: finalise motions whose closing time has passed (each close is claimed
    under a row lock, so overlapping runs close each motion once)."""
    from consortia.governance import services

    return services.motions_close_due()


# Acknowledged early, unlike the rest: one message mails many people, and a redelivery after
# a worker died halfway would mail them all again. The notice itself is in each person's
# inbox (consortia.inbox), so a lost e-mail loses no information.
@shared_task(
    ignore_result=True,
    acks_late=False,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_notice(subject: str, body: str, recipients: list[str]) -> int:
    """One e-mail per recipient (nobody sees the others' addresses); apps queue it on commit."""
    return send_mass_mail(
        [(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in recipients]
    )


@shared_task(ignore_result=True)
def notifications_daily_digest() -> int:
    """Daily: the digest e-mail of unread notifications, for those who chose one."""
    from consortia.digest import send_daily_digests

    return send_daily_digests()


@shared_task(ignore_result=True)
def motions_remind_closing() -> int:
    """Hourly: a day before a motion closes, remind the organisations that have not voted."""
    from consortia.governance import services

    return services.motions_remind_closing()


@shared_task(ignore_result=True)
def health_check_daily() -> int:
    """Daily: record every operational or forming consortium's health check, and tell its
    chair when the score fell since the last run."""
    from consortia import health
    from consortia.models import Consortium, Role, User

    worse = 0
    for consortium in Consortium.objects.exclude(status="dissolved"):
        report, previous = health.record(consortium)
        if previous is None or report.score >= previous.score:
            continue
        worse += 1
        chairs = User.objects.filter(
            role_assignments__consortium=consortium, role_assignments__role=Role.CHAIR
        ).exclude(email="")
        lines = "\n".join(f"- {finding['title']} {finding['fix']}" for finding in report.findings)
        send_mass_mail(
            [
                (
                    f"Partnership health of {consortium.name}: {previous.score} → {report.score}",
                    f"{lines}\n\n{settings.PUBLIC_BASE_URL}/consortia/{consortium.pk}/health/\n",
                    settings.DEFAULT_FROM_EMAIL,
                    [chair.email],
                )
                for chair in chairs
            ]
        )
    return worse
