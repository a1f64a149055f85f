"""Recording where copies of a consortium's data sets are stored.

A placement is a fact the sweeps hold to the data set's residency and terms, like a job: it
is recorded when a copy is made and ended when the copy is removed. Both are for the people
who may propose jobs (``services._require_job_rights``); each write is audited in its own
transaction and, once committed, queues a sweep of the consortium so a copy in the wrong
place shows up as a finding at once, and a removed one stops being one. Bad input raises a
ValidationError that names the field and writes nothing.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from agreements.models import Dataset
from alliance.errors import ConflictError
from audit.models import Action
from audit.services import audit_record
from compute.compliance.models import Placement
from compute.compliance.services import _require_job_rights
from compute.compliance.triggers import queue_sweep
from compute.models import Site
from consortia.models import Consortium, User

NOTE_LENGTH = 2_000


def _is_date(value: Any) -> bool:
    # A datetime is a date too, and would be stored cut to its day without a word.
    return isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)


def _pk(value: Any) -> Any:
    return getattr(value, "pk", value)


@transaction.atomic
def placement_record(
    *,
    actor: User,
    consortium: Consortium,
    dataset: Dataset | int,
    site: Site | int,
    since: datetime.date,
    until: datetime.date | None = None,
    note: str = "",
) -> Placement:
    """Record that a copy of ``dataset`` is stored at ``site`` from ``since`` (until the day
    before ``until``, when given)."""
    _require_job_rights(actor, consortium)
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    dataset_id, site_id = _pk(dataset), _pk(site)
    # Locked so that two records of the same copy cannot both pass the overlap check below.
    found_dataset = (
        Dataset.objects.select_for_update().filter(pk=dataset_id).first()
        if isinstance(dataset_id, int)
        else None
    )
    if found_dataset is None:
        error("dataset", f"Unknown dataset: {dataset_id}.")
    elif found_dataset.consortium_id != consortium.pk:
        error("dataset", "Not a dataset of this consortium.")
    found_site = Site.objects.filter(pk=site_id).first() if isinstance(site_id, int) else None
    if found_site is None:
        error("site", f"Unknown site: {site_id}.")
    if not _is_date(since):
        error("since", "A date.")
    if until is not None and not _is_date(until):
        error("until", "A date, or empty while the copy is there.")
    elif until is not None and _is_date(since) and until <= since:
        error("until", "A copy is removed after it was placed: a day after since.")
    note = note.strip()
    if len(note) > NOTE_LENGTH:
        error("note", f"At most {NOTE_LENGTH} characters.")
    if not errors:
        same_copy = Placement.objects.filter(dataset_id=dataset_id, site_id=site_id).filter(
            Q(until__isnull=True) | Q(until__gt=since)
        )
        if until is not None:
            same_copy = same_copy.filter(since__lt=until)
        if (overlapping := same_copy.order_by("since").first()) is not None:
            # Two rows for one copy would open every finding twice.
            error(
                "since",
                f"This copy is already recorded (placement {overlapping.pk}, since "
                f"{overlapping.since.isoformat()}): end it first, or record another period.",
            )
    if errors:
        raise ValidationError(errors)
    assert found_dataset is not None
    assert found_site is not None
    placement = Placement(
        consortium=consortium,
        dataset=found_dataset,
        site=found_site,
        since=since,
        until=until,
        note=note,
        recorded_by=actor,
    )
    placement.full_clean()
    placement.save()
    audit_record(
        action=Action.CREATE,
        actor=actor,
        consortium_id=consortium.pk,
        target=placement,
        changes={
            "dataset": {"before": None, "after": found_dataset.pk},
            "site": {"before": None, "after": found_site.pk},
            "since": {"before": None, "after": since.isoformat()},
            "until": {"before": None, "after": until.isoformat() if until else None},
        },
        reason=note,
    )
    queue_sweep(consortium.pk)
    return placement


@transaction.atomic
def placement_end(*, actor: User, placement: Placement, until: datetime.date) -> Placement:
    """Record that the copy is gone from ``until`` on (the first day it is no longer there).
    A placement is ended once: a wrong end is corrected by recording the copy again."""
    _require_job_rights(actor, placement.consortium)
    # Locked, and read again: another request may have ended it since the caller loaded it.
    placement = Placement.objects.select_for_update().get(pk=placement.pk)
    if placement.until is not None:
        raise ConflictError(
            f"This placement already ended on {placement.until.isoformat()}.",
            code="placement_ended",
        )
    if not _is_date(until):
        raise ValidationError({"until": "A date."})
    if until <= placement.since:
        raise ValidationError(
            {
                "until": "A copy is removed after it was placed: a day after "
                f"{placement.since.isoformat()}."
            }
        )
    placement.until = until
    placement.full_clean()
    placement.save(update_fields=["until"])
    audit_record(
        action=Action.TRANSITION,
        actor=actor,
        consortium_id=placement.consortium_id,
        target=placement,
        changes={"until": {"before": None, "after": until.isoformat()}},
    )
    queue_sweep(placement.consortium_id)
    return placement
