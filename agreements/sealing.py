"""Render, seal and validate the executed PDF of a version, then execute the agreement.

Keyed by the version's content hash and safe to run any number of times, concurrently or
after a worker died mid-render: each run writes its bytes under a name of its own, the one
transaction that marks the document sealed decides which file counts, and every other file of
that hash is removed. The agreement stays out for signature until a sealed file that passed
its own validation exists; a failure is recorded on the document for people to see and retry.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from agreements import permissions as policy
from agreements import services
from agreements.models import AgreementVersion, SignedDocument
from agreements.permissions import AgreementAction
from audit.models import Action
from audit.services import audit_record
from consortia.models import User

if TYPE_CHECKING:
    from agreements.pdf.completion import Completion

logger = logging.getLogger(__name__)

DIRECTORY = "agreements/executed"
# A run that has not finished in this long is presumed dead (its worker was killed).
STALE_AFTER = timedelta(minutes=10)
# A document still pending this long after the last signature lost its task (the broker was
# down at that moment, or lost the message); the sweep queues it again.
LOST_AFTER = timedelta(minutes=5)
# A redelivered task takes over a fresh run this many times at most: a document whose
# render kills its worker every time (say, out of memory) must not come back for ever.
MAX_TAKEOVERS = 3


class SealRejectedError(Exception):
    """The sealed file did not pass validation; it is never stored or served."""


def schedule(document: SignedDocument) -> None:
    from agreements.tasks import agreements_seal_executed

    document_id = document.pk
    transaction.on_commit(lambda: agreements_seal_executed.delay(document_id), robust=True)


def sweep() -> int:
    """Queue the sealing again for documents whose task was lost: pending for LOST_AFTER,
    or rendering in a run gone stale. Safe to run any number of times, beside live runs:
    the task claims the document first. Returns how many were queued."""
    from agreements.tasks import agreements_seal_executed

    now = timezone.now()
    lost = list(
        SignedDocument.objects.filter(
            Q(state=SignedDocument.State.PENDING, created_at__lt=now - LOST_AFTER)
            | Q(state=SignedDocument.State.RENDERING, started_at__lt=now - STALE_AFTER)
        ).values_list("pk", flat=True)
    )
    for document_id in lost:
        agreements_seal_executed.delay(document_id)
    return len(lost)


def completion_of(document: SignedDocument) -> Completion:
    from agreements.pdf.completion import Completion

    return Completion.from_json(document.completion)


def _claim(document_id: int, *, takeover: bool = False) -> bool:
    """One conditional UPDATE: a pending or failed document, or one whose run went stale.

    ``takeover``: the task's message was redelivered, which the broker does only when the
    worker that held it died (or the broker lost its acknowledgement), so a rendering run,
    however recent, is that dead worker's and is taken over at once rather than after
    STALE_AFTER. Were it alive after all, both runs would render and the sealing
    transaction would keep one file (``seal_executed``)."""
    now = timezone.now()
    claimable = Q(state__in=[SignedDocument.State.PENDING, SignedDocument.State.FAILED]) | Q(
        state=SignedDocument.State.RENDERING, started_at__lt=now - STALE_AFTER
    )
    if takeover:
        claimable |= Q(state=SignedDocument.State.RENDERING, attempts__lte=MAX_TAKEOVERS)
    return bool(
        SignedDocument.objects.filter(claimable, pk=document_id).update(
            state=SignedDocument.State.RENDERING,
            started_at=now,
            attempts=F("attempts") + 1,
            error="",
        )
    )


def _give_up_on_killed_runs(document_id: int) -> None:
    """Fail a document whose runs keep dying (each took the worker down with it), so that
    people see it and retry by hand instead of the broker redelivering it for ever."""
    SignedDocument.objects.filter(
        pk=document_id, state=SignedDocument.State.RENDERING, attempts__gt=MAX_TAKEOVERS
    ).update(
        state=SignedDocument.State.FAILED,
        error=f"The worker died during each of {MAX_TAKEOVERS + 1} attempts to render this "
        "document; retry it once the cause is fixed.",
    )


def produce(document: SignedDocument) -> bytes:
    """The sealed PDF, validated; raises SealRejectedError if validation fails."""
    from agreements.pdf.render import render_version
    from agreements.pdfsign.seal import seal
    from agreements.pdfsign.verify import verify

    version = AgreementVersion.objects.select_related(
        "agreement__consortium", "agreement__governing_law"
    ).get(pk=document.version_id)
    pdf = render_version(version, completion=completion_of(document))
    sealed = seal(
        pdf,
        reason=f"Executed: {version.agreement.title}, version {version.number}",
        location=version.agreement.consortium.name,
    )
    verdict = verify(sealed)
    if not verdict.valid:
        raise SealRejectedError(f"The sealed file did not validate: {verdict.summary}")
    return sealed


def seal_executed(*, document_id: int, redelivered: bool = False) -> bool:
    """Produce the executed PDF and execute the agreement. False when another run owns the
    document or it is already sealed. ``redelivered``: the broker handed this task over
    again because the worker that ran it died (``_claim``)."""
    if not _claim(document_id, takeover=redelivered):
        if redelivered:
            _give_up_on_killed_runs(document_id)
        return False
    document = SignedDocument.objects.get(pk=document_id)
    storage = storages["default"]
    try:
        sealed = produce(document)
        name = storage.save(
            f"{DIRECTORY}/{document.content_hash}-{uuid.uuid4().hex[:12]}.pdf", ContentFile(sealed)
        )
        with transaction.atomic():
            document = SignedDocument.objects.select_for_update().get(pk=document_id)
            if document.state == SignedDocument.State.SEALED:
                storage.delete(name)
                return False
            _record_sealed(document, name, sealed)
    except Exception as error:
        logger.exception("sealing document %s failed", document_id)
        SignedDocument.objects.filter(pk=document_id).exclude(
            state=SignedDocument.State.SEALED
        ).update(state=SignedDocument.State.FAILED, error=str(error)[:2000])
        raise
    _remove_strays(storage, document.content_hash, keep=name)
    return True


def _record_sealed(document: SignedDocument, name: str, sealed: bytes) -> None:
    version = AgreementVersion.objects.select_related("agreement").get(pk=document.version_id)
    document.state = SignedDocument.State.SEALED
    document.file_name = name
    document.sha256 = hashlib.sha256(sealed).hexdigest()
    document.size = len(sealed)
    document.sealed_at = timezone.now()
    document.error = ""
    document.save()
    services.agreement_record_execution(
        actor=None,
        agreement=version.agreement,
        executed_at=datetime.datetime.fromisoformat(document.completion["executed_at"]),
    )
    audit_record(
        action=Action.CREATE,
        actor=None,
        consortium_id=version.agreement.consortium_id,
        target=document,
        related=version.agreement,
        changes={
            "sha256": {"before": None, "after": document.sha256},
            "content_hash": {"before": None, "after": document.content_hash},
            "size": {"before": None, "after": document.size},
        },
    )


def _remove_strays(storage: object, content_hash: str, *, keep: str) -> None:
    """Files of this hash other than the sealed one: from runs that lost the race or died
    between writing and committing."""
    try:
        _, files = storage.listdir(DIRECTORY)  # type: ignore[attr-defined]
    except (FileNotFoundError, NotImplementedError):
        return
    for file_name in files:
        path = f"{DIRECTORY}/{file_name}"
        if file_name.startswith(f"{content_hash}-") and path != keep:
            storage.delete(path)  # type: ignore[attr-defined]


@transaction.atomic
def retry(*, actor: User, version: AgreementVersion) -> SignedDocument:
    """Queue a failed (or stuck) sealing again."""
    policy.require(actor, AgreementAction.MANAGE, version)
    document = SignedDocument.objects.select_for_update().filter(version=version).first()
    if document is None:
        raise ValidationError("Not every party has signed this version yet.")
    if document.state == SignedDocument.State.SEALED:
        raise ValidationError("This version is already sealed.")
    stuck = document.state == SignedDocument.State.RENDERING and (
        document.started_at is None or document.started_at < timezone.now() - STALE_AFTER
    )
    if document.state == SignedDocument.State.RENDERING and not stuck:
        raise ValidationError("The document is being rendered right now.")
    document.state = SignedDocument.State.PENDING
    document.error = ""
    document.save(update_fields=["state", "error"])
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        consortium_id=version.agreement.consortium_id,
        target=document,
        related=version.agreement,
        changes={"state": {"before": "failed", "after": "pending"}},
        reason="Sealing retried",
    )
    schedule(document)
    return document


def open_sealed(document: SignedDocument) -> bytes:
    """The sealed file's bytes, refused if they are not the bytes that were recorded."""
    if document.state != SignedDocument.State.SEALED:
        raise ValidationError("The executed PDF is not ready.")
    with storages["default"].open(document.file_name, "rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != document.sha256:
        raise SealRejectedError("The stored executed PDF does not match its recorded hash.")
    return bytes(data)
