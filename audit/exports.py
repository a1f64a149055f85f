"""Exports of a consortium's audit events as JSON Lines or CSV.

Every file starts with what it is: the consortium, the filter, when it was made, and the
signed checkpoint it verifies against (sealed when the export began, so it covers every
event in the file), with the public key. Each event carries ``prev_hash`` and ``hash``, so
any event can be re-hashed offline (audit.canonical documents the serialisation), and an
unfiltered export can be checked link by link.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit import policy
from audit.canonical import HASHED_FIELDS, format_time
from audit.filters import AuditEventFilter
from audit.models import Action, AuditCheckpoint, AuditEvent, AuditExport, consortium_chain
from audit.services import audit_record, checkpoint_seal
from audit.tasks import audit_export_run as audit_export_run_task

PROGRESS_EVERY = 1000
# A run that has not finished in this long is presumed dead (its worker was killed) and may
# be claimed again; the file is always rewritten from scratch, so a second run is harmless.
STALE_AFTER = timedelta(minutes=30)
COLUMNS = ("id", *HASHED_FIELDS, "prev_hash", "hash")


def export_path(export: AuditExport) -> Path:
    return Path(settings.AUDIT_EXPORT_ROOT) / export.file_name


@transaction.atomic
def audit_export_create(
    *, actor: Any, consortium_id: int, format: str, filters: dict[str, str]
) -> AuditExport:
    """Ask for an export; a task writes the file and shows its progress on the export's page."""
    policy.current().require(actor, consortium_id, full=True)
    if format not in AuditExport.Format.values:
        raise ValidationError({"format": f"Choose one of {', '.join(AuditExport.Format.values)}."})
    filterset = AuditEventFilter(filters, queryset=AuditEvent.objects.none())
    if not filterset.is_valid():
        raise ValidationError(dict(filterset.errors.items()))
    export = AuditExport.objects.create(
        consortium_id=consortium_id,
        requested_by_id=actor.pk,
        requested_by_display=str(actor.username),
        format=format,
        filters=filterset.applied(),
    )
    audit_record(
        action=Action.EXPORT,
        actor=actor,
        consortium_id=consortium_id,
        target=export,
        changes={"filters": export.filters, "format": format},
    )
    export_id = export.pk

    def start_export() -> None:
        audit_export_run_task.delay(export_id)

    transaction.on_commit(start_export, robust=True)
    return export


def _claim(export_id: int) -> bool:
    """One conditional UPDATE: a pending export, or one whose run went stale, becomes ours."""
    now = timezone.now()
    claimable = Q(status=AuditExport.Status.PENDING) | Q(
        status=AuditExport.Status.RUNNING, started_at__lt=now - STALE_AFTER
    )
    claimed = AuditExport.objects.filter(claimable, pk=export_id).update(
        status=AuditExport.Status.RUNNING,
        started_at=now,
        finished_at=None,
        rows_written=0,
        error="",
    )
    return bool(claimed)


def audit_export_run(*, export_id: int) -> bool:
    """Write the export's file. Returns False when another run owns it or it is finished."""
    if not _claim(export_id):
        return False
    export = AuditExport.objects.get(pk=export_id)
    try:
        _write(export)
    except Exception as error:
        AuditExport.objects.filter(pk=export_id).update(
            status=AuditExport.Status.FAILED, error=str(error)[:1000], finished_at=timezone.now()
        )
        raise
    return True


def _write(export: AuditExport) -> None:
    chain = consortium_chain(export.consortium_id)
    checkpoint_seal(chains=[chain])
    checkpoint = AuditCheckpoint.objects.filter(chain=chain).order_by("-size").first()
    upper = checkpoint.size if checkpoint else 0
    events = AuditEventFilter(
        export.filters, queryset=AuditEvent.objects.filter(chain=chain, sequence__lte=upper)
    ).qs.order_by("sequence")
    total = events.count()
    AuditExport.objects.filter(pk=export.pk).update(rows_total=total)

    extension = "jsonl" if export.format == AuditExport.Format.JSONL else "csv"
    file_name = f"audit-consortium-{export.consortium_id}-export-{export.pk}.{extension}"
    final = Path(settings.AUDIT_EXPORT_ROOT) / file_name
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.with_suffix(final.suffix + ".partial")
    digest = hashlib.sha256()
    header = _header(export, checkpoint, total)
    with partial.open("w", encoding="utf-8", newline="") as handle:
        for chunk in _render(
            export.format, header, events.values_list(*COLUMNS).iterator(chunk_size=2000), export.pk
        ):
            handle.write(chunk)
            digest.update(chunk.encode("utf-8"))
    os.replace(partial, final)
    AuditExport.objects.filter(pk=export.pk).update(
        status=AuditExport.Status.DONE,
        rows_written=total,
        checkpoint=checkpoint,
        file_name=file_name,
        sha256=digest.hexdigest(),
        finished_at=timezone.now(),
    )


def _header(export: AuditExport, checkpoint: AuditCheckpoint | None, total: int) -> dict[str, Any]:
    from audit.signing import public_key_pem

    return {
        "alliance_audit_export": {
            "consortium_id": export.consortium_id,
            "chain": consortium_chain(export.consortium_id),
            "filters": export.filters,
            "events": total,
            "requested_by": export.requested_by_display,
            "generated_at": format_time(timezone.now()),
            "checkpoint": None
            if checkpoint is None
            else {
                "size": checkpoint.size,
                "head_hash": checkpoint.head_hash,
                "sealed_at": format_time(checkpoint.sealed_at),
                "note": checkpoint.note,
                "signature": checkpoint.signature,
                "key_id": checkpoint.key_id,
            },
            "public_key": public_key_pem(),
            "hashing": "hash = sha256(prev_hash + canonical JSON of the hashed fields: keys sorted, "
            "no spaces, UTF-8, times as YYYY-MM-DDTHH:MM:SS.ffffffZ; 'changes' is already canonical "
            "JSON text and enters as it is)",
        }
    }


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: format_time(value) if isinstance(value, datetime.datetime) else value
        for key, value in row.items()
    }


def _render(
    format: str, header: dict[str, Any], rows: Iterator[tuple[Any, ...]], export_id: int
) -> Iterator[str]:
    if format == AuditExport.Format.JSONL:
        yield json.dumps(header, ensure_ascii=False, sort_keys=True) + "\n"
    else:
        meta = header["alliance_audit_export"]
        for key in (
            "consortium_id",
            "chain",
            "filters",
            "events",
            "generated_at",
            "checkpoint",
            "public_key",
        ):
            yield (
                "# " + key + ": " + json.dumps(meta[key], ensure_ascii=False, sort_keys=True) + "\n"
            )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if format == AuditExport.Format.CSV:
        writer.writerow(COLUMNS)
        yield buffer.getvalue()
    for written, values in enumerate(rows, start=1):
        row = _jsonable(dict(zip(COLUMNS, values, strict=True)))
        if format == AuditExport.Format.JSONL:
            yield json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n"
        else:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(row[column] for column in COLUMNS)
            yield buffer.getvalue()
        if written % PROGRESS_EVERY == 0:
            AuditExport.objects.filter(pk=export_id).update(rows_written=written)


def audit_export_open(*, actor: Any, export: AuditExport) -> Path:
    """The finished export's file, for download; the download is itself an audit event."""
    policy.current().require(actor, export.consortium_id, full=True)
    path = export_path(export)
    audit_record(
        action=Action.DOWNLOAD,
        actor=actor,
        consortium_id=export.consortium_id,
        target=export,
        changes={"sha256": export.sha256},
    )
    return path
