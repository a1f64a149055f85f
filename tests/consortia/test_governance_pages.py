"""The motion pages: propose, vote, recuse in the browser; from the outside 404/403/redirect."""

from __future__ import annotations

import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from consortia.governance import services
from consortia.models import Motion, Vote
from tests.conftest import World


def open_motion(world: World) -> Motion:
    return services.motion_propose(
        actor=world.chair,
        consortium=world.consortium_a,
        kind="general",
        title="Adopt the security baseline",
        closes_at=timezone.now() + datetime.timedelta(days=3),
        rule="unanimity",
    )


def test_a_committee_member_proposes_and_votes_in_the_browser(
    world: World, browser_as: Any
) -> None:
    client = browser_as(world.member)
    listing = reverse("consortia:motions", args=[world.consortium_a.pk])
    assert "Propose a motion" in client.get(listing).content.decode()
    refused = client.post(
        listing,
        {
            "kind": "general",
            "title": "Late",
            "closes_at": "2001-01-01T10:00",
            "rule": "simple_majority",
            "quorum_basis": "members",
            "quorum": "0.5",
            "abstentions": "excluded",
        },
    )
    assert refused.status_code == 400
    assert "A motion closes in the future." in refused.content.decode()
    assert not Motion.objects.exists()
    closes = (timezone.now() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    created = client.post(
        listing,
        {
            "kind": "general",
            "title": "Publish the model card",
            "closes_at": closes,
            "rule": "unanimity",
            "quorum_basis": "members",
            "quorum": "0.5",
            "abstentions": "excluded",
        },
    )
    motion = Motion.objects.get()
    assert created.status_code == 302
    page = client.get(reverse("consortia:motion", args=[motion.pk])).content.decode()
    assert "Your vote" in page
    voted = client.post(
        reverse("consortia:motion-vote", args=[motion.pk]),
        {"choice": "for", "for_organisation": world.org_member.pk},
        follow=True,
    )
    assert "Your vote is recorded" in voted.content.decode()
    assert "For 1" in voted.content.decode()
    assert Vote.objects.get().cast_by == world.member


def test_motion_pages_from_outside(world: World, browser_as: Any, unchanged: Any) -> None:
    motion = open_motion(world)
    detail = reverse("consortia:motion", args=[motion.pk])
    vote = reverse("consortia:motion-vote", args=[motion.pk])
    recuse = reverse("consortia:motion-recuse", args=[motion.pk])
    listing = reverse("consortia:motions", args=[world.consortium_a.pk])
    assert browser_as(world.observer).get(detail).status_code == 200
    assert "Your vote" not in browser_as(world.observer).get(detail).content.decode()
    assert "Propose a motion" not in browser_as(world.observer).get(listing).content.decode()
    assert browser_as(world.outsider).get(detail).status_code == 404
    assert browser_as(world.outsider).get(listing).status_code == 404
    assert browser_as(None).get(detail).status_code == 302
    with unchanged():
        assert browser_as(world.observer).post(vote, {"choice": "for"}).status_code == 403
        assert browser_as(world.outsider).post(vote, {"choice": "for"}).status_code == 404
        assert browser_as(world.observer).post(recuse, {"reason": "x"}).status_code == 403
        assert (
            browser_as(world.observer)
            .post(
                listing,
                {
                    "kind": "general",
                    "title": "X",
                    "closes_at": "2030-01-01T10:00",
                    "rule": "unanimity",
                    "quorum_basis": "members",
                    "quorum": "0.5",
                    "abstentions": "excluded",
                },
            )
            .status_code
            == 403
        )


def test_the_consortium_page_lists_open_motions(world: World, browser_as: Any) -> None:
    motion = open_motion(world)
    page = browser_as(world.observer).get(reverse("consortia:detail", args=[world.consortium_a.pk]))
    assert f"Motion {motion.number}: {motion.title}" in page.content.decode()


def test_lending_and_revoking_a_vote_in_the_browser(
    world: World, browser_as: Any, unchanged: Any
) -> None:
    from consortia.models import Proxy

    give = reverse("consortia:proxy-give", args=[world.consortium_a.pk])
    with unchanged():
        assert (
            browser_as(world.observer).post(give, {"grantee": world.org_chair.pk}).status_code
            == 403
        )
        assert (
            browser_as(world.outsider).post(give, {"grantee": world.org_chair.pk}).status_code
            == 404
        )
    response = browser_as(world.member).post(give, {"grantee": world.org_chair.pk}, follow=True)
    assert "vote is lent; revoke it any time" in response.content.decode()
    proxy = Proxy.objects.get()
    assert (proxy.grantor, proxy.grantee) == (world.org_member, world.org_chair)
    revoke = reverse("consortia:proxy-revoke", args=[proxy.pk])
    with unchanged():
        assert browser_as(world.chair).post(revoke).status_code == 403
    browser_as(world.member).post(revoke)
    proxy.refresh_from_db()
    assert proxy.revoked_at is not None


def test_a_voter_sees_the_vote_that_stands_and_changes_it_until_the_close(
    world: World, browser_as: Any
) -> None:
    motion = open_motion(world)
    services.motion_update(actor=world.chair, motion=motion, results_hidden=True)
    client = browser_as(world.member)
    page = reverse("consortia:motion", args=[motion.pk])
    vote = reverse("consortia:motion-vote", args=[motion.pk])
    assert ">Vote</button>" in client.get(page).content.decode()

    cast = client.post(
        vote,
        {"choice": "for", "reason": "Ready to adopt", "for_organisation": world.org_member.pk},
        follow=True,
    )
    shown = cast.content.decode()
    assert "Your vote is recorded; you can change it until the close." in shown
    assert "Member Org votes <strong>for</strong>" in shown, "seen though the tally is hidden"
    assert "The tally stays hidden until the motion closes." in shown
    assert 'value="for" required id="id_choice_0" checked' in shown
    assert 'value="Ready to adopt"' in shown
    assert ">Change the vote</button>" in shown

    client.post(vote, {"choice": "abstain", "for_organisation": world.org_member.pk})
    standing = Vote.objects.get(motion=motion, superseded=False)
    assert standing.choice == "abstain"
    assert "Member Org votes <strong>abstain</strong>" in client.get(page).content.decode()
    assert browser_as(world.observer).get(page).content.decode().count("votes <strong>") == 0
