"""Allocation requests: a member asks, the capacity board decides (or puts a large request to
the steering committee's vote), and an approval becomes reservations in the same transaction.

Placement is automatic and deterministic: the granted GPUs go to the request's sites in
order, each taking what it has free over the whole window, under the pool's lock, so twenty
approvals racing for the last GPUs cannot together reserve more than exists.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from agreements.models import Dataset
from alliance.errors import AccessDeniedError, ConflictError
from audit.models import Action
from audit.services import audit_record
from compute import capacity, directory, notifications, permissions
from compute.models import (
    LONGEST_RESERVATION,
    AllocationRequest,
    Pool,
    Reservation,
    Site,
    gpu_hours,
)
from compute.permissions import ComputeAction
from consortia import planning_services
from consortia.models import Consortium, Motion, MotionKind, User

DEFAULT_VOTE_PERIOD = datetime.timedelta(days=7)


class Decision:
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"
    ALL = (APPROVE, REJECT, REQUEST_CHANGES)


def _whole_gpus(
    gpus: int | None,
    hours: Decimal | None,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
) -> tuple[int | None, dict[str, str]]:
    """A request names GPUs over a window, or GPU-hours within one (rounded up to whole GPUs
    held for the window)."""
    if (gpus is None) == (hours is None):
        return None, {"gpus": "Ask for a number of GPUs or a number of GPU-hours, not both."}
    if gpus is not None:
        return (gpus, {}) if gpus > 0 else (None, {"gpus": "Ask for at least one GPU."})
    assert hours is not None
    window = Decimal((ends_at - starts_at).total_seconds()) / Decimal(3600)
    if hours <= 0 or window <= 0:
        return None, {"gpu_hours": "Ask for a positive number of GPU-hours over a window."}
    return int((hours / window).to_integral_value(rounding=ROUND_CEILING)), {}


def _check_terms(
    pool: Pool,
    gpus: int | None,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    purpose: str,
    sites: list[Site],
    datasets: list[Dataset],
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if ends_at <= starts_at:
        errors["ends_at"] = "The window ends after it starts."
    elif ends_at - starts_at > LONGEST_RESERVATION:
        errors["ends_at"] = "Ask for a year at most; ask again for what follows."
    if starts_at < timezone.now() - datetime.timedelta(hours=1):
        errors["starts_at"] = "Capacity is requested for the future, not the past."
    if not purpose.strip():
        errors["purpose"] = "Say what the GPUs are for: the board weighs requests by purpose."
    if not sites:
        errors["sites"] = "Name the sites the work may run at."
    else:
        pool_sites = set(pool.sites.values_list("pk", flat=True))
        usable = set(directory.usable_sites(pool.consortium_id).values_list("pk", flat=True))
        outside = [site.name for site in sites if site.pk not in pool_sites]
        unapproved = [site.name for site in sites if site.pk in pool_sites - usable]
        if outside:
            errors["sites"] = f"Not sites of {pool.name}: {', '.join(outside)}."
        elif unapproved:
            errors["sites"] = f"No longer approved for this consortium: {', '.join(unapproved)}."
    foreign = [dataset.name for dataset in datasets if dataset.consortium_id != pool.consortium_id]
    if foreign:
        errors["datasets"] = f"Not datasets of this consortium: {', '.join(foreign)}."
    if gpus is not None and not errors.get("sites") and ends_at > starts_at:
        most = sum(
            capacity.tightest(pool, site, starts_at, ends_at, from_reserve=True).capacity
            for site in sites
        )
        if gpus > most:
            errors["gpus"] = (
                f"The sites named have {most} {pool.gpu_type} GPUs in all over that window; "
                f"{gpus} cannot be granted."
            )
    return errors


@transaction.atomic
def request_submit(
    *,
    actor: User,
    pool: Pool,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    purpose: str,
    sites: Iterable[Site],
    datasets: Iterable[Dataset] = (),
    gpus: int | None = None,
    gpu_hours: Decimal | None = None,
) -> AllocationRequest:
    """A request by the actor's organisation, which must be an active member."""
    permissions.require(actor, ComputeAction.REQUEST, pool.consortium_id, pool)
    chosen_sites, chosen_datasets = list(sites), list(datasets)
    whole, errors = _whole_gpus(gpus, gpu_hours, starts_at, ends_at)
    errors |= _check_terms(pool, whole, starts_at, ends_at, purpose, chosen_sites, chosen_datasets)
    if errors:
        raise ValidationError(errors)
    assert whole is not None
    assert actor.organisation_id is not None  # REQUEST is only held through a membership
    Consortium.objects.select_for_update().get(pk=pool.consortium_id)
    number = (
        AllocationRequest.objects.filter(consortium_id=pool.consortium_id).aggregate(
            last=Max("number")
        )["last"]
        or 0
    ) + 1
    request = AllocationRequest.objects.create(
        consortium_id=pool.consortium_id,
        number=number,
        pool=pool,
        organisation_id=actor.organisation_id,
        requested_by=actor,
        gpus=whole,
        starts_at=starts_at,
        ends_at=ends_at,
        purpose=purpose.strip(),
    )
    request.sites.set(chosen_sites)
    request.datasets.set(chosen_datasets)
    audit_record(
        action=Action.CREATE,
        actor=actor,
        consortium_id=pool.consortium_id,
        target=request,
        related=pool,
        changes={
            "gpus": {"before": None, "after": whole},
            "window": {"before": None, "after": [starts_at.isoformat(), ends_at.isoformat()]},
            "sites": {"before": None, "after": sorted(site.name for site in chosen_sites)},
            "datasets": {"before": None, "after": sorted(d.name for d in chosen_datasets)},
        },
    )
    notifications.submitted(request)
    return request


