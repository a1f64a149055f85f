"""Usage as the sites report it: daily GPU-hours per member, pool and site.

Sites re-send reports (a late batch job, a corrected meter), so a report is an upsert on
(pool, organisation, site, day): sending the same rows twice leaves the same totals. A batch
is all-or-nothing: one bad row refuses the whole batch, with every bad row named, so a site
fixes its export once instead of discovering the errors one upload at a time.
"""

from __future__ import annotations

import bisect
import csv
import datetime
import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import audit_record
from compute import permissions
from compute.capacity import lock
from compute.models import CapacityChange, Pool, UsageRecord
from compute.permissions import ComputeAction
from consortia.models import Membership, User

MAX_ROWS = 50_000
CSV_COLUMNS = ("organisation", "site", "day", "gpu_hours")
# Members whose people may still run jobs: a suspended member's running work is still metered.
REPORTING_STATUSES = (Membership.Status.ACTIVE, Membership.Status.SUSPENDED)
HUNDREDTH = Decimal("0.01")
UTC = datetime.UTC

Key = tuple[int, int, datetime.date]  # organisation, site, day


@dataclass(frozen=True)
class IngestResult:
    """What a batch did: rows new to the ledger, rows that replaced an earlier report."""

    created: int
    replaced: int
    total_gpu_hours: Decimal

    @property
    def rows(self) -> int:
        return self.created + self.replaced


@dataclass(frozen=True)
class _Row:
    number: int
    organisation_id: int
    site_id: int
    day: datetime.date
    gpu_hours: Decimal


class _Directory:
    """The pool's members and sites, loaded once per batch, to resolve ids and exact names."""

    def __init__(self, pool: Pool) -> None:
        self.members: dict[int, tuple[str, str]] = {
            organisation_id: (name, status)
            for organisation_id, name, status in Membership.objects.filter(
                consortium_id=pool.consortium_id
            ).values_list("organisation_id", "organisation__name", "status")
        }
        self.member_names: dict[str, int] = {name: pk for pk, (name, _) in self.members.items()}
        self.sites: dict[int, str] = dict(pool.sites.values_list("pk", "name"))
        self.site_names: dict[str, list[int]] = defaultdict(list)
        for pk, name in self.sites.items():
            self.site_names[name].append(pk)

    def organisation(self, value: Any) -> tuple[int | None, str]:
        """(organisation id, "") or (None, why not)."""
        pk = _as_id(value)
        if pk is None:
            name = str(value).strip()
            if not name:
                return None, "the organisation is missing"
            if name not in self.member_names:
                return None, f"no member organisation is named {name!r}"
            pk = self.member_names[name]
        elif pk not in self.members and str(value).strip() in self.member_names:
            # A member whose name is all digits, given by name.
            pk = self.member_names[str(value).strip()]
        if pk not in self.members:
            return None, f"organisation {value} is not a member of this consortium"
        name, status = self.members[pk]
        if status not in REPORTING_STATUSES:
            return None, f"{name} is not an active or suspended member (it is {status})"
        return pk, ""

    def site(self, value: Any) -> tuple[int | None, str]:
        pk = _as_id(value)
        if pk is not None and pk in self.sites:
            return pk, ""
        name = str(value).strip()
        if not name:
            return None, "the site is missing"
        matches = self.site_names.get(name, [])
        if len(matches) == 1:
            return matches[0], ""
        if len(matches) > 1:
            return None, f"several of this pool's sites are named {name!r}: give the site's id"
        return None, f"site {value} is not one of this pool's sites"


