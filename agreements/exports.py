"""Bulk export: a ZIP of a consortium's executed agreements, each its sealed PDF, with a
``manifest.json`` (agreement, version, content hash, file hash, signers) for records systems.
Built by a task that shows its progress; re-running it rewrites the file from scratch."""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from datetime import timedelta
from typing import Any

from django.core.files import File
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from agreements import sealing
from agreements.models import AgreementExport, SignedDocument
from alliance.errors import AccessDeniedError
from audit.models import Action
from audit.services import audit_record
from consortia import permissions as consortium_permissions
from consortia.models import Consortium, Role, User

DIRECTORY = "agreements/exports"
EXPORTERS = frozenset({Role.CHAIR, Role.LEGAL, Role.AUDITOR})
STALE_AFTER = timedelta(minutes=30)


def may_export(actor: Any, consortium_id: int) -> bool:
    if actor.is_superuser:
        return True
    return bool(consortium_permissions.standing(actor, consortium_id).roles & EXPORTERS)


@transaction.atomic
def export_create(*, actor: User, consortium: Consortium) -> AgreementExport:
    if not may_export(actor, consortium.pk):
        raise AccessDeniedError(
            "Only the chair, legal people and auditors export the consortium's agreements.",
            consortium_id=consortium.pk,
            object_type="consortia.consortium",
            object_id=str(consortium.pk),
            action="export_agreements",
        )
    export = AgreementExport.objects.create(consortium=consortium, requested_by=actor)
    audit_record(action=Action.EXPORT, actor=actor, consortium_id=consortium.pk, target=export)
    from agreements.tasks import agreements_export_run

    export_id = export.pk
    transaction.on_commit(lambda: agreements_export_run.delay(export_id), robust=True)
    return export


def _claim(export_id: int) -> bool:
    now = timezone.now()
    claimable = Q(status=AgreementExport.Status.PENDING) | Q(
        status=AgreementExport.Status.RUNNING, started_at__lt=now - STALE_AFTER
    )
    return bool(
        AgreementExport.objects.filter(claimable, pk=export_id).update(
            status=AgreementExport.Status.RUNNING,
            started_at=now,
            documents_written=0,
            error="",
        )
    )


def export_run(*, export_id: int) -> bool:
    if not _claim(export_id):
        return False
    export = AgreementExport.objects.get(pk=export_id)
    try:
        _write(export)
    except Exception as error:
        AgreementExport.objects.filter(pk=export_id).update(
            status=AgreementExport.Status.FAILED,
            error=str(error)[:1000],
            finished_at=timezone.now(),
        )
        raise
    return True


def _write(export: AgreementExport) -> None:
    documents = list(
        SignedDocument.objects.filter(
            state=SignedDocument.State.SEALED, version__agreement__consortium=export.consortium
        )
        .select_related("version__agreement")
        .order_by("version__agreement__title", "version__number")
    )
    AgreementExport.objects.filter(pk=export.pk).update(documents_total=len(documents))
    manifest: dict[str, Any] = {
        "consortium": {"id": export.consortium_id, "name": export.consortium.name},
        "exported_at": timezone.now().isoformat(),
        "export_id": export.pk,
        "agreements": [],
    }
    with tempfile.TemporaryFile() as scratch:
        with zipfile.ZipFile(scratch, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for written, document in enumerate(documents, start=1):
                version = document.version
                agreement = version.agreement
                name = f"{agreement.pk}-{slugify(agreement.title)[:60]}-v{version.number}.pdf"
                archive.writestr(name, sealing.open_sealed(document))
                manifest["agreements"].append(
                    {
                        "agreement_id": agreement.pk,
                        "title": agreement.title,
                        "kind": agreement.kind,
                        "status": agreement.status,
                        "version_id": version.pk,
                        "version": version.number,
                        "content_hash": version.content_hash,
                        "executed_at": document.completion["executed_at"],
                        "file": name,
                        "sha256": document.sha256,
                        "signers": [
                            {key: item[key] for key in ("signatory", "organisation", "signed_at")}
                            for item in document.completion["signatures"]
                        ],
                    }
                )
                AgreementExport.objects.filter(pk=export.pk).update(documents_written=written)
            archive.writestr(
                "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True)
            )
        scratch.seek(0)
        digest = hashlib.sha256()
        for chunk in iter(lambda: scratch.read(1 << 20), b""):
            digest.update(chunk)
        scratch.seek(0)
        storage = storages["default"]
        name = f"{DIRECTORY}/consortium-{export.consortium_id}-agreements-{export.pk}.zip"
        if storage.exists(name):
            storage.delete(name)
        stored = storage.save(name, File(scratch))
    AgreementExport.objects.filter(pk=export.pk).update(
        status=AgreementExport.Status.DONE,
        file_name=stored,
        sha256=digest.hexdigest(),
        finished_at=timezone.now(),
    )


def export_open(*, actor: User, export: AgreementExport) -> Any:
    """The ZIP for download; the download is recorded."""
    audit_record(
        action=Action.DOWNLOAD,
        actor=actor,
        consortium_id=export.consortium_id,
        target=export,
        changes={"sha256": {"before": None, "after": export.sha256}},
    )
    return storages["default"].open(export.file_name, "rb")


def get_export_for(actor: User, pk: Any) -> AgreementExport:
    """404 outside the consortium; 403 inside it for people who may not export."""
    from alliance.errors import NotVisibleError

    export = AgreementExport.objects.select_related("consortium").filter(pk=pk).first()
    visible = export is not None and (
        actor.is_superuser
        or consortium_permissions.ConsortiumAction.VIEW
        in consortium_permissions.consortium_rights(actor, export.consortium_id)
    )
    if export is None or not visible:
        raise NotVisibleError(
            "No agreements export matches the given query.",
            consortium_id=export.consortium_id if export else None,
            object_type="agreements.agreementexport",
            object_id=str(pk)[:64],
            action="view",
        )
    if not may_export(actor, export.consortium_id):
        raise AccessDeniedError(
            "Only the chair, legal people and auditors see the consortium's exports.",
            consortium_id=export.consortium_id,
            object_type="agreements.agreementexport",
            object_id=str(export.pk),
            action="view",
        )
    return export