def _require_requester(actor: User, request: AllocationRequest) -> None:
    permissions.require(actor, ComputeAction.REQUEST, request.consortium_id, request)
    if actor.organisation_id != request.organisation_id:
        raise AccessDeniedError(
            "Only people of the requesting organisation change its request.",
            consortium_id=request.consortium_id,
            object_type="compute.allocationrequest",
            object_id=str(request.pk),
            action="revise_request",
        )


def _locked(request: AllocationRequest) -> AllocationRequest:
    return (
        AllocationRequest.objects.select_for_update(of=("self",))
        .select_related("pool")
        .get(pk=request.pk)
    )


@transaction.atomic
def request_revise(
    *,
    actor: User,
    request: AllocationRequest,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    purpose: str,
    sites: Iterable[Site],
    datasets: Iterable[Dataset] = (),
    gpus: int | None = None,
    gpu_hours: Decimal | None = None,
) -> AllocationRequest:
    """Answer the board's request for changes; the request goes back to the board."""
    _require_requester(actor, request)
    request = _locked(request)
    if request.status not in (
        AllocationRequest.Status.SUBMITTED,
        AllocationRequest.Status.CHANGES_REQUESTED,
    ):
        raise ConflictError(
            f"This request is {request.get_status_display().lower()}; it can no longer change.",
            code="request_decided",
        )
    chosen_sites, chosen_datasets = list(sites), list(datasets)
    whole, errors = _whole_gpus(gpus, gpu_hours, starts_at, ends_at)
    errors |= _check_terms(
        request.pool, whole, starts_at, ends_at, purpose, chosen_sites, chosen_datasets
    )
    if errors:
        raise ValidationError(errors)
    assert whole is not None
    before = {
        "gpus": request.gpus,
        "window": [request.starts_at.isoformat(), request.ends_at.isoformat()],
        "status": request.status,
    }
    request.gpus, request.starts_at, request.ends_at = whole, starts_at, ends_at
    request.purpose = purpose.strip()
    request.status = AllocationRequest.Status.SUBMITTED
    request.save()
    request.sites.set(chosen_sites)
    request.datasets.set(chosen_datasets)
    after = {
        "gpus": whole,
        "window": [starts_at.isoformat(), ends_at.isoformat()],
        "status": request.status,
    }
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        consortium_id=request.consortium_id,
        target=request,
        changes={key: {"before": before[key], "after": after[key]} for key in before},
    )
    notifications.submitted(request)
    return request