def _as_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def _parse_day(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return None  # a day, not an instant: refuse rather than guess its time zone
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _parse_gpu_hours(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        # str() of a float is its shortest round-trip form: JSON's 0.1 becomes 0.1, not
        # 0.1000000000000000055511151231257827021181583404541015625.
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    try:
        # Meters report fractions of a second; the ledger keeps hundredths of a GPU-hour.
        return amount.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return amount  # too large to quantize: the capacity check refuses it by name


def _daily_capacity(pool: Pool, keys: set[tuple[int, datetime.date]]) -> dict[Any, Decimal]:
    """Each (site, day)'s capacity integrated over the UTC day: the same figure as
    ``capacity.capacity_gpu_hours(pool, day 00:00, next day 00:00, site)``, from one query
    rather than two per (site, day), since a back-filled year has hundreds of them."""
    steps: dict[int, list[tuple[datetime.datetime, int]]] = defaultdict(list)
    for site_id, effective_at, gpus in (
        CapacityChange.objects.filter(pool=pool, site_id__in={site for site, _ in keys})
        .order_by("effective_at")
        .values_list("site_id", "effective_at", "gpus")
    ):
        steps[site_id].append((effective_at, gpus))
    capacity: dict[Any, Decimal] = {}
    for site_id, day in keys:
        start = datetime.datetime.combine(day, datetime.time(), tzinfo=UTC)
        end = start + datetime.timedelta(days=1)
        changes = steps[site_id]
        index = bisect.bisect_right([at for at, _ in changes], start) - 1
        level = changes[index][1] if index >= 0 else 0
        cursor, total = start, Decimal(0)
        for at, gpus in changes[index + 1 :]:
            if at >= end:
                break
            total += level * Decimal((at - cursor).total_seconds()) / Decimal(3600)
            cursor, level = at, gpus
        total += level * Decimal((end - cursor).total_seconds()) / Decimal(3600)
        capacity[(site_id, day)] = total.quantize(Decimal("0.1"))
    return capacity


def _validate(pool: Pool, rows: Sequence[object]) -> list[_Row]:
    """Every row checked on its own, then against the others and the ledger; all the errors
    at once, as "row N: ..." with N counted from 1 (the CSV's header is not a row)."""
    if not rows:
        raise ValidationError({"rows": ["The report has no rows."]})
    if len(rows) > MAX_ROWS:
        raise ValidationError(
            {
                "rows": [
                    f"A report has at most {MAX_ROWS:,} rows; this one has {len(rows):,}. "
                    "Split it into several batches."
                ]
            }
        )
    directory = _Directory(pool)
    today = timezone.localdate()
    errors: list[str] = []
    parsed: list[_Row] = []
    first_seen: dict[Key, int] = {}
    for number, row in enumerate(rows, start=1):
        problems: list[str] = []
        if not isinstance(row, Mapping):
            errors.append(f"row {number}: expected organisation, site, day and gpu_hours")
            continue
        missing = [column for column in CSV_COLUMNS if row.get(column) in (None, "")]
        if missing:
            errors.append(f"row {number}: {', '.join(missing)} missing")
            continue
        organisation_id, why = directory.organisation(row["organisation"])
        if why:
            problems.append(why)
        site_id, why = directory.site(row["site"])
        if why:
            problems.append(why)
        day = _parse_day(row["day"])
        if day is None:
            problems.append(f"day {row['day']!r} is not a date (YYYY-MM-DD)")
        elif day > today:
            problems.append(f"day {day} is in the future: report usage once it happened")
        amount = _parse_gpu_hours(row["gpu_hours"])
        if amount is None:
            problems.append(f"gpu_hours {row['gpu_hours']!r} is not a number")
        elif amount < 0:
            problems.append(f"gpu_hours {amount} is negative: report what was used, 0 or more")
        if problems:
            errors.extend(f"row {number}: {problem}" for problem in problems)
            continue
        assert organisation_id is not None
        assert site_id is not None
        assert day is not None
        assert amount is not None
        key = (organisation_id, site_id, day)
        if key in first_seen:
            errors.append(
                f"row {number}: repeats row {first_seen[key]} (same organisation, site and day)"
            )
            continue
        first_seen[key] = number
        parsed.append(_Row(number, organisation_id, site_id, day, amount))
    if errors:
        raise ValidationError({"rows": errors})
    errors = _check_capacity(pool, parsed, directory)
    if errors:
        raise ValidationError({"rows": errors})
    return parsed


def _check_capacity(pool: Pool, rows: list[_Row], directory: _Directory) -> list[str]:
    """No row, and no site's day in all, may exceed what the site could deliver that day.
    The day's total counts the ledger's other members' rows too (a re-sent row replaces its
    own earlier figure, so that one is left out)."""
    capacity = _daily_capacity(pool, {(row.site_id, row.day) for row in rows})
    errors: list[str] = []
    for row in rows:
        limit = capacity[(row.site_id, row.day)]
        if row.gpu_hours > limit:
            errors.append(
                f"row {row.number}: {row.gpu_hours} GPU-hours is more than "
                f"{directory.sites[row.site_id]} could deliver on {row.day} ({limit} GPU-hours)"
            )
    if errors:
        return errors
    batch_keys = {(row.organisation_id, row.site_id, row.day) for row in rows}
    totals: dict[tuple[int, datetime.date], Decimal] = defaultdict(Decimal)
    numbers: dict[tuple[int, datetime.date], list[int]] = defaultdict(list)
    for row in rows:
        totals[(row.site_id, row.day)] += row.gpu_hours
        numbers[(row.site_id, row.day)].append(row.number)
    days = [day for _, day in totals]
    for organisation_id, site_id, day, amount in UsageRecord.objects.filter(
        pool=pool,
        site_id__in={site for site, _ in totals},
        day__gte=min(days),
        day__lte=max(days),
    ).values_list("organisation_id", "site_id", "day", "gpu_hours"):
        if (site_id, day) in totals and (organisation_id, site_id, day) not in batch_keys:
            totals[(site_id, day)] += amount
    for (site_id, day), total in sorted(totals.items(), key=lambda item: item[0][1]):
        if total > capacity[(site_id, day)]:
            listed = ", ".join(str(number) for number in numbers[(site_id, day)])
            errors.append(
                f"rows {listed}: with usage already recorded, {total} GPU-hours at "
                f"{directory.sites[site_id]} on {day} is more than the site could deliver "
                f"({capacity[(site_id, day)]} GPU-hours)"
            )
    return errors


@transaction.atomic
def usage_ingest(*, actor: User, pool: Pool, rows: Sequence[Mapping[str, Any]]) -> IngestResult:
    """Record a site's daily usage report: each row is ``{"organisation": id or exact name,
    "site": id or exact name, "day": "YYYY-MM-DD" or date, "gpu_hours": str or Decimal}``.

    A row already in the ledger for that organisation, site and day is replaced, never
    added to. Any invalid row refuses the whole batch (``ValidationError`` on "rows", one
    message per problem). The pool's lock makes concurrent reports for the pool take turns,
    so the capacity check sees every committed row."""
    permissions.require(actor, ComputeAction.REPORT_USAGE, pool.consortium_id, pool)
    pool = lock(pool)
    parsed = _validate(pool, rows)
    days = [row.day for row in parsed]
    existing = set(
        UsageRecord.objects.filter(
            pool=pool,
            organisation_id__in={row.organisation_id for row in parsed},
            site_id__in={row.site_id for row in parsed},
            day__gte=min(days),
            day__lte=max(days),
        ).values_list("organisation_id", "site_id", "day")
    )
    replaced = sum((row.organisation_id, row.site_id, row.day) in existing for row in parsed)
    now = timezone.now()
    UsageRecord.objects.bulk_create(
        [
            UsageRecord(
                pool=pool,
                organisation_id=row.organisation_id,
                site_id=row.site_id,
                day=row.day,
                gpu_hours=row.gpu_hours,
                reported_by=actor,
                # auto_now does not fire for the update half of an upsert.
                reported_at=now,
            )
            for row in parsed
        ],
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["pool", "organisation", "site", "day"],
        update_fields=["gpu_hours", "reported_by", "reported_at"],
    )
    total = sum((row.gpu_hours for row in parsed), Decimal(0))
    result = IngestResult(created=len(parsed) - replaced, replaced=replaced, total_gpu_hours=total)
    # audit.models.Action has no IMPORT; a report creates (or re-creates) ledger rows.
    audit_record(
        action=Action.CREATE,
        actor=actor,
        consortium_id=pool.consortium_id,
        target=pool,
        changes={
            "rows": len(parsed),
            "created": result.created,
            "replaced": result.replaced,
            "gpu_hours": str(total),
            "days": [min(days).isoformat(), max(days).isoformat()],
        },
    )
    return result


def usage_from_csv(file_text: str) -> list[dict[str, str]]:
    """Rows for ``usage_ingest`` from a CSV with the header organisation,site,day,gpu_hours.

    Organisations and sites may be ids or exact names; ``usage_ingest`` resolves them
    against the pool, so an unknown name is reported with the row's other problems. Row N
    of the errors is the N-th non-blank line after the header."""
    text = file_text.removeprefix("\ufeff")  # spreadsheets save UTF-8 with a byte-order mark
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        raise ValidationError(
            {"rows": [f"The file is empty: expected a header line {','.join(CSV_COLUMNS)}."]}
        )
    columns = [cell.strip().lower() for cell in header]
    if sorted(columns) != sorted(CSV_COLUMNS):
        raise ValidationError(
            {"rows": [f"The header is {','.join(columns)}; expected {','.join(CSV_COLUMNS)}."]}
        )
    rows: list[dict[str, str]] = []
    errors: list[str] = []
    number = 0
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are not rows, so row N here is row N in usage_ingest
        number += 1
        if number > MAX_ROWS:
            raise ValidationError(
                {"rows": [f"A report has at most {MAX_ROWS:,} rows: split the file."]}
            )
        if len(cells) != len(columns):
            errors.append(f"row {number}: {len(cells)} values, expected {len(columns)}")
            continue
        rows.append(dict(zip(columns, (cell.strip() for cell in cells), strict=True)))
    if errors:
        raise ValidationError({"rows": errors})
    return rows
