"""The in-app inbox: one Notification row per person told about something, next to the e-mail.

Every app notifies through ``deliver()`` (in-app and by e-mail, from one list of people) or
``notify()`` (in-app only). Both write inside the caller's transaction, so a change that rolls
back tells nobody; the e-mail is queued on commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from consortia.models import Consortium, User

TITLE_MAX = 300
BODY_MAX = 2000


class Notification(models.Model):
    """Something a person should know or act on, with the path of the page where they act.
    Unread while ``read_at`` is null."""

    class Kind(models.TextChoices):
        MOTION_OPENED = "motion_opened", _("Motion opened")
        MOTION_CLOSING = "motion_closing", _("Motion closing soon")
        MOTION_CLOSED = "motion_closed", _("Motion closed")
        ALLOCATION_SUBMITTED = "allocation_submitted", _("Capacity request submitted")
        ALLOCATION_DECIDED = "allocation_decided", _("Capacity request decided")
        FAIR_SHARE_ALERT = "fair_share_alert", _("Fair-share alert")
        SIGNATURE_REQUESTED = "signature_requested", _("Signature requested")
        AGREEMENT_SIGNED = "agreement_signed", _("Agreement signed by every party")
        SIGNATURE_DECLINED = "signature_declined", _("Signature declined")
        COMPLIANCE_FINDING = "compliance_finding", _("Compliance finding")

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    consortium = models.ForeignKey(
        Consortium, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=40, choices=Kind.choices)
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField(blank=True, max_length=BODY_MAX)
    url = models.CharField(max_length=500, help_text="The local path of the page to act on.")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox")
        ]
        constraints = [
            # A local path, so the inbox never sends anyone to another site.
            models.CheckConstraint(
                condition=Q(url__startswith="/") & ~Q(url__startswith="//"),
                name="notification_url_local",
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.title}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class EmailCadence(models.TextChoices):
    EACH = "each", _("Each notification, as it happens")
    DAILY = "daily", _("One daily digest of what I have not read")
    OFF = "off", _("No e-mail: the inbox only")


class NotificationSettings(models.Model):
    """How a person wants their notifications by e-mail. Without a row: each as it happens."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="notification_settings"
    )
    email_cadence = models.CharField(
        max_length=8, choices=EmailCadence.choices, default=EmailCadence.EACH
    )
    # Notifications up to this instant were considered by a sent digest (or predate the
    # choice of a digest, when they had gone out one by one).
    digest_covered_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.email_cadence}"


def is_local_path(url: str) -> bool:
    """A path on this site ("/motions/3/"), not a URL of another host (also "//x", "/\\x")."""
    return url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None)


People = Iterable[User] | QuerySet[User]


def _people(users: People) -> dict[int, str]:
    """The active people among ``users``, each once: their e-mail address by primary key."""
    if isinstance(users, QuerySet):
        return dict(users.filter(is_active=True).values_list("pk", "email"))
    return {user.pk: user.email for user in users if user.is_active}


def _create(
    recipients: Iterable[int],
    *,
    kind: str,
    title: str,
    body: str,
    url: str,
    consortium: Consortium | int | None,
) -> int:
    assert kind in Notification.Kind.values, f"unknown notification kind {kind!r}"
    assert is_local_path(url), f"a notification links to a local path, not {url!r}"
    consortium_id = consortium.pk if isinstance(consortium, Consortium) else consortium
    now = timezone.now()
    rows = [
        Notification(
            recipient_id=recipient_id,
            consortium_id=consortium_id,
            kind=kind,
            title=title[:TITLE_MAX],
            body=body[:BODY_MAX],
            url=url,
            created_at=now,
        )
        for recipient_id in sorted(set(recipients))
    ]
    Notification.objects.bulk_create(rows)
    return len(rows)


def notify(
    users: People,
    *,
    kind: str,
    title: str,
    body: str,
    url: str,
    consortium: Consortium | int | None = None,
) -> int:
    """One unread notification for each active person in ``users`` (each once), written in
    the caller's transaction. Returns how many were written."""
    return _create(
        _people(users), kind=kind, title=title, body=body, url=url, consortium=consortium
    )


def deliver(
    users: People,
    *,
    kind: str,
    subject: str,
    body: str,
    url: str,
    consortium: Consortium | int | None = None,
    email_body: str | None = None,
) -> int:
    """Tell ``users`` in the inbox now and by e-mail once the change commits.

    The notification's title is the subject, its text ``body``. The e-mail says ``body``
    followed by the page's full address unless ``email_body`` gives the whole text. People
    without an address are told in the inbox only. Returns how many people were told.
    """
    people = _people(users)
    told = _create(people, kind=kind, title=subject, body=body, url=url, consortium=consortium)
    addresses = _wanting_each_email(people)
    if addresses:
        from consortia.tasks import send_notice

        text = (
            email_body if email_body is not None else f"{body}\n\n{settings.PUBLIC_BASE_URL}{url}\n"
        )
        transaction.on_commit(lambda: send_notice.delay(subject, text, addresses), robust=True)
    return told


def _wanting_each_email(people: dict[int, str]) -> list[str]:
    """The addresses of those among ``people`` who take each notification by e-mail (the
    default); those on a daily digest or inbox-only are left out. One query, if any address."""
    with_address = {pk: address for pk, address in people.items() if address}
    if not with_address:
        return []
    elsewhere = set(
        NotificationSettings.objects.filter(user_id__in=with_address)
        .exclude(email_cadence=EmailCadence.EACH)
        .values_list("user_id", flat=True)
    )
    return sorted({address for pk, address in with_address.items() if pk not in elsewhere})


def email_cadence_of(user: User) -> str:
    found = NotificationSettings.objects.filter(user_id=user.pk).first()
    return found.email_cadence if found is not None else EmailCadence.EACH


def email_cadence_set(user: User, cadence: str) -> None:
    """Choose how notifications come by e-mail. A digest chosen now starts from now: what
    came before went out one by one already."""
    assert cadence in EmailCadence.values, f"unknown cadence {cadence!r}"
    with transaction.atomic():
        current, _ = NotificationSettings.objects.select_for_update().get_or_create(user=user)
        if cadence == EmailCadence.DAILY and current.email_cadence != EmailCadence.DAILY:
            current.digest_covered_until = timezone.now()
        current.email_cadence = cadence
        current.save()


# Reads and marks of one person's own inbox ----------------------------------------------------


def notification_list(
    user: User | AnonymousUser, *, unread_only: bool = False
) -> QuerySet[Notification]:
    """The person's own notifications, newest first (none for an anonymous visitor)."""
    notifications = Notification.objects.filter(recipient_id=user.pk)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.order_by("-created_at", "-id")


def get_notification_for(user: User, pk: int | str) -> Notification:
    """The person's own notification, or 404 (somebody else's is not there for them)."""
    found = notification_list(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if found is None:
        raise Http404("No notification of yours has this id.")
    return found


def unread_count(user: User) -> int:
    """One COUNT over the inbox index."""
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def mark_read(user: User, ids: Sequence[int] | Literal["all"]) -> int:
    """Mark the person's own unread notifications read (those of ``ids``, or all of them);
    ids of other people's notifications are ignored. Returns how many changed."""
    unread = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True)
    if ids != "all":
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())