@transaction.atomic
def request_withdraw(*, actor: User, request: AllocationRequest) -> AllocationRequest:
    _require_requester(actor, request)
    request = _locked(request)
    if not request.is_open:
        raise ConflictError(
            f"This request is {request.get_status_display().lower()}; release its reservations "
            "instead.",
            code="request_decided",
        )
    if request.status == AllocationRequest.Status.AWAITING_VOTE:
        raise ConflictError(
            "The steering committee is voting on this request; it stands until the vote closes.",
            code="request_under_vote",
        )
    return _transition(request, AllocationRequest.Status.WITHDRAWN, actor, "")


def _transition(
    request: AllocationRequest, status: str, actor: User | None, reason: str
) -> AllocationRequest:
    before = request.status
    request.status = status
    request.decision_reason = reason
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.save()
    audit_record(
        action=Action.TRANSITION,
        actor=actor,
        consortium_id=request.consortium_id,
        target=request,
        changes={
            "status": {"before": before, "after": status},
            **(
                {"granted_gpus": {"before": None, "after": request.granted_gpus}}
                if request.granted_gpus is not None
                else {}
            ),
        },
        reason=reason,
    )
    notifications.decided(request)
    if status in (AllocationRequest.Status.APPROVED, AllocationRequest.Status.PARTLY_APPROVED):
        planning_services.milestone_reached(
            consortium_id=request.consortium_id,
            key="first-allocation",
            notes=f"Capacity request {request.number} of {request.organisation} approved.",
        )
    return request


def _require_board(actor: User, request: AllocationRequest) -> None:
    permissions.require(actor, ComputeAction.DECIDE, request.consortium_id, request)
    if actor.organisation_id == request.organisation_id and not actor.is_superuser:
        raise AccessDeniedError(
            "A board member does not decide their own organisation's request; another member "
            "of the board decides it.",
            consortium_id=request.consortium_id,
            object_type="compute.allocationrequest",
            object_id=str(request.pk),
            action="decide_allocation",
        )


def place(request: AllocationRequest) -> list[Reservation]:
    """Reserve the granted GPUs at the request's sites, in order, under the pool's lock (the
    caller is inside the deciding transaction). All or nothing."""
    assert request.granted_gpus
    assert request.granted_starts_at
    assert request.granted_ends_at
    pool = capacity.lock(request.pool)
    start, end = request.granted_starts_at, request.granted_ends_at
    sites = list(request.sites.order_by("name"))
    # One look at each site under the lock; hold() then records what that look found room for.
    free = {
        site.pk: max(
            0, capacity.tightest(pool, site, start, end, from_reserve=request.from_reserve).free
        )
        for site in sites
    }
    if sum(free.values()) < request.granted_gpus:
        by_site = ", ".join(f"{site.name} {free[site.pk]}" for site in sites)
        kept = (
            ""
            if request.from_reserve
            else f" while the board's {pool.board_reserve:.0%} reserve is kept"
        )
        raise ConflictError(
            f"Only {sum(free.values())} GPUs are free over the whole window ({by_site}){kept}; "
            f"{request.granted_gpus} cannot be reserved. Grant fewer GPUs or another window.",
            code="capacity_exhausted",
        )
    remaining = request.granted_gpus
    reservations = []
    for site in sites:
        take = min(free[site.pk], remaining)
        if take:
            reservations.append(
                capacity.hold(
                    pool=pool,
                    site=site,
                    request=request,
                    gpus=take,
                    starts_at=start,
                    ends_at=end,
                )
            )
            remaining -= take
        if not remaining:
            break
    return reservations


