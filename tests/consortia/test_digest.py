"""E-mail cadence: each notification by e-mail (the default), a daily digest of what is
unread, or the inbox only. The digest runs any number of times without sending twice."""

from __future__ import annotations

import datetime
import re
from typing import Any

import time_machine
from django.core import mail
from django.utils import timezone

from consortia import inbox
from consortia.digest import send_daily_digests
from consortia.inbox import EmailCadence, NotificationSettings
from consortia.models import User
from tests.conftest import World


def tell(users: list[User], title: str, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        inbox.deliver(
            users,
            kind="motion_opened",
            subject=title,
            body="Please vote.",
            url="/consortia/",
        )


def test_each_notice_is_mailed_by_default_and_not_to_digest_or_inbox_only_people(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    inbox.email_cadence_set(world.member, EmailCadence.DAILY)
    inbox.email_cadence_set(world.observer, EmailCadence.OFF)
    tell(
        [world.chair, world.member, world.observer],
        "Vote: motion 1",
        django_capture_on_commit_callbacks,
    )
    assert [message.to for message in mail.outbox] == [[world.chair.email]]
    # The inbox keeps everyone's notice, whatever the e-mail choice.
    for person in (world.chair, world.member, world.observer):
        assert inbox.notification_list(person).count() == 1


def test_a_daily_digest_lists_the_unread_once(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        inbox.email_cadence_set(world.member, EmailCadence.DAILY)
    with time_machine.travel(start + datetime.timedelta(hours=1), tick=False):
        tell([world.member], "Vote: motion 1", django_capture_on_commit_callbacks)
        tell([world.member], "Vote: motion 2", django_capture_on_commit_callbacks)
        tell([world.member], "Vote: motion 3", django_capture_on_commit_callbacks)
    read = inbox.notification_list(world.member).get(title="Vote: motion 2")
    inbox.mark_read(world.member, [read.pk])
    assert mail.outbox == []

    morning = start + datetime.timedelta(hours=20)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_daily_digests(morning) == 1
    (digest,) = mail.outbox
    assert digest.to == [world.member.email]
    assert digest.subject == "Alliance: 2 notifications to read"
    assert "Vote: motion 1" in digest.body
    assert "Vote: motion 3" in digest.body
    assert "Vote: motion 2" not in digest.body  # read in the app already
    assert "/consortia/" in digest.body
    assert "/account/notifications/" in digest.body

    # A second run (beat twice, a retry) sends nothing; the next digest starts from here.
    with django_capture_on_commit_callbacks(execute=True):
        assert send_daily_digests(morning + datetime.timedelta(minutes=5)) == 0
    with time_machine.travel(morning + datetime.timedelta(hours=2), tick=False):
        tell([world.member], "Vote: motion 4", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_daily_digests(morning + datetime.timedelta(days=1)) == 1
    assert "Vote: motion 4" in mail.outbox[-1].body
    assert "Vote: motion 1" not in mail.outbox[-1].body


def test_nothing_unread_means_no_digest_and_inbox_only_people_get_none(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    inbox.email_cadence_set(world.member, EmailCadence.DAILY)
    inbox.email_cadence_set(world.observer, EmailCadence.OFF)
    tell([world.observer], "Vote: motion 1", django_capture_on_commit_callbacks)
    later = timezone.now() + datetime.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_daily_digests(later) == 0
    assert mail.outbox == []


def test_a_digest_chosen_now_does_not_repeat_what_was_mailed_before(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        tell([world.member], "Vote: motion 1", django_capture_on_commit_callbacks)
    with time_machine.travel(start + datetime.timedelta(minutes=1), tick=False):
        inbox.email_cadence_set(world.member, EmailCadence.DAILY)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_daily_digests(start + datetime.timedelta(hours=2)) == 0
    assert len(mail.outbox) == 1  # the notice itself, mailed before the digest was chosen


def test_the_settings_page(world: World, browser_as: Any) -> None:
    client = browser_as(world.member)
    page = client.get("/account/notifications/")
    assert page.status_code == 200
    assert b'value="daily"' in page.content
    saved = client.post("/account/notifications/", {"email_cadence": "daily"})
    assert saved.status_code == 302
    assert inbox.email_cadence_of(world.member) == EmailCadence.DAILY
    again = client.get("/account/notifications/")
    assert re.search(rb'value="daily"[^>]*checked', again.content)

    refused = client.post("/account/notifications/", {"email_cadence": "hourly"})
    assert refused.status_code == 400
    assert b"hourly is not one of the available choices" in refused.content
    assert inbox.email_cadence_of(world.member) == EmailCadence.DAILY
    assert NotificationSettings.objects.count() == 1

    assert browser_as(None).get("/account/notifications/").status_code == 302
