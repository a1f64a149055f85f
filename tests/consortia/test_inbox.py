"""The in-app inbox: notices reach people in the inbox and by e-mail from one call, only after
the change commits; each person sees, marks and opens only their own; the API likewise."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from compute.models import AllocationRequest
from consortia import inbox
from consortia.governance import services
from consortia.inbox import Notification
from consortia.models import User
from tests.compute.conftest import at, make_grid
from tests.conftest import World
from tests.consortia.test_governance import Committee, admission, committee, in_days

__all__ = ["committee"]  # the fixture, shared with the governance tests

NOTICE: dict[str, Any] = {
    "kind": "motion_opened",
    "title": "Vote: motion 1",
    "body": "Please vote.",
    "url": "/consortia/",
}


def kinds_for(user: User) -> list[str]:
    return list(inbox.notification_list(user).values_list("kind", flat=True))


def told(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


# Who is told ----------------------------------------------------------------------------------


def test_a_motion_opening_tells_each_steering_member_in_app_and_by_mail(
    committee: Committee, django_capture_on_commit_callbacks: Any
) -> None:
    world = committee.world
    with django_capture_on_commit_callbacks(execute=True):
        motion = admission(committee)
    assert told("motion_opened") == {"chair", "member", "third"}
    notice = inbox.notification_list(world.member).get()
    assert notice.url == reverse("consortia:motion", args=[motion.pk])
    assert notice.consortium_id == world.consortium_a.pk
    assert notice.title.startswith(f"Vote: motion {motion.number}")
    assert notice.read_at is None
    mailed = {message.to[0] for message in mail.outbox if message.subject.startswith("Vote:")}
    assert mailed == {world.chair.email, world.member.email, committee.third_rep.email}
    # Observers and outsiders hear nothing.
    assert inbox.unread_count(world.observer) == inbox.unread_count(world.outsider) == 0


def test_closing_soon_tells_only_those_who_have_not_voted_and_closing_tells_all(
    committee: Committee,
) -> None:
    world = committee.world
    motion = admission(committee, rule="unanimity")
    services.vote_cast(actor=world.chair, motion=motion, choice="for")
    with time_machine.travel(in_days(6) + datetime.timedelta(hours=12)):
        assert services.motions_remind_closing() == 1
    assert told("motion_closing") == {"member", "third"}
    services.vote_cast(actor=world.member, motion=motion, choice="for")
    services.vote_cast(actor=committee.third_rep, motion=motion, choice="for")
    motion.refresh_from_db()
    assert motion.status == motion.Status.PASSED
    assert told("motion_closed") == {"chair", "member", "third"}
    closed = inbox.notification_list(world.chair).filter(kind="motion_closed").get()
    assert "has passed" in closed.body
    assert closed.url == reverse("consortia:motion", args=[motion.pk])


def test_a_compute_request_tells_the_capacity_board(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    from compute import allocations

    grid = make_grid(world)
    with django_capture_on_commit_callbacks(execute=True):
        request = allocations.request_submit(
            actor=grid.technician,
            pool=grid.pool,
            gpus=4,
            starts_at=at("2027-01-10"),
            ends_at=at("2027-01-20"),
            purpose="Fine-tune the legal-domain model",
            sites=[grid.paris],
        )
    assert told("allocation_submitted") == {grid.board.username, grid.board_chair_org.username}
    notice = inbox.notification_list(grid.board).get()
    assert notice.url == reverse("compute:request", args=[request.pk])
    assert sorted(address for message in mail.outbox for address in message.to) == sorted(
        [grid.board.email, grid.board_chair_org.email]
    )
    assert AllocationRequest.objects.count() == 1


def test_a_rolled_back_change_tells_nobody(
    committee: Committee, django_capture_on_commit_callbacks: Any
) -> None:
    def change_that_fails() -> None:
        with transaction.atomic():
            admission(committee)
            assert Notification.objects.count() == 3  # written with the change...
            raise RuntimeError("the change fails")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        change_that_fails()
    assert Notification.objects.count() == 0  # ...and gone with it
    assert callbacks == []
    assert mail.outbox == []


def test_notify_tells_each_active_person_once(world: World) -> None:
    world.observer.is_active = False
    world.observer.save()
    people = [world.chair, world.member, world.chair, world.observer]
    assert inbox.notify(people, **NOTICE) == 2
    queryset = User.objects.filter(username__in=["chair", "member", "observer"])
    assert inbox.notify(queryset, **NOTICE, consortium=world.consortium_a) == 2
    assert told("motion_opened") == {"chair", "member"}


def test_only_local_paths_are_stored(world: World) -> None:
    with pytest.raises(AssertionError):
        inbox.notify([world.member], **{**NOTICE, "url": "https://evil.example/"})
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(recipient=world.member, **{**NOTICE, "url": "//evil.example/"})


# The inbox page -------------------------------------------------------------------------------


@pytest.fixture
def notices(world: World) -> dict[str, Notification]:
    inbox.notify([world.member], **{**NOTICE, "title": "For member, older"})
    inbox.notify([world.member], **{**NOTICE, "title": "For member, newer"})
    inbox.notify([world.chair], **{**NOTICE, "title": "For chair"})
    return {notice.title: notice for notice in Notification.objects.all()}


def test_the_inbox_lists_only_ones_own_newest_first_with_a_text_label(
    world: World, notices: dict[str, Notification], browser_as: Callable[[User | None], Client]
) -> None:
    page = browser_as(world.member).get(reverse("consortia:inbox"))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("For member, newer") < html.index("For member, older")
    assert "For chair" not in html
    assert html.count('class="badge new">New<') == 2
    assert "Mark all as read" in html
    opened = reverse("consortia:inbox-open", args=[notices["For member, newer"].pk])
    assert f'href="{opened}"' in html


def test_anonymous_visitors_are_sent_to_sign_in(
    notices: dict[str, Notification], browser_as: Callable[[User | None], Client]
) -> None:
    page = browser_as(None).get(reverse("consortia:inbox"))
    assert page.status_code == 302
    assert "login" in page["Location"]


def test_mark_one_read_full_page_and_htmx(
    world: World, notices: dict[str, Notification], browser_as: Callable[[User | None], Client]
) -> None:
    client = browser_as(world.member)
    older, newer = notices["For member, older"], notices["For member, newer"]
    answer = client.post(reverse("consortia:inbox-read", args=[older.pk]))
    assert answer.status_code == 302
    older.refresh_from_db()
    assert older.read_at is not None
    partial = client.post(reverse("consortia:inbox-read", args=[newer.pk]), HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    html = partial.content.decode()
    assert f'id="notification-{newer.pk}"' in html
    assert "New<" not in html
    assert 'hx-swap-oob="true"' in html
    assert 'aria-label="0 unread notifications"' in html
    assert "<html" not in html
    assert inbox.unread_count(world.member) == 0


def test_nobody_marks_or_opens_someone_elses(
    world: World, notices: dict[str, Notification], browser_as: Callable[[User | None], Client]
) -> None:
    theirs = notices["For chair"]
    client = browser_as(world.member)
    assert client.post(reverse("consortia:inbox-read", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("consortia:inbox-open", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read(
    world: World, notices: dict[str, Notification], browser_as: Callable[[User | None], Client]
) -> None:
    answer = browser_as(world.member).post(reverse("consortia:inbox-read-all"))
    assert answer.status_code == 302
    assert inbox.unread_count(world.member) == 0
    assert inbox.unread_count(world.chair) == 1


def test_opening_marks_read_and_goes_to_the_local_page(
    world: World, notices: dict[str, Notification], browser_as: Callable[[User | None], Client]
) -> None:
    notice = notices["For member, newer"]
    answer = browser_as(world.member).get(reverse("consortia:inbox-open", args=[notice.pk]))
    assert (answer.status_code, answer["Location"]) == (302, "/consortia/")
    notice.refresh_from_db()
    assert notice.read_at is not None


@pytest.mark.parametrize("url", ["/\\evil.example/", "/\\/evil.example/"])
def test_opening_never_redirects_to_another_site(
    world: World, url: str, browser_as: Callable[[User | None], Client]
) -> None:
    # Passes the database's "starts with one slash" check, yet browsers read it as a host.
    notice = Notification.objects.create(recipient=world.member, **{**NOTICE, "url": url})
    answer = browser_as(world.member).get(reverse("consortia:inbox-open", args=[notice.pk]))
    assert (answer.status_code, answer["Location"]) == (302, reverse("consortia:inbox"))


def test_the_navigation_shows_the_unread_count(
    world: World,
    notices: dict[str, Notification],
    browser_as: Callable[[User | None], Client],
    django_assert_num_queries: Any,
) -> None:
    html = browser_as(world.member).get(reverse("consortia:tokens")).content.decode()
    assert 'aria-label="2 unread notifications">(2)</span>' in html
    assert f'href="{reverse("consortia:inbox")}"' in html
    inbox.mark_read(world.member, "all")
    html = browser_as(world.member).get(reverse("consortia:tokens")).content.decode()
    assert 'aria-label="0 unread notifications">(0)</span>' in html
    # The count is one query, and none for a page that does not render it.
    from django.test import RequestFactory

    from consortia.context_processors import inbox_summary

    request = RequestFactory().get("/")
    request.user = world.chair
    with django_assert_num_queries(0):
        context = inbox_summary(request)
    with django_assert_num_queries(1):
        assert context["inbox"].unread == 1
        assert context["inbox"].unread == 1


def test_anonymous_pages_count_nothing() -> None:
    # No database access is allowed here: a query would fail the test.
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    from consortia.context_processors import inbox_summary

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert inbox_summary(request) == {}


# The API --------------------------------------------------------------------------------------


def test_the_api_lists_only_ones_own(
    world: World, notices: dict[str, Notification], api_as: Callable[[User | None], APIClient]
) -> None:
    client = api_as(world.member)
    inbox.mark_read(world.member, [notices["For member, older"].pk])
    listed = client.get("/api/v1/notifications/")
    assert listed.status_code == 200
    assert [row["title"] for row in listed.json()["results"]] == [
        "For member, newer",
        "For member, older",
    ]
    assert set(listed.json()["results"][0]) == {
        "id",
        "consortium",
        "kind",
        "title",
        "body",
        "url",
        "created_at",
        "read_at",
    }
    unread = client.get("/api/v1/notifications/", {"unread": "true"}).json()["results"]
    assert [row["title"] for row in unread] == ["For member, newer"]


def test_the_api_marks_read(
    world: World, notices: dict[str, Notification], api_as: Callable[[User | None], APIClient]
) -> None:
    client = api_as(world.member)
    newer = notices["For member, newer"]
    answer = client.post(f"/api/v1/notifications/{newer.pk}/read/")
    assert answer.status_code == 200
    assert answer.json()["read_at"] is not None
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 1}
    assert inbox.unread_count(world.member) == 0
    assert inbox.unread_count(world.chair) == 1


def test_the_api_hides_others_and_refuses_anonymous(
    world: World, notices: dict[str, Notification], api_as: Callable[[User | None], APIClient]
) -> None:
    theirs = notices["For chair"]
    client = api_as(world.member)
    assert client.get(f"/api/v1/notifications/{theirs.pk}/").status_code == 404
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    anonymous = api_as(None)
    assert anonymous.get("/api/v1/notifications/").status_code in (401, 403)
    assert anonymous.post("/api/v1/notifications/read-all/").status_code in (401, 403)
    assert inbox.unread_count(world.chair) == 1