@transaction.atomic
def request_decide(
    *,
    actor: User,
    request: AllocationRequest,
    decision: str,
    reason: str = "",
    gpus: int | None = None,
    starts_at: datetime.datetime | None = None,
    ends_at: datetime.datetime | None = None,
    from_reserve: bool = False,
    vote_closes_at: datetime.datetime | None = None,
) -> AllocationRequest:
    """The board approves (all, or fewer GPUs or a shorter window), rejects or asks for
    changes. An approval above the pool's vote threshold opens a steering-committee motion
    instead, with the board's terms; the motion's result approves or rejects."""
    _require_board(actor, request)
    request = _locked(request)
    if request.status != AllocationRequest.Status.SUBMITTED:
        raise ConflictError(
            f"This request is {request.get_status_display().lower()}; the board decides "
            "requests waiting for it.",
            code="request_not_waiting",
        )
    if decision not in Decision.ALL:
        raise ValidationError({"decision": f"Choose one of: {', '.join(Decision.ALL)}."})
    if decision != Decision.APPROVE:
        if not reason.strip():
            raise ValidationError({"reason": "Say why, so the member knows what to do next."})
        status = (
            AllocationRequest.Status.REJECTED
            if decision == Decision.REJECT
            else AllocationRequest.Status.CHANGES_REQUESTED
        )
        return _transition(request, status, actor, reason.strip())
    granted = gpus if gpus is not None else request.gpus
    start = starts_at or request.starts_at
    end = ends_at or request.ends_at
    errors: dict[str, str] = {}
    if not 0 < granted <= request.gpus:
        errors["gpus"] = f"Grant between 1 and the {request.gpus} GPUs asked for."
    if not request.starts_at <= start < end <= request.ends_at:
        errors["ends_at"] = "Grant a window inside the one asked for."
    if errors:
        raise ValidationError(errors)
    request.granted_gpus, request.granted_starts_at, request.granted_ends_at = granted, start, end
    request.from_reserve = from_reserve
    if gpu_hours(granted, start, end) > request.pool.vote_above_gpu_hours:
        return _refer_to_vote(actor, request, reason.strip(), vote_closes_at)
    place(request)
    partly = granted < request.gpus or start != request.starts_at or end != request.ends_at
    status = (
        AllocationRequest.Status.PARTLY_APPROVED if partly else AllocationRequest.Status.APPROVED
    )
    return _transition(request, status, actor, reason.strip())


def _refer_to_vote(
    actor: User,
    request: AllocationRequest,
    reason: str,
    closes_at: datetime.datetime | None,
) -> AllocationRequest:
    from consortia.governance import services as governance

    request.status = AllocationRequest.Status.AWAITING_VOTE
    request.decision_reason = reason
    request.save()
    motion = governance.motion_propose(
        actor=actor,
        consortium=request.consortium,
        kind=MotionKind.APPROVE_ALLOCATION,
        title=f"Approve capacity request {request.number} of {request.organisation}",
        text=(
            f"The capacity board recommends granting {request.granted_gpus} "
            f"{request.pool.gpu_type} GPUs from {request.granted_starts_at:%d %b %Y %H:%M} to "
            f"{request.granted_ends_at:%d %b %Y %H:%M} UTC ({request.granted_gpu_hours} "
            f"GPU-hours, above the pool's {request.pool.vote_above_gpu_hours} GPU-hour "
            f"threshold for a vote).\n\nPurpose: {request.purpose}\n\n{reason}"
        ).strip(),
        subject_id=request.pk,
        closes_at=closes_at or timezone.now() + DEFAULT_VOTE_PERIOD,
        referral=True,
    )
    request.motion = motion
    request.save(update_fields=["motion"])
    audit_record(
        action=Action.TRANSITION,
        actor=actor,
        consortium_id=request.consortium_id,
        target=request,
        related=motion,
        changes={
            "status": {"before": "submitted", "after": request.status},
            "granted_gpus": {"before": None, "after": request.granted_gpus},
        },
        reason=reason,
    )
    return request


