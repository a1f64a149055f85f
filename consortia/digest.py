"""The daily digest: one e-mail a day, for people who chose it, with the notifications they
have not read since the last one.

Each person's settings row is locked while their digest is made and its watermark
(``digest_covered_until``) moves forward in the same transaction, so a second run the same
day, or two workers at once, send nothing twice.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from consortia.inbox import EmailCadence, Notification, NotificationSettings

# A first digest (no watermark yet) looks back this far.
FIRST_DIGEST_LOOKBACK = datetime.timedelta(days=1)


def send_daily_digests(now: datetime.datetime | None = None) -> int:
    """Make every due digest; returns how many e-mails were queued."""
    now = now or timezone.now()
    people = NotificationSettings.objects.filter(email_cadence=EmailCadence.DAILY).values_list(
        "user_id", flat=True
    )
    return sum(_digest_for(user_id, now) for user_id in list(people))


@transaction.atomic
def _digest_for(user_id: int, now: datetime.datetime) -> int:
    row = (
        NotificationSettings.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("user")
        .filter(user_id=user_id, email_cadence=EmailCadence.DAILY)
        .first()
    )
    if row is None:  # another worker has it, or the person changed their mind meanwhile
        return 0
    since = row.digest_covered_until or now - FIRST_DIGEST_LOOKBACK
    unread = list(
        Notification.objects.filter(
            recipient_id=user_id, read_at__isnull=True, created_at__gt=since, created_at__lte=now
        )
        .select_related("consortium")
        .order_by("created_at", "id")
    )
    row.digest_covered_until = now
    row.save(update_fields=["digest_covered_until"])
    person = row.user
    if not unread or not person.is_active or not person.email:
        return 0
    subject = f"Alliance: {len(unread)} notification{'s' if len(unread) != 1 else ''} to read"
    body = render_to_string(
        "consortia/email/digest.txt",
        {"person": person, "notifications": unread, "base_url": settings.PUBLIC_BASE_URL},
    )
    from consortia.tasks import send_notice

    address = person.email
    transaction.on_commit(lambda: send_notice.delay(subject, body, [address]), robust=True)
    return 1
