"""From domain actions to messages: each event type comes from a real service call, goes only
to endpoints whose organisation sees the consortium and whose host the consortium approved,
only for the types they chose, and costs nothing when nobody listens."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from alliance.webhooks import events, services, signing
from alliance.webhooks.models import Event, Message
from compute import allocations
from compute.compliance import sweeps
from compute.compliance.models import Finding, Job
from compute.fairshare import check_alerts
from compute.models import UsageRecord
from compute.shares import contribution_record
from consortia import services as consortium_services
from consortia.governance import services as governance
from consortia.models import Motion
from tests.agreements.conftest import Deal, execute
from tests.compute.compliance.conftest import Compliance
from tests.compute.compliance.test_sweeps import NOW, live_job
from tests.compute.conftest import Grid, at
from tests.conftest import World
from tests.webhooks.conftest import Hooks, Receiver, make_endpoint


def propose(world: World, title: str = "Adopt the data charter") -> Motion:
    return governance.motion_propose(
        actor=world.chair,
        consortium=world.consortium_a,
        kind="general",
        title=title,
        closes_at=timezone.now() + datetime.timedelta(days=7),
    )


def payloads(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(received.body) for received in receiver.received]


def test_a_motion_reaches_an_approved_endpoint_of_a_member_signed(
    hooks: Hooks, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint, secret = make_endpoint(hooks.member_admin, receiver.url(), ["motion.opened"])
    with django_capture_on_commit_callbacks(execute=True):
        motion = propose(hooks.world)
    (received,) = receiver.received
    assert signing.verify(secret, received.headers, received.body)
    payload = json.loads(received.body)
    assert payload["type"] == "motion.opened"
    data = payload["data"]
    assert data["consortium"] == {"id": hooks.world.consortium_a.pk, "name": "Consortium A"}
    assert data["object"]["type"] == "consortia.motion"
    assert data["object"]["id"] == str(motion.pk)
    assert data["object"]["url"].endswith(f"/api/v1/motions/{motion.pk}/")
    assert data["audit_event"]["sequence"] > 0
    # Ids and the change, never the person who acted.
    assert "chair" not in received.body.decode()
    message = Message.objects.get()
    assert (message.endpoint, message.status) == (endpoint, "delivered")
    assert received.headers["webhook-id"] == message.webhook_id


def test_no_approved_destination_no_message(
    hooks: Hooks, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    make_endpoint(hooks.member_admin, receiver.url())
    services.destination_remove(actor=hooks.world.chair, destination=hooks.destination)
    with django_capture_on_commit_callbacks(execute=True):
        propose(hooks.world)
    assert receiver.received == []
    assert not Message.objects.exists()
    assert not Event.objects.exists()


def test_a_destination_approved_for_another_port_does_not_count(
    hooks: Hooks, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    services.destination_remove(actor=hooks.world.chair, destination=hooks.destination)
    services.destination_approve(
        actor=hooks.world.chair, consortium=hooks.world.consortium_a, host="127.0.0.1", port=1
    )
    make_endpoint(hooks.member_admin, receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        propose(hooks.world)
    assert receiver.received == []


def test_an_organisation_outside_the_consortium_receives_nothing(
    hooks: Hooks, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    world = hooks.world
    # Consortium B approves the receiver too; its member (Outsider Org) is not in A.
    services.destination_approve(
        actor=world.outsider, consortium=world.consortium_b, host="127.0.0.1"
    )
    make_endpoint(world.outsider, receiver.url("/outsider"))
    make_endpoint(hooks.member_admin, receiver.url("/member"))
    with django_capture_on_commit_callbacks(execute=True):
        propose(world)
    assert [r.path for r in receiver.received] == ["/member"]


def test_a_removed_member_stops_receiving(
    hooks: Hooks, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    world = hooks.world
    make_endpoint(hooks.member_admin, receiver.url())
    consortium_services.membership_remove(
        actor=world.chair, membership=world.membership_member, reason="Left the partnership"
    )
    with django_capture_on_commit_callbacks(execute=True):
        propose(world)
    assert receiver.received == []


def test_only_the_chosen_event_types_are_sent(
    hooks: Hooks, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    make_endpoint(hooks.member_admin, receiver.url(), ["motion.closed"])
    with django_capture_on_commit_callbacks(execute=True):
        motion = propose(hooks.world)
    assert receiver.received == []
    with django_capture_on_commit_callbacks(execute=True):
        governance.vote_cast(actor=hooks.world.chair, motion=motion, choice="for")
        governance.vote_cast(actor=hooks.world.member, motion=motion, choice="for")
    (closed,) = payloads(receiver)
    assert closed["type"] == "motion.closed"
    assert closed["data"]["changes"]["status"] == {"before": "open", "after": "passed"}


@pytest.fixture
def narrow_type(world: World) -> Iterator[events.EventType]:
    """An event type whose objects only Chair Org may see (none of the built-in ones is
    narrower than its consortium; see alliance/webhooks/events.py)."""
    narrow = events.EventType(
        "test.narrow",
        "Narrow",
        "Only for Chair Org.",
        frozenset({"consortia.motion"}),
        frozenset({"create"}),
        audience=lambda record, changes: frozenset({world.org_chair.pk}),
    )
    events.register(narrow)
    yield narrow
    events.unregister(narrow.name)


def test_an_event_narrower_than_its_consortium_reaches_only_its_audience(
    hooks: Hooks,
    receiver: Receiver,
    narrow_type: events.EventType,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_endpoint(hooks.world.chair, receiver.url("/chair"), ["test.narrow"])
    make_endpoint(hooks.member_admin, receiver.url("/member"), ["test.narrow", "motion.opened"])
    with django_capture_on_commit_callbacks(execute=True):
        propose(hooks.world)
    assert sorted((r.path, json.loads(r.body)["type"]) for r in receiver.received) == [
        ("/chair", "test.narrow"),
        ("/member", "motion.opened"),
    ]


def test_a_rolled_back_change_sends_nothing(
    hooks: Hooks, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import transaction

    make_endpoint(hooks.member_admin, receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                propose(hooks.world)
                raise RuntimeError("the rest of the request failed")
        except RuntimeError:
            pass
    assert receiver.received == []
    assert not Event.objects.exists()


def test_listening_costs_no_query_in_the_transaction_and_one_after_it_without_subscribers(
    world: World, django_capture_on_commit_callbacks: Any, django_assert_num_queries: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        propose(world)
    ours = [c for c in callbacks if getattr(c, "func", None) is services.events_fan_out]
    assert len(ours) == 1
    with django_assert_num_queries(1):  # who subscribes? nobody
        assert ours[0]() == 0
    # An event webhooks do not carry (a read) schedules nothing at all.
    from audit.models import AuditEvent

    read = AuditEvent(object_type="consortia.consortium", action="view", consortium_id=1)
    with django_assert_num_queries(0):
        assert events.matched_in([read]) == []


def test_a_fan_out_lost_with_its_process_is_caught_up_once(
    hooks: Hooks, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    make_endpoint(hooks.member_admin, receiver.url(), ["motion.opened"])
    # The change commits, then its process dies before the fan-out: callbacks never run.
    with django_capture_on_commit_callbacks(execute=False) as lost:
        motion = propose(hooks.world)
    assert not Message.objects.exists()
    # Its own process may still be at it within the grace minute: the sweeper waits.
    assert services.events_catch_up(timezone.now()) == 0
    later = timezone.now() + services.CATCH_UP_GRACE + datetime.timedelta(seconds=5)
    assert services.events_catch_up(later) == 1
    assert services.events_catch_up(later) == 0
    # Had the process only been slow, its fan-out now adds nothing either.
    fan_out = next(c for c in lost if getattr(c, "func", None) is services.events_fan_out)
    assert fan_out() == 0
    message = Message.objects.get()
    assert message.event.audit_event_id == Event.objects.get().audit_event_id
    assert json.loads(message.event.body)["data"]["object"]["id"] == str(motion.pk)
    # Past the window, events are the trail's alone (old enough that nobody waits for them).
    assert services.events_catch_up(later + services.CATCH_UP_WINDOW) == 0


# Each event type from the service that really produces it. -----------------------------------


def test_executing_an_agreement_sends_its_status_changes_the_signature_request_and_execution(
    hooks: Hooks, deal: Deal, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    make_endpoint(hooks.member_admin, receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        version = execute(deal)
    found = [
        (p["type"], (p["data"]["changes"].get("status") or {}).get("after"))
        for p in payloads(receiver)
    ]
    assert found == [
        ("agreement.status_changed", "in_review"),
        ("agreement.status_changed", "approved"),
        ("agreement.status_changed", "out_for_signature"),
        ("agreement.signature_requested", "out_for_signature"),
        ("agreement.status_changed", "executed"),
        ("agreement.executed", "executed"),
    ]
    executed = payloads(receiver)[-1]["data"]
    assert executed["object"]["url"].endswith(f"/api/v1/agreement-versions/{version.pk}/")
    assert executed["related"]["url"].endswith(f"/api/v1/agreements/{deal.agreement.pk}/")


def test_a_board_decision_sends_allocation_decided(
    hooks: Hooks, grid: Grid, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    make_endpoint(hooks.member_admin, receiver.url(), ["allocation.decided"])
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
        allocations.request_decide(
            actor=grid.board_chair_org, request=request, decision="approve", reason="Fits"
        )
    (decided,) = payloads(receiver)
    assert decided["type"] == "allocation.decided"
    assert decided["data"]["changes"]["status"]["after"] == "approved"
    assert decided["data"]["object"]["url"].endswith(f"/api/v1/allocation-requests/{request.pk}/")


def test_a_sweep_sends_compliance_finding_opened(
    hooks: Hooks,
    compliance: Compliance,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_endpoint(hooks.member_admin, receiver.url(), ["compliance.finding_opened"])
    job = live_job(compliance, action="copy_raw")  # prohibited by the clause in force
    with django_capture_on_commit_callbacks(execute=True):
        opened = sweeps.sweep_consortium(job.consortium_id, NOW).opened
    found = payloads(receiver)
    assert opened >= 1
    assert len(found) == opened
    assert {p["type"] for p in found} == {"compliance.finding_opened"}
    assert found[0]["data"]["related"]["type"] == "compute.job"
    assert found[0]["data"]["related"]["url"].endswith(f"/api/v1/compliance/jobs/{job.pk}/")
    finding = found[0]["data"]["object"]
    assert finding["url"].endswith(f"/api/v1/compliance/findings/{finding['id']}/")


def test_resolving_a_finding_sends_compliance_finding_resolved(
    hooks: Hooks,
    compliance: Compliance,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_endpoint(hooks.member_admin, receiver.url(), ["compliance.finding_resolved"])
    handled = live_job(compliance, name="Handled by people", action="copy_raw")
    fixed = live_job(compliance, name="Fixed at the source", action="copy_raw")
    sweeps.sweep_consortium(handled.consortium_id, NOW)
    (finding,) = Finding.objects.filter(job=handled)
    with django_capture_on_commit_callbacks(execute=True):
        sweeps.finding_acknowledge(actor=compliance.grid.technician, finding=finding)
    assert payloads(receiver) == [], "an acknowledgement is not a resolution"
    with django_capture_on_commit_callbacks(execute=True):
        sweeps.finding_resolve(
            actor=compliance.grid.technician, finding=finding, note="Export cancelled"
        )
    (by_people,) = payloads(receiver)
    assert by_people["type"] == "compliance.finding_resolved"
    assert by_people["data"]["object"]["id"] == str(finding.pk)
    assert by_people["data"]["object"]["url"].endswith(f"/api/v1/compliance/findings/{finding.pk}/")
    assert by_people["data"]["changes"]["status"] == {"before": "acknowledged", "after": "resolved"}
    assert by_people["data"]["reason"] == "Export cancelled"

    # The other job no longer copies raw data: the next sweep resolves its finding, and says so.
    Job.objects.filter(pk=fixed.pk).update(action="train")
    (left,) = Finding.objects.filter(job=fixed)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweeps.sweep_consortium(fixed.consortium_id, NOW).resolved == 1
    by_sweep = payloads(receiver)[1]
    assert by_sweep["type"] == "compliance.finding_resolved"
    assert by_sweep["data"]["object"]["id"] == str(left.pk)
    assert by_sweep["data"]["changes"]["status"] == {"before": "open", "after": "resolved"}


def test_a_fair_share_alert_sends_usage_imbalance(
    hooks: Hooks, grid: Grid, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    world = grid.world
    for organisation, amount in ((world.org_chair, "300"), (world.org_member, "100")):
        contribution_record(
            actor=world.chair,
            pool=grid.pool,
            organisation=organisation,
            kind="capital",
            amount=Decimal(amount),
            contributed_on=datetime.date(2026, 1, 15),
        )
    on = datetime.date(2026, 6, 30)
    UsageRecord.objects.create(
        pool=grid.pool,
        site=grid.paris,
        organisation=world.org_member,
        day=on,
        gpu_hours=Decimal(100),
        reported_by=grid.technician,
    )
    make_endpoint(hooks.member_admin, receiver.url(), ["usage.imbalance"])
    with django_capture_on_commit_callbacks(execute=True):
        raised = check_alerts(grid.pool, on=on)
    (imbalance,) = payloads(receiver)
    assert len(raised) == 1
    assert imbalance["type"] == "usage.imbalance"
    assert imbalance["data"]["changes"]["kind"]["after"] == "overuse"
    assert imbalance["data"]["related"]["url"].endswith(f"/api/v1/pools/{grid.pool.pk}/fair-share/")