@transaction.atomic
def reservation_release(*, actor: User, reservation: Reservation, reason: str) -> Reservation:
    """Give GPUs back: the board frees them (before lowering capacity, say), or the holder's
    people hand back what they no longer need."""
    consortium_id = reservation.pool.consortium_id
    board = permissions.can(actor, ComputeAction.DECIDE, consortium_id)
    holder = (
        permissions.can(actor, ComputeAction.REQUEST, consortium_id)
        and actor.organisation_id == reservation.organisation_id
    )
    if not (board or holder):
        permissions.require(actor, ComputeAction.DECIDE, consortium_id, reservation)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the GPUs are released."})
    reservation = Reservation.objects.select_for_update().get(pk=reservation.pk)
    if reservation.status != Reservation.Status.ACTIVE:
        raise ConflictError("This reservation is already released.", code="already_released")
    reservation.status = Reservation.Status.RELEASED
    reservation.save(update_fields=["status"])
    audit_record(
        action=Action.TRANSITION,
        actor=actor,
        consortium_id=consortium_id,
        target=reservation,
        related=reservation.request,
        changes={"status": {"before": "active", "after": "released"}},
        reason=reason.strip(),
    )
    return reservation


# The steering committee's side: what a motion about an allocation request does.


def request_under_vote(consortium: Any, subject_id: Any) -> tuple[str, str, int | None]:
    request = (
        AllocationRequest.objects.filter(
            pk=subject_id,
            consortium=consortium,
            status=AllocationRequest.Status.AWAITING_VOTE,
        )
        .select_related("organisation")
        .first()
        if str(subject_id).isdigit()
        else None
    )
    if request is None:
        raise ValidationError(
            {"subject": "Name a capacity request that the board has put to the vote."}
        )
    if Motion.objects.filter(
        consortium=consortium,
        kind=MotionKind.APPROVE_ALLOCATION,
        subject_id=str(request.pk),
        status=Motion.Status.OPEN,
    ).exists():
        raise ValidationError({"subject": "A motion on this request is already open."})
    # The requesting member votes on its own request like any other: the board has already
    # weighed it, and recusing it would let the others decide its capacity alone.
    return f"Capacity request {request.number} of {request.organisation}", str(request.pk), None


def dataset_owners(consortium: Any, subject_id: Any) -> set[int]:
    """The owners of the data sets a request will use hold a binding veto over it: the
    consortium cannot vote capacity onto their data against them."""
    return set(
        Dataset.objects.filter(
            allocation_requests__pk=subject_id, consortium=consortium
        ).values_list("owner_id", flat=True)
    )


def _motion_request(motion: Motion) -> AllocationRequest:
    return AllocationRequest.objects.select_related("pool", "consortium", "organisation").get(
        pk=motion.subject_id,
        consortium_id=motion.consortium_id,
        status=AllocationRequest.Status.AWAITING_VOTE,
    )


def approved_by_motion(motion: Motion) -> None:
    request = _motion_request(motion)
    request.motion = motion
    try:
        place(request)
    except ConflictError as error:
        # Raised as a validation error so the governance engine keeps the motion open with the
        # reason shown, and the board can grant less or another window.
        raise ValidationError(error.message) from error
    partly = (
        request.granted_gpus != request.gpus
        or request.granted_starts_at != request.starts_at
        or request.granted_ends_at != request.ends_at
    )
    status = (
        AllocationRequest.Status.PARTLY_APPROVED if partly else AllocationRequest.Status.APPROVED
    )
    _transition(request, status, None, f"Motion {motion.number} passed.")


def rejected_by_motion(motion: Motion) -> None:
    request = _motion_request(motion)
    reason = motion.outcome_reason.replace("_", " ")
    _transition(
        request,
        AllocationRequest.Status.REJECTED,
        None,
        f"Motion {motion.number} failed ({reason}).",
    )
